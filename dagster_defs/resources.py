"""Resources: the DuckDB file, where the input files are, where exports go, and the settings.

Nothing is created at import: a resource field left empty is resolved when a step uses it,
from the run file (attribution.runfile), its environment variable (ATTRIBUTION_DUCKDB,
ATTRIBUTION_TOUCHPOINTS, ...), else the default (the bundled sample only when no input is
named). The settings' defaults are AttributionConfig's (one place).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from attribution.config import AttributionConfig
from attribution.contracts import SourcePaths
from attribution.locking import writer_lock
from attribution.runfile import INPUTS, RunSpec, resolve_run, setting_fields

__all__ = [
    "AttributionDuckDB",
    "AttributionSettings",
    "ExportTarget",
    "SourceFiles",
    "settings_of",
]


def _spec(
    overrides: dict[str, Any] | None = None, sample_settings: bool = True, check_inputs: bool = True
) -> RunSpec:
    """The run resolved now: run file ($ATTRIBUTION_RUN_FILE or ./attribution.toml), the
    environment and `overrides` (None values: not given)."""
    return resolve_run(overrides=overrides, sample_settings=sample_settings, check_inputs=check_inputs)


class SourceFiles(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Input files: a path or glob per source; unset = the run file's, else
    ATTRIBUTION_TOUCHPOINTS / _OPPORTUNITIES / _FX_RATES / _MILESTONES / _SPEND, else the
    bundled sample when no input is named at all. An empty fx rates, milestones or spend path:
    no such file."""

    touchpoints: str | None = None
    opportunities: str | None = None
    fx_rates: str | None = None
    milestones: str | None = None
    spend: str | None = None
    # a folder of CRM object exports (source_format salesforce_objects / hubspot_objects),
    # web events with UTMs, contact roles of contract-format inputs
    objects: str | None = None
    web_events: str | None = None
    contact_roles: str | None = None
    # every change of a deal (Salesforce OpportunityHistory): the stage funnel
    opportunity_history: str | None = None
    # pre-registered holdout experiments and their units' arms
    experiments: str | None = None
    experiment_assignments: str | None = None

    def spec(self) -> RunSpec:
        """The run these inputs belong to (inputs set here win; which inputs the source format
        needs is checked by the load, which knows the settings: attribution.pipeline.load_inputs)."""
        return _spec({name: getattr(self, name) for name in INPUTS}, check_inputs=False)

    def paths(self) -> SourcePaths:
        return self.spec().sources


class AttributionSettings(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Every setting (AttributionConfig's flat names: interval_replicates for its
    intervals.replicates), editable in the launchpad; weights are maps of name to weight. Unset (null) = the run
    file's value, else the environment's, else AttributionConfig's default (DESIGN §1); the
    definitions fill them with the resolved values so the launchpad shows what a run uses.
    models: the models to run (empty = all). as_of: empty = the run's start (one as-of for
    every step of a run); a plain date = the end of that day. column_preset and mapping_file
    stand for AttributionConfig.mapping."""

    lookback_days: int | None = None
    time_decay_half_life_days: float | None = None
    markov_order: int | None = None
    collapse_repeats: bool | None = None
    merge_repeated_channels: list[str] | None = None
    markov_max_channels: int | None = None
    reporting_currency: str | None = None
    as_of: str | None = None
    fx_base_currency: str | None = None
    fx_max_age_days: int | None = None
    company_timezone: str | None = None
    models: list[str] | None = None
    calibrated_models: list[str] | None = None
    position_based_weights: dict[str, float] | None = None
    lead_touch_types: list[str] | None = None
    w_shaped_weights: dict[str, float] | None = None
    full_path_weights: dict[str, float] | None = None
    custom_weights: dict[str, float] | None = None
    sourced_by: str | None = None
    fiscal_year_start_month: int | None = None
    excluded_touch_types: list[str] | None = None
    excluded_channels: list[str] | None = None
    touch_type_weights: dict[str, float] | None = None
    segment_columns: list[str] | None = None
    interval_replicates: int | None = None
    interval_level: float | None = None
    interval_seed: int | None = None
    csv_encoding: str | None = None
    snapshot_retention_days: int | None = None
    included_opportunity_types: list[str] | None = None
    excluded_opportunity_types: list[str] | None = None
    source_format: str | None = None
    engine: str | None = None
    channel_rules: str | None = None
    include_sales_activities: bool | None = None
    journey_scope: str | None = None
    stage_order: list[str] | None = None
    qualified_stage: str | None = None
    qualified_milestone: str | None = None
    journey_kinds: list[str] | None = None
    lead_funnel_milestones: list[str] | None = None
    deal_motion_labels: dict[str, str] | None = None
    column_preset: str | None = None
    mapping_file: str | None = None

    def spec(self) -> RunSpec:
        """The run with these settings (set ones win over the run file and the environment).
        An unset one never takes the sample's value: this resource does not know the inputs
        (the definitions set the sample's settings when the sample runs)."""
        names = [*setting_fields(), "column_preset", "mapping_file"]
        return _spec(
            {name: getattr(self, name, None) for name in names}, sample_settings=False, check_inputs=False
        )

    def to_config(self, context: Any = None) -> AttributionConfig:
        """The library's frozen config. Within a run (`context`: an asset's or check's), one
        moment for every step: the run's creation time is its run_started_at and, when as_of is
        unset, its as-of (else each step took its own "now": ingest, the null paths' censoring
        and the snapshot of one run disagreed)."""
        spec = self.spec()
        moment = run_moment(context) if context is not None else None
        if moment is None:
            return spec.config()
        overrides: dict[str, Any] = {"run_started_at": moment}
        if spec.settings.get("as_of") is None:
            overrides["as_of"] = moment
        return spec.config(**overrides)


def run_moment(context: Any) -> datetime | None:
    """The creation time of the run `context` belongs to (UTC, whole seconds, naive like the
    config's times); None outside a stored run."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is None or record.create_timestamp is None:
        return None
    created: datetime = record.create_timestamp.astimezone(UTC)
    return created.replace(tzinfo=None, microsecond=0)


def settings_of(spec: RunSpec) -> AttributionSettings:
    """The settings resource holding a resolved run's values (what the launchpad shows)."""
    config = spec.config()
    values: dict[str, Any] = {}
    for name in setting_fields():
        if name == "as_of":
            value = spec.settings.get("as_of")
            values[name] = value.isoformat() if isinstance(value, datetime) else value
            continue
        value = config.setting(name)
        values[name] = (
            list(value) if isinstance(value, tuple) else dict(value) if isinstance(value, dict) else value
        )
    return AttributionSettings(
        **values,
        column_preset=spec.mapping.preset,
        mapping_file=spec.mapping.file if spec.mapping.file != spec.run_file else None,
    )


class ExportTarget(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the exports go; empty = the run file's, else ATTRIBUTION_EXPORT_DIR, else
    data/exports."""

    directory: str | None = None

    def path(self) -> str:
        return self.directory or _spec().export_dir


class AttributionDuckDB(DuckDBResource):
    """dagster-duckdb's resource, holding the file's writer lock while a step uses it.

    DuckDB allows one writing process per file. With this lock, steps of parallel runs or of
    the multiprocess executor wait their turn (up to `lock_timeout_seconds`, then fail with a
    message that another run is writing) instead of failing on DuckDB's own file lock.
    """

    database: str | None = Field(  # type: ignore[assignment]
        default=None,
        description="DuckDB file; unset = the run file's, else ATTRIBUTION_DUCKDB, else data/attribution.duckdb",
    )
    lock_timeout_seconds: float = 600.0

    def path(self) -> str:
        return self.database or _spec().database

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with writer_lock(path, self.lock_timeout_seconds):
            conn = duckdb.connect(path, config={"custom_user_agent": "dagster", **self.connection_config})
            try:
                yield conn
            finally:
                conn.close()
