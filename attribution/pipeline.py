"""The pipeline's steps as plain functions over a DuckDB connection, in dependency order.

Dagster assets call these one by one; `run_pipeline` calls them all (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from attribution.config import AttributionConfig
from attribution.ingest import (
    LoadResult,
    load_fx_rates,
    load_opportunities,
    load_touchpoints,
    resolve_paths,
)
from attribution.journeys import (
    build_journey_touches,
    build_journeys,
    build_null_paths,
    converted_journey_touches,
)
from attribution.models import MODELS, AttributionModel, ModelInput, attribute
from attribution.models.markov import markov_fit
from attribution.sql import read_sql

__all__ = [
    "MART_TABLES",
    "SourcePaths",
    "build_marts",
    "count_rows",
    "input_files",
    "run_models",
    "run_pipeline",
    "write_frame",
]

PathLike = str | Path | Sequence[str | Path]

MART_TABLES: tuple[str, ...] = (
    "mart_channel_comparison",
    "mart_channel_comparison_wide",
    "mart_influenced_pipeline",
    "mart_influenced_revenue",
    "reconciliation",
)


@dataclass(frozen=True)
class SourcePaths:
    """Where the inputs are: a path, a glob or a list of them per source (fx rates optional)."""

    touchpoints: PathLike
    opportunities: PathLike
    fx_rates: PathLike | None = None


def count_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table of this project (table names are ours, never user input)."""
    return int(conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])


def write_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace `table` with the rows of a polars frame; return the row count."""
    conn.register("_frame_to_write", frame)
    try:
        conn.sql(f'create or replace table "{table}" as select * from _frame_to_write')
    finally:
        conn.unregister("_frame_to_write")
    return count_rows(conn, table)


def model_input(conn: duckdb.DuckDBPyConnection) -> ModelInput:
    """Read what the models need from `int_journeys` and `int_journey_touches`."""
    journey_values = conn.sql(
        "select journey_kind, opportunity_id, journey_amount from int_journeys "
        "where is_converted order by journey_kind, opportunity_id"
    ).pl()
    null_paths = conn.sql(
        "select journey_kind, path_id, position, channel from int_null_path_touches "
        "order by journey_kind, path_id, position"
    ).pl()
    return ModelInput(
        journey_touches=converted_journey_touches(conn),
        journey_values=journey_values,
        null_path_touches=null_paths,
    )


def run_models(
    conn: duckdb.DuckDBPyConnection,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
) -> int:
    """Run every model over the journeys; write `int_attribution_credits`,
    `mart_attribution_credits`, `markov_removal_effects` and `markov_transitions`; return the
    credit mart's row count. The Markov chain is fitted once and serves all three."""
    inputs = model_input(conn)
    registry = dict(models if models is not None else MODELS)
    if "markov" in registry:
        fit = markov_fit(inputs, config)
        registry["markov"] = lambda _inputs, _config: fit.credits
        write_frame(conn, "markov_removal_effects", fit.removal_effects)
        write_frame(conn, "markov_transitions", fit.transitions)
    credits = attribute(inputs, config, registry)
    write_frame(conn, "int_attribution_credits", credits)
    conn.sql(
        "create or replace table mart_attribution_credits as\n"
        + read_sql("marts/mart_attribution_credits.sql")
    )
    return count_rows(conn, "mart_attribution_credits")


def build_mart(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    """(Re)create one reporting mart from its SQL file; return its row count."""
    conn.sql(f'create or replace table "{table}" as\n' + read_sql(f"marts/{table}.sql"))
    return count_rows(conn, table)


def input_files(sources: SourcePaths) -> list[str]:
    """Every input file the sources resolve to (for fingerprints in the export manifest)."""
    files: list[str] = []
    for paths in (sources.touchpoints, sources.opportunities, sources.fx_rates):
        if paths:
            files.extend(resolve_paths(paths))
    return files


def build_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """(Re)create every reporting mart; return row counts by table."""
    return {table: build_mart(conn, table) for table in MART_TABLES}


def run_pipeline(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int | LoadResult]:
    """Ingest, build journeys, run every model and build the marts; return what each step made.
    `progress` is told each step's name before it starts."""
    tell = progress or (lambda _step: None)
    results: dict[str, int | LoadResult] = {}
    tell("fx_rates")
    results["fx_rates"] = load_fx_rates(conn, sources.fx_rates, config)
    tell("opportunities")
    results["opportunities"] = load_opportunities(conn, sources.opportunities, config)
    tell("touchpoints")
    results["touchpoints"] = load_touchpoints(conn, sources.touchpoints, config)
    tell("journeys")
    results["int_journeys"] = build_journeys(conn, config)
    results["int_journey_touches"] = build_journey_touches(conn)
    results["int_null_path_touches"] = build_null_paths(conn, config)
    tell("models")
    results["mart_attribution_credits"] = run_models(conn, config)
    tell("marts")
    results.update(build_marts(conn))
    return results
