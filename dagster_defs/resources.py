"""Resources: the DuckDB file, where the input files are, where exports go, and the settings.

Nothing happens at import: a resource field left empty is resolved when a step uses it, from
its environment variable (ATTRIBUTION_DUCKDB, ATTRIBUTION_TOUCHPOINTS, ...), else the
bundled sample's default. The settings' defaults are AttributionConfig's (one place).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from attribution.config import AttributionConfig, env_setting, parse_as_of, split_names
from attribution.locking import writer_lock
from attribution.mapping import load_mapping
from attribution.pipeline import SourcePaths

__all__ = [
    "AttributionDuckDB",
    "AttributionSettings",
    "ExportTarget",
    "SourceFiles",
]


class SourceFiles(dg.ConfigurableResource):
    """Input files: a path or glob per source; unset = ATTRIBUTION_TOUCHPOINTS /
    _OPPORTUNITIES / _FX_RATES / _MILESTONES / _SPEND, else the bundled sample. An empty fx
    rates, milestones or spend path: no such file."""

    touchpoints: str | None = None
    opportunities: str | None = None
    fx_rates: str | None = None
    milestones: str | None = None
    spend: str | None = None

    def paths(self) -> SourcePaths:
        return SourcePaths(
            touchpoints=env_setting("ATTRIBUTION_TOUCHPOINTS", self.touchpoints),
            opportunities=env_setting("ATTRIBUTION_OPPORTUNITIES", self.opportunities),
            fx_rates=env_setting("ATTRIBUTION_FX_RATES", self.fx_rates) or None,
            milestones=env_setting("ATTRIBUTION_MILESTONES", self.milestones) or None,
            spend=env_setting("ATTRIBUTION_SPEND", self.spend) or None,
        )


_CONFIG_DEFAULTS = AttributionConfig()


class AttributionSettings(dg.ConfigurableResource):
    """Every AttributionConfig parameter, editable in the launchpad, with its defaults (DESIGN
    §1). models: the models to run (empty = all). as_of: empty = now; a plain date = the end
    of that day. column_preset and
    mapping_file stand for AttributionConfig.mapping (empty = ATTRIBUTION_COLUMN_PRESET /
    ATTRIBUTION_MAPPING)."""

    lookback_days: int = _CONFIG_DEFAULTS.lookback_days
    time_decay_half_life_days: float = _CONFIG_DEFAULTS.time_decay_half_life_days
    markov_order: int = _CONFIG_DEFAULTS.markov_order
    collapse_repeats: bool = _CONFIG_DEFAULTS.collapse_repeats
    reporting_currency: str = _CONFIG_DEFAULTS.reporting_currency
    as_of: str | None = None
    fx_base_currency: str = _CONFIG_DEFAULTS.fx_base_currency
    fx_max_age_days: int = _CONFIG_DEFAULTS.fx_max_age_days
    company_timezone: str = _CONFIG_DEFAULTS.company_timezone
    models: list[str] = Field(default_factory=lambda: list(_CONFIG_DEFAULTS.models))
    position_based_weights: list[float] = Field(
        default_factory=lambda: list(_CONFIG_DEFAULTS.position_based_weights)
    )
    lead_touch_types: list[str] = Field(default_factory=lambda: list(_CONFIG_DEFAULTS.lead_touch_types))
    w_shaped_weights: list[float] = Field(default_factory=lambda: list(_CONFIG_DEFAULTS.w_shaped_weights))
    full_path_weights: list[float] = Field(default_factory=lambda: list(_CONFIG_DEFAULTS.full_path_weights))
    custom_weights: list[str] = Field(default_factory=lambda: list(_CONFIG_DEFAULTS.custom_weights))
    sourced_by: str = _CONFIG_DEFAULTS.sourced_by
    fiscal_year_start_month: int = _CONFIG_DEFAULTS.fiscal_year_start_month
    excluded_touch_types: list[str] = Field(default_factory=list)
    excluded_channels: list[str] = Field(default_factory=list)
    touch_type_weights: list[str] = Field(default_factory=list)
    # unset: ATTRIBUTION_SEGMENT_COLUMNS (comma-separated), else none
    segment_columns: list[str] | None = None
    interval_replicates: int = _CONFIG_DEFAULTS.interval_replicates
    interval_level: float = _CONFIG_DEFAULTS.interval_level
    interval_seed: int = _CONFIG_DEFAULTS.interval_seed
    snapshot_retention_days: int = _CONFIG_DEFAULTS.snapshot_retention_days
    included_opportunity_types: list[str] = Field(default_factory=list)
    excluded_opportunity_types: list[str] = Field(default_factory=list)
    column_preset: str | None = None
    mapping_file: str | None = None

    def to_config(self) -> AttributionConfig:
        """The library's frozen config (the run's wall clock is now)."""
        plain = {
            f.name: getattr(self, f.name)
            for f in fields(AttributionConfig)
            if f.name not in ("as_of", "mapping", "run_started_at", "segment_columns")
        }
        segments = (
            self.segment_columns
            if self.segment_columns is not None
            else split_names(env_setting("ATTRIBUTION_SEGMENT_COLUMNS"))
        )
        extra = {"as_of": parse_as_of(self.as_of)} if self.as_of else {}
        mapping = load_mapping(
            env_setting("ATTRIBUTION_MAPPING", self.mapping_file) or None,
            env_setting("ATTRIBUTION_COLUMN_PRESET", self.column_preset) or None,
        )
        return AttributionConfig(**plain, mapping=mapping, segment_columns=tuple(segments), **extra)


class ExportTarget(dg.ConfigurableResource):
    """Where the exports go; empty = ATTRIBUTION_EXPORT_DIR, else data/exports."""

    directory: str | None = None

    def path(self) -> str:
        return env_setting("ATTRIBUTION_EXPORT_DIR", self.directory)


class AttributionDuckDB(DuckDBResource):
    """dagster-duckdb's resource, holding the file's writer lock while a step uses it.

    DuckDB allows one writing process per file. With this lock, steps of parallel runs or of
    the multiprocess executor wait their turn (up to `lock_timeout_seconds`, then fail with a
    message that another run is writing) instead of failing on DuckDB's own file lock.
    """

    database: str | None = Field(  # type: ignore[assignment]
        default=None, description="DuckDB file; unset = ATTRIBUTION_DUCKDB, else data/attribution.duckdb"
    )
    lock_timeout_seconds: float = 600.0

    def path(self) -> str:
        return env_setting("ATTRIBUTION_DUCKDB", self.database)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:  # type: ignore[override]
        path = self.path()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with writer_lock(path, self.lock_timeout_seconds):
            conn = duckdb.connect(path, config={"custom_user_agent": "dagster", **self.connection_config})
            try:
                yield conn
            finally:
                conn.close()
