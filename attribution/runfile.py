"""The run file: one TOML file a user keeps in version control that names a pipeline's inputs,
column mapping, outputs and settings, read the same way by `make run`, `attribution-run` and
the Dagster definitions (`python -m attribution.run_summary` says what a run reads and writes).

Where it is: the `--run-file` flag, else ``ATTRIBUTION_RUN_FILE``, else ``attribution.toml``
in the working directory when there is one. Each value is resolved, lowest first, from:
the default; the bundled sample's (only when no input is named at all); the run file; its
``ATTRIBUTION_*`` environment variable; an explicit flag or launchpad value. A user's run
never takes the sample's optional inputs (fx rates, milestones, spend) or its settings
(segment columns): once touchpoints or opportunities are named, every input not named is
absent. Relative paths in the run file are relative to the run file's folder.

A run file looks like::

    [inputs]
    touchpoints = "exports/touches/*.csv"
    opportunities = "exports/Opportunity.csv"
    fx_rates = "exports/fx_rates.csv"      # optional, as are milestones and spend

    [outputs]
    database = "attribution.duckdb"
    export_dir = "exports/attribution"

    [mapping]                              # a column preset, a mapping file, or entries
    preset = "salesforce"
    [mapping.columns.opportunities]
    amount = "ARR__c"
    [mapping.stages]
    "Closed Won - Paid" = "closed_won"

    [settings]                             # any setting of AttributionConfig
    lookback_days = 60
    segment_columns = ["Region"]
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, get_args, get_origin

from attribution.config import AttributionConfig, parse_as_of, setting_types, split_names
from attribution.contracts import SourcePaths
from attribution.mapping import MappingError, SourceMapping, load_mapping, mapping_entries

__all__ = [
    "DEFAULT_RUN_FILE",
    "INPUTS",
    "OUTPUTS",
    "RUN_FILE_VARIABLE",
    "SAMPLE_INPUTS",
    "SAMPLE_SETTINGS",
    "RunFileError",
    "RunSpec",
    "find_run_file",
    "resolve_run",
    "setting_fields",
]

RUN_FILE_VARIABLE = "ATTRIBUTION_RUN_FILE"
DEFAULT_RUN_FILE = "attribution.toml"

# input -> its environment variable
INPUTS: dict[str, str] = {
    "touchpoints": "ATTRIBUTION_TOUCHPOINTS",
    "opportunities": "ATTRIBUTION_OPPORTUNITIES",
    "fx_rates": "ATTRIBUTION_FX_RATES",
    "milestones": "ATTRIBUTION_MILESTONES",
    "spend": "ATTRIBUTION_SPEND",
    "objects": "ATTRIBUTION_OBJECTS",
    "web_events": "ATTRIBUTION_WEB_EVENTS",
    "contact_roles": "ATTRIBUTION_CONTACT_ROLES",
    "opportunity_history": "ATTRIBUTION_OPPORTUNITY_HISTORY",
    "experiments": "ATTRIBUTION_EXPERIMENTS",
    "experiment_assignments": "ATTRIBUTION_EXPERIMENT_ASSIGNMENTS",
}
# output -> (its environment variable, default)
OUTPUTS: dict[str, tuple[str, str]] = {
    "database": ("ATTRIBUTION_DUCKDB", "data/attribution.duckdb"),
    "export_dir": ("ATTRIBUTION_EXPORT_DIR", "data/exports"),
}
# the bundled sample (`make sample`): what runs when no input is named, and only then
SAMPLE_INPUTS: dict[str, str] = {
    "touchpoints": "data/sample/touchpoints/*.csv",
    "opportunities": "data/sample/opportunities/*.csv",
    "fx_rates": "data/sample/fx_rates.csv",
    "milestones": "data/sample/milestones.csv",
    "spend": "data/sample/spend.csv",
    "opportunity_history": "data/sample/opportunity_history.csv",
    "experiments": "data/sample/experiments.csv",
    "experiment_assignments": "data/sample/experiment_assignments.csv",
}
# the sample's settings: its segment columns, and MQLs as a journey kind every model runs on
SAMPLE_SETTINGS: dict[str, Any] = {
    "segment_columns": ("segment", "region", "type"),
    "journey_kinds": ("pipeline", "revenue", "qualified", "mql"),
}
# settings with an environment variable of their own (comma-separated lists)
SETTING_VARIABLES: dict[str, str] = {
    "segment_columns": "ATTRIBUTION_SEGMENT_COLUMNS",
    "engine": "ATTRIBUTION_ENGINE",
}


class RunFileError(ValueError):
    """A run file that cannot be used (the message names the file and what is wrong)."""


def setting_fields() -> dict[str, Any]:
    """The settings a run file's [settings] may set -> their types (flat names: a group's
    members too, e.g. interval_replicates for the config's intervals.replicates)."""
    return setting_types()


def find_run_file(
    explicit: str | Path | None = None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """The run file in use: `explicit`, else $ATTRIBUTION_RUN_FILE, else ./attribution.toml
    if it exists, else none; a named file that does not exist is an error."""
    env = os.environ if environ is None else environ
    named = str(explicit) if explicit else env.get(RUN_FILE_VARIABLE, "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise RunFileError(f"{named}: run file not found")
        return path
    candidate = (cwd or Path.cwd()) / DEFAULT_RUN_FILE
    return candidate if candidate.is_file() else None


@dataclass(frozen=True)
class RunSpec:
    """Everything one run reads and writes, resolved once: where each value came from in
    `origins` (default, sample, run file, environment, override)."""

    sources: SourcePaths
    database: str
    export_dir: str
    settings: Mapping[str, Any]  # checked values: as_of a datetime when set
    mapping: SourceMapping
    run_file: str | None = None
    run_file_sha256: str | None = None
    is_sample: bool = False
    origins: Mapping[str, str] = field(default_factory=dict)

    def config(self, **overrides: Any) -> AttributionConfig:
        """The library's frozen config of this run (`overrides` win, e.g. run_started_at)."""
        return AttributionConfig.from_settings({**self.settings, **overrides}, mapping=self.mapping)

    def describe(self) -> dict[str, Any]:
        """The run's inputs, outputs, run file and origins as JSON-ready values (the manifest
        and the Dagster metadata show them)."""
        return {
            "run_file": self.run_file,
            "run_file_sha256": self.run_file_sha256,
            "is_sample": self.is_sample,
            "inputs": {name: getattr(self.sources, name) for name in INPUTS},
            "database": self.database,
            "export_dir": self.export_dir,
            "column_preset": self.mapping.preset,
            "mapping_file": self.mapping.file,
            "origins": dict(self.origins),
        }


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path}: not a valid TOML file: {exc}") from exc


def _table(data: Mapping[str, Any], key: str, where: Path) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise RunFileError(f"{where}: [{key}] must be a table")
    return value


def _relative(value: Any, base: Path, where: str) -> str:
    """A path or glob of the run file, relative to its folder ('' stays empty: no such input)."""
    if not isinstance(value, str):
        raise RunFileError(f"{where} must be a path or a glob (a string)")
    if not value or Path(value).is_absolute():
        return value
    return str(base / value)


def _setting(name: str, kind: Any, value: Any, where: str) -> Any:
    """A [settings] value checked against its field's type (lists for tuples)."""
    if name == "as_of":
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(23, 59, 59, 999999))
        if isinstance(value, str):
            try:
                return parse_as_of(value) if value.strip() else None
            except ValueError as exc:
                raise RunFileError(f"{where}: {exc}") from exc
        raise RunFileError(f"{where} must be a date or an ISO timestamp")
    if get_origin(kind) is Mapping:  # a table; 'name=value' entries (a list or one text) too
        if not isinstance(value, Mapping | list | tuple | str):
            raise RunFileError(f"{where} must be a table of name = value")
        return value  # the config checks the names and values
    if get_origin(kind) is tuple:
        element = get_args(kind)[0]
        items = split_names(value) if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise RunFileError(f"{where} must be a list")
        try:
            return tuple(element(v) for v in items)
        except (TypeError, ValueError) as exc:
            raise RunFileError(f"{where}: every item must be a {element.__name__}") from exc
    if kind is bool:
        if not isinstance(value, bool):
            raise RunFileError(f"{where} must be true or false")
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RunFileError(f"{where} must be a {kind.__name__}, got {value!r}")
    return value


def _check_keys(table: Mapping[str, Any], allowed: Any, where: str) -> None:
    unknown = [key for key in table if key not in allowed]
    if unknown:
        raise RunFileError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; use {', '.join(sorted(allowed))}"
        )


@dataclass
class _Resolution:
    """One value after another, lowest first: the run file's, its environment variable's, an
    override's; where each came from in `origins`."""

    env: Mapping[str, str]
    given: Mapping[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def take(self, name: str, file_value: Any, variable: str | None) -> None:
        if name in self.given:
            self.values[name], self.origins[name] = self.given[name], "override"
        elif variable and variable in self.env:
            self.values[name], self.origins[name] = self.env[variable], f"environment {variable}"
        elif file_value is not None:
            self.values[name], self.origins[name] = file_value, "run file"


def _resolve_paths(run: _Resolution, data: Mapping[str, Any], base: Path, where: Path) -> bool:
    """The inputs and outputs (relative paths of the run file from its folder); whether the
    sample runs (no input named at all: then its inputs, and only then)."""
    inputs = _table(data, "inputs", where)
    _check_keys(inputs, INPUTS, f"{where}: [inputs]")
    for name, variable in INPUTS.items():
        raw = inputs.get(name)
        run.take(name, None if raw is None else _relative(raw, base, f"{where}: inputs.{name}"), variable)
    is_sample = not any(run.values.get(name) for name in INPUTS)
    for name in INPUTS:
        if name in run.values:
            run.values[name] = run.values[name] or None  # given empty: no such input
        elif is_sample and name in SAMPLE_INPUTS:
            run.values[name], run.origins[name] = SAMPLE_INPUTS[name], "sample"
        else:
            run.values[name], run.origins[name] = None, "not given"
    outputs = _table(data, "outputs", where)
    _check_keys(outputs, OUTPUTS, f"{where}: [outputs]")
    for name, (variable, default) in OUTPUTS.items():
        raw = outputs.get(name)
        run.take(name, None if raw is None else _relative(raw, base, f"{where}: outputs.{name}"), variable)
        if not run.values.get(name):
            run.values[name], run.origins[name] = default, "default"
    return is_sample


def _resolve_mapping(
    run: _Resolution, data: Mapping[str, Any], base: Path, where: Path, path: Path | None
) -> SourceMapping:
    """The column mapping: a preset, a mapping file, and the run file's own entries (which win)."""
    mapping_table = _table(data, "mapping", where)
    _check_keys(mapping_table, ("preset", "file", "columns", "stages"), f"{where}: [mapping]")
    file_value = mapping_table.get("file")
    run.take("column_preset", mapping_table.get("preset"), "ATTRIBUTION_COLUMN_PRESET")
    run.take(
        "mapping_file",
        None if file_value is None else _relative(file_value, base, f"{where}: mapping.file"),
        "ATTRIBUTION_MAPPING",
    )
    try:
        mapping = load_mapping(
            run.values.get("mapping_file") or None, run.values.get("column_preset") or None
        )
        columns, stages = mapping_entries(mapping_table, f"{where}: [mapping]")
    except MappingError as exc:
        raise RunFileError(str(exc)) from exc
    if columns or stages:  # the run file's own entries win over the mapping file's
        mapping = SourceMapping(
            preset=mapping.preset,
            columns=(*columns, *mapping.columns),
            stages=(*mapping.stages, *stages),
            file=mapping.file or str(path),
        )
    return mapping


def _resolve_settings(
    run: _Resolution, data: Mapping[str, Any], base: Path, where: Path, sample: bool
) -> dict[str, Any]:
    """The settings, each checked against its type; the sample's settings when `sample`."""
    kinds = setting_fields()
    settings_table = _table(data, "settings", where)
    _check_keys(settings_table, kinds, f"{where}: [settings]")
    settings: dict[str, Any] = {}
    for name, kind in kinds.items():
        raw = settings_table.get(name)
        file_value = None if raw is None else _setting(name, kind, raw, f"{where}: settings.{name}")
        run.take(name, file_value, SETTING_VARIABLES.get(name))
        if name in run.values:
            value = run.values[name]
            if run.origins[name] != "run file":  # a flag, launchpad or environment value: checked here
                value = _setting(name, kind, value, f"{run.origins[name]} ({name})")
            if value is not None:
                settings[name] = value
        elif sample and name in SAMPLE_SETTINGS:
            settings[name], run.origins[name] = SAMPLE_SETTINGS[name], "sample"
    if settings.get("channel_rules") and run.origins.get("channel_rules") == "run file":
        settings["channel_rules"] = _relative(
            settings["channel_rules"], base, f"{where}: settings.channel_rules"
        )
    return settings


def _check_named_inputs(values: Mapping[str, Any], source_format: str) -> None:
    """A user's run names what its source format reads: touchpoints and opportunities, or a
    folder of object exports; the sample's files are never mixed into it."""
    named = [name for name in INPUTS if values.get(name)]
    if source_format == "contract":
        missing = [name for name in ("touchpoints", "opportunities") if not values.get(name)]
        if missing:
            hint = (
                "; a folder of CRM object exports (objects) needs source_format salesforce_objects "
                "or hubspot_objects"
                if values.get("objects")
                else ""
            )
            raise RunFileError(
                f"no {' or '.join(missing)} input named while {', '.join(named)} is: a run on your data "
                f"names both (run file [inputs], or {', '.join(INPUTS[m] for m in missing)}); the "
                f"sample's files are never mixed into it{hint}"
            )
    elif not values.get("objects"):
        raise RunFileError(
            f"source_format {source_format} reads a folder of object exports: name it as the objects "
            "input (run file [inputs] objects, --objects, ATTRIBUTION_OBJECTS)"
        )


def resolve_run(
    run_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sample_settings: bool = True,
    check_inputs: bool = True,
) -> RunSpec:
    """Resolve a run: inputs, outputs, mapping and settings from the defaults, the sample (when
    no input is named), the run file, the environment and `overrides` (input, output and
    setting names, plus column_preset and mapping_file; None = not given), in that order.
    `sample_settings=False`: never the sample's settings (a caller that resolves settings
    apart from the inputs, which alone say whether the sample runs). `check_inputs=False`: a
    caller that holds the inputs apart from the settings (the Dagster resources); the load
    checks them then (attribution.pipeline.load_inputs)."""
    env = os.environ if environ is None else environ
    run = _Resolution(env, {k: v for k, v in (overrides or {}).items() if v is not None})
    path = find_run_file(run_file, env, cwd)
    data = _read(path) if path else {}
    base = path.parent if path else Path()
    where = path or Path("run file")
    _check_keys(data, ("inputs", "outputs", "mapping", "settings"), str(where))
    is_sample = _resolve_paths(run, data, base, where)
    mapping = _resolve_mapping(run, data, base, where, path)
    settings = _resolve_settings(run, data, base, where, is_sample and sample_settings)
    if check_inputs:
        _check_named_inputs(run.values, settings.get("source_format", "contract"))
    return RunSpec(
        sources=SourcePaths(*(run.values[name] for name in INPUTS)),
        database=str(run.values["database"]),
        export_dir=str(run.values["export_dir"]),
        settings=settings,
        mapping=mapping,
        run_file=str(path) if path else None,
        run_file_sha256=hashlib.sha256(path.read_bytes()).hexdigest() if path else None,
        is_sample=is_sample,
        origins=run.origins,
    )
