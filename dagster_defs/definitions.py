"""The single `defs` of the code location, and the factory tests use to point it elsewhere."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.runfile import INPUTS, RunSpec, resolve_run
from dagster_defs.assets import ingest, journeys, models, reporting
from dagster_defs.checks import ASSET_CHECKS, blocking_check_reads
from dagster_defs.experiments import experiment_assignment_job
from dagster_defs.resources import (
    AttributionDuckDB,
    AttributionSettings,
    ExportTarget,
    SourceFiles,
    settings_of,
)
from dagster_defs.schedules import nightly_attribution_job, nightly_schedule

__all__ = ["build_defs", "defs"]


def build_defs(
    duckdb: DuckDBResource | None = None,
    source_files: SourceFiles | None = None,
    settings: AttributionSettings | None = None,
    export_target: ExportTarget | None = None,
    executor: dg.ExecutorDefinition = dg.in_process_executor,
    run: RunSpec | None = None,
) -> dg.Definitions:
    """Every asset, check, job and schedule, bound to these resources; a resource not given
    holds the values of `run` (default: the run file, $ATTRIBUTION_RUN_FILE or
    ./attribution.toml, with the ATTRIBUTION_* environment over it, else the sample), so the
    launchpad shows what a run will use."""
    spec = run or resolve_run()
    # One process runs every step: DuckDB allows one writer per file, and a step process
    # costs ~3 s of start-up against ~0.5 s of work on the sample.
    assets = dg.load_assets_from_modules([ingest, journeys, models, reporting])
    return dg.Definitions(
        assets=[
            *assets,
            # the marts as a few steps (reporting.mart_steps), placed among the other assets
            *reporting.mart_steps(
                reporting.MARTS,
                [a for a in assets if isinstance(a, dg.AssetsDefinition)],
                blocking_check_reads(),
            ),
        ],
        asset_checks=list(ASSET_CHECKS),
        jobs=[nightly_attribution_job, experiment_assignment_job],
        schedules=[nightly_schedule],
        executor=executor,
        resources={
            "duckdb": duckdb or AttributionDuckDB(database=spec.database),
            "source_files": source_files or SourceFiles(**_inputs(spec)),
            "settings": settings or settings_of(spec),
            "export_target": export_target or ExportTarget(directory=spec.export_dir),
        },
    )


def _inputs(spec: RunSpec) -> dict[str, str]:
    """The run's inputs as the source-files resource holds them ('' = no such input)."""
    values: dict[str, str] = {}
    for name in INPUTS:
        paths = getattr(spec.sources, name)
        values[name] = str(paths) if paths else ""
    return values


defs = build_defs()
