"""Assets by group: ingest, journeys, models, reporting."""

from __future__ import annotations

import dagster as dg
import duckdb

from attribution.config import AttributionConfig
from attribution.engine import Engine, EngineUnavailableError, engine_for
from attribution.pipeline import step_runner
from attribution.steps import step_reads

INGEST_GROUP = "ingest"
JOURNEYS_GROUP = "journeys"
MODELS_GROUP = "models"
REPORTING_GROUP = "reporting"
DUCKDB_POOL = "duckdb_writer"


def step_on_engine(
    conn: duckdb.DuckDBPyConnection, config: AttributionConfig
) -> duckdb.DuckDBPyConnection | Engine:
    """What a step after ingest runs on under the run's `engine` setting: this DuckDB
    connection, or the Spark engine (one session per run process: the executor runs in one)."""
    try:
        return step_runner(conn, engine_for(config.engine))
    except EngineUnavailableError as exc:
        raise dg.Failure(description=f"Engine problem: {exc}", allow_retries=False) from exc


# tables a step writes that are no asset of their own: a read of one depends on that asset
TABLE_ASSETS: dict[str, str] = {
    "int_touch_rules": "int_journeys",
    "int_eligible_touches": "int_journeys",
    "int_touch_roles": "int_null_path_touches",
    "int_null_path_settings": "int_null_path_touches",
    "int_pipeline_null_paths": "int_null_path_touches",
}


def step_deps(step: str, *guards: str) -> list[str]:
    """A step's assets' deps: what its SQL files read (attribution.pipeline.step_reads, parsed),
    as the assets that write it, plus `guards` (assets whose blocking checks must pass first)."""
    return sorted({TABLE_ASSETS.get(table, table) for table in step_reads(step)} | set(guards))
