"""Assets by group: ingest, journeys, models, reporting."""

from __future__ import annotations

import dagster as dg
import duckdb

from attribution.config import AttributionConfig
from attribution.engine import Engine, EngineUnavailableError, engine_for
from attribution.pipeline import step_runner

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
