"""Resources: the DuckDB file, where the input files are, and the model settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from attribution.config import AttributionConfig, parse_as_of
from attribution.mapping import load_mapping
from attribution.locking import writer_lock
from attribution.pipeline import SourcePaths

__all__ = [
    "AttributionDuckDB",
    "AttributionSettings",
    "DEFAULT_DUCKDB_PATH",
    "ExportTarget",
    "export_target_from_env",
    "SourceFiles",
    "duckdb_resource_from_env",
    "source_files_from_env",
]

DEFAULT_DUCKDB_PATH = "data/attribution.duckdb"
DEFAULT_SOURCES = {
    "touchpoints": "data/sample/touchpoints/*.csv",
    "opportunities": "data/sample/opportunities/*.csv",
    "fx_rates": "data/sample/fx_rates.csv",
}


class SourceFiles(dg.ConfigurableResource):
    """Input files: a path or glob per source. An empty fx_rates means no fx file."""

    touchpoints: str = DEFAULT_SOURCES["touchpoints"]
    opportunities: str = DEFAULT_SOURCES["opportunities"]
    fx_rates: str = DEFAULT_SOURCES["fx_rates"]

    def paths(self) -> SourcePaths:
        return SourcePaths(
            touchpoints=self.touchpoints,
            opportunities=self.opportunities,
            fx_rates=self.fx_rates or None,
        )


class AttributionSettings(dg.ConfigurableResource):
    """Model, window, currency and mapping parameters (DESIGN §1 defaults), editable in the
    launchpad; the mapping ones default from ATTRIBUTION_COLUMN_PRESET / ATTRIBUTION_MAPPING."""

    lookback_days: int = 90
    time_decay_half_life_days: float = 7.0
    markov_order: int = 1
    collapse_repeats: bool = False
    reporting_currency: str = "USD"
    as_of: str | None = None
    fx_base_currency: str = "USD"
    fx_max_age_days: int = 45
    company_timezone: str = "UTC"
    column_preset: str | None = None
    mapping_file: str | None = None

    def to_config(self) -> AttributionConfig:
        """The library's frozen config; as_of defaults to now (UTC) when not set; a date-only
        as_of means the end of that day."""
        extra = {"as_of": parse_as_of(self.as_of)} if self.as_of else {}
        return AttributionConfig(
            lookback_days=self.lookback_days,
            time_decay_half_life_days=self.time_decay_half_life_days,
            markov_order=self.markov_order,
            collapse_repeats=self.collapse_repeats,
            reporting_currency=self.reporting_currency,
            fx_base_currency=self.fx_base_currency,
            fx_max_age_days=self.fx_max_age_days,
            company_timezone=self.company_timezone,
            mapping=load_mapping(
                self.mapping_file or os.environ.get("ATTRIBUTION_MAPPING") or None,
                self.column_preset or os.environ.get("ATTRIBUTION_COLUMN_PRESET") or None,
            ),
            **extra,
        )


class ExportTarget(dg.ConfigurableResource):
    """Where the exports go (ATTRIBUTION_EXPORT_DIR, default data/exports)."""

    directory: str = "data/exports"


def export_target_from_env() -> ExportTarget:
    """Export folder from ATTRIBUTION_EXPORT_DIR (default data/exports)."""
    return ExportTarget(directory=os.environ.get("ATTRIBUTION_EXPORT_DIR") or "data/exports")


class AttributionDuckDB(DuckDBResource):
    """dagster-duckdb's resource, holding the file's writer lock while a step uses it.

    DuckDB allows one writing process per file. With this lock, steps of parallel runs or of
    the multiprocess executor wait their turn (up to `lock_timeout_seconds`, then fail with a
    message that another run is writing) instead of failing on DuckDB's own file lock.
    """

    lock_timeout_seconds: float = 600.0

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:  # type: ignore[override]
        with writer_lock(self.database, self.lock_timeout_seconds):
            with super().get_connection() as conn:
                yield conn


def duckdb_resource_from_env() -> AttributionDuckDB:
    """DuckDB file from ATTRIBUTION_DUCKDB (default data/attribution.duckdb)."""
    path = os.environ.get("ATTRIBUTION_DUCKDB") or DEFAULT_DUCKDB_PATH
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    return AttributionDuckDB(database=path)


def source_files_from_env() -> SourceFiles:
    """Input paths from ATTRIBUTION_TOUCHPOINTS / _OPPORTUNITIES / _FX_RATES (default: sample)."""
    return SourceFiles(
        touchpoints=os.environ.get("ATTRIBUTION_TOUCHPOINTS", DEFAULT_SOURCES["touchpoints"]),
        opportunities=os.environ.get(
            "ATTRIBUTION_OPPORTUNITIES", DEFAULT_SOURCES["opportunities"]
        ),
        fx_rates=os.environ.get("ATTRIBUTION_FX_RATES", DEFAULT_SOURCES["fx_rates"]),
    )
