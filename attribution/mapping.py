"""How a CRM export maps onto the contract: column names (with Salesforce / HubSpot presets)
and stage labels (with the CRMs' default labels), optionally from a TOML file.

A mapping file (``ATTRIBUTION_MAPPING``) looks like::

    preset = "salesforce"                 # or "hubspot", or "none"

    [columns.opportunities]               # contract column = source column
    amount = "Amount (converted)"

    [columns.touchpoints]
    channel = "Channel__c"

    [stages]                              # raw label = open | closed_won | closed_lost
    "Closed Won - Paid" = "closed_won"
    "Disqualified" = "closed_lost"

Column names and labels match case-, space- and punctuation-insensitively. A stage label
that no map knows is an open stage (as in Salesforce, where every stage before the close
is open).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attribution.contracts import SOURCES

__all__ = [
    "DEFAULT_STAGE_LABELS",
    "PRESETS",
    "STAGES",
    "STAGE_ORDERS",
    "MappingError",
    "SourceMapping",
    "column_key",
    "default_qualified_stage",
    "default_stage_order",
    "load_mapping",
    "mapping_entries",
]

STAGES: tuple[str, ...] = ("open", "closed_won", "closed_lost")

PRESET_DIR = Path(__file__).resolve().parent / "presets"


def _load_presets() -> dict[str, dict[str, Any]]:
    """Every column preset: a TOML file of attribution/presets/ (its name the file's stem) with
    `[columns.<source>]` (contract column = the names a CRM's export gives it) and `[stages]`
    (the CRM's default stage labels) and `qualified_stage`; `none` is the contract's own names."""
    presets: dict[str, dict[str, Any]] = {"none": {"columns": {}, "stages": {}, "qualified_stage": ""}}
    for path in sorted(PRESET_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        presets[path.stem] = {
            "columns": {
                source: {column: tuple(names) for column, names in columns.items()}
                for source, columns in data.get("columns", {}).items()
            },
            "stages": dict(data.get("stages", {})),
            "qualified_stage": data.get("qualified_stage", ""),
        }
    return presets


_PRESET_FILES = _load_presets()
# contract column -> the names a CRM's export gives it, per source
PRESETS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    name: preset["columns"] for name, preset in _PRESET_FILES.items()
}

# each CRM's default stage sequence: its preset's open stage labels in file order, then closed
# won (closed lost ends a deal without being a step of the funnel)
STAGE_ORDERS: dict[str, tuple[str, ...]] = {
    name: tuple(label for label, stage in preset["stages"].items() if stage != "closed_lost")
    for name, preset in _PRESET_FILES.items()
    if preset["stages"]
}
# the sequence of a run without a column preset (Salesforce's, the most common)
DEFAULT_STAGE_ORDER_PRESET = "salesforce"


def default_stage_order(preset: str) -> tuple[str, ...]:
    """The funnel's stage labels in order for a column preset: its CRM's sequence, else
    Salesforce's."""
    return STAGE_ORDERS.get(preset) or STAGE_ORDERS[DEFAULT_STAGE_ORDER_PRESET]


def default_qualified_stage(preset: str, funnel: tuple[str, ...]) -> str:
    """The stage that qualifies a deal when the setting qualified_stage is empty: the column
    preset's (else Salesforce's) when `funnel` holds it, else the funnel's second stage (the
    first after the one deals are created in)."""
    for name in (preset, DEFAULT_STAGE_ORDER_PRESET):
        label = _PRESET_FILES.get(name, {}).get("qualified_stage", "")
        if label and column_key(label) in {column_key(stage) for stage in funnel}:
            return next(stage for stage in funnel if column_key(stage) == column_key(label))
    return funnel[1] if len(funnel) > 1 else funnel[0]


# names every preset accepts (a plain export's `type` column is the opportunity type)
COMMON_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunities": {
        "opportunity_type": ("type",),
        # "How did you hear about us?" on the deal (a custom field in either CRM)
        "self_reported_source": (
            "How_did_you_hear_about_us__c",
            "Self_Reported_Source__c",
            "How did you hear about us?",
            "How did you hear about us",
            "Self-Reported Source",
            "how_did_you_hear_about_us",
        ),
    },
    "spend": {"date": ("spend_date", "day", "month"), "amount": ("spend", "cost")},
}

# The stage labels every run knows: the contract's own and every preset's CRM defaults (matched
# by column_key); any other non-empty label is open.
DEFAULT_STAGE_LABELS: dict[str, str] = {
    "open": "open",
    "closed_won": "closed_won",
    "closed_lost": "closed_lost",
    "won": "closed_won",
    "lost": "closed_lost",
    **{label: stage for preset in _PRESET_FILES.values() for label, stage in preset["stages"].items()},
}


class MappingError(ValueError):
    """A mapping file or setting that cannot be used (the message names it and what is wrong)."""


def column_key(name: str) -> str:
    """The form names are matched in: lower case, letters and digits only (BOM and spaces go).

    The same rule as the SQL `regexp_replace(lower(x), '[^\\pL\\pN]', '', 'g')` used for
    stage labels in sql/staging/stg_opportunities.sql.
    """
    return re.sub(r"[\W_]+", "", name.lower())


@dataclass(frozen=True)
class SourceMapping:
    """Column renames and stage labels: a preset plus the user's own entries (which win)."""

    preset: str = "none"
    columns: tuple[tuple[str, str, str], ...] = ()  # (source, contract column, source column)
    stages: tuple[tuple[str, str], ...] = ()  # (raw label, stage)
    file: str | None = None  # the TOML file it was read from, for messages and the manifest

    def __post_init__(self) -> None:
        where = f"{self.file}: " if self.file else ""
        if self.preset not in PRESETS:
            raise MappingError(
                f"{where}unknown column preset {self.preset!r}; choose one of {', '.join(PRESETS)}"
            )
        for label, stage in self.stages:
            if stage not in STAGES:
                raise MappingError(
                    f"{where}stage label {label!r} maps to {stage!r}; use one of {', '.join(STAGES)}"
                )

    def aliases(self, source: str, column: str) -> tuple[str, ...]:
        """The names `column` of `source` may have in a file, most specific first."""
        own = tuple(name for src, col, name in self.columns if src == source and col == column)
        preset = PRESETS[self.preset].get(source, {}).get(column, ())
        common = COMMON_ALIASES.get(source, {}).get(column, ())
        return (*own, column, *preset, *common)

    def stage_labels(self) -> dict[str, str]:
        """Raw label -> stage: the CRMs' defaults overlaid with the user's labels."""
        return {**DEFAULT_STAGE_LABELS, **dict(self.stages)}


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise MappingError(f"{where}: [{key}] must be a table")
    return value


def mapping_entries(
    data: Mapping[str, Any], where: str
) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str], ...]]:
    """The column renames ([columns.<source>]: contract column = source column) and stage
    labels ([stages]) of a mapping table, checked; a clear error naming `where` otherwise."""
    columns: list[tuple[str, str, str]] = []
    for source, renames in _table(data, "columns", where).items():
        if source not in SOURCES:
            raise MappingError(
                f"{where}: [columns.{source}]: unknown source; use one of {', '.join(SOURCES)}"
            )
        if not isinstance(renames, Mapping):
            raise MappingError(f"{where}: [columns.{source}] must be a table")
        for column, name in renames.items():
            if column not in SOURCES[source].columns:
                raise MappingError(
                    f"{where}: columns.{source}.{column}: not a column of {source}; use one of "
                    f"{', '.join(SOURCES[source].columns)}"
                )
            if not isinstance(name, str):
                raise MappingError(f"{where}: columns.{source}.{column} must be a column name")
            columns.append((source, column, name))
    stages: list[tuple[str, str]] = []
    for label, stage in _table(data, "stages", where).items():
        stages.append((str(label), str(stage)))
    return tuple(columns), tuple(stages)


def load_mapping(path: str | Path | None = None, preset: str | None = None) -> SourceMapping:
    """Read a mapping TOML file (optional) and apply a preset name (optional; the file's
    `preset` wins over nothing, the argument wins over the file)."""
    if not path:
        return SourceMapping(preset=preset or "none")
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"{where}: mapping file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{where}: not a valid TOML file: {exc}") from exc
    columns, stages = mapping_entries(data, where)
    return SourceMapping(
        preset=preset or str(data.get("preset", "none")),
        columns=columns,
        stages=stages,
        file=where,
    )
