"""The single `defs` of the code location, and the factory tests use to point it elsewhere."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_defs.assets import ingest, journeys, models, reporting
from dagster_defs.checks import ASSET_CHECKS
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles
from dagster_defs.schedules import nightly_attribution_job, nightly_schedule

__all__ = ["build_defs", "defs"]


def build_defs(
    duckdb: DuckDBResource | None = None,
    source_files: SourceFiles | None = None,
    settings: AttributionSettings | None = None,
    export_target: ExportTarget | None = None,
    executor: dg.ExecutorDefinition = dg.in_process_executor,
) -> dg.Definitions:
    """Every asset, check, job and schedule, bound to these resources (default: each field
    from its ATTRIBUTION_* environment variable when a step runs, else the sample's)."""
    # One process runs every step: DuckDB allows one writer per file, and a step process
    # costs ~3 s of start-up against ~0.5 s of work on the sample.
    return dg.Definitions(
        assets=dg.load_assets_from_modules([ingest, journeys, models, reporting]),
        asset_checks=list(ASSET_CHECKS),
        jobs=[nightly_attribution_job],
        schedules=[nightly_schedule],
        executor=executor,
        resources={
            "duckdb": duckdb or AttributionDuckDB(),
            "source_files": source_files or SourceFiles(),
            "settings": settings or AttributionSettings(),
            "export_target": export_target or ExportTarget(),
        },
    )


defs = build_defs()
