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
    JOURNEY_TOUCH_COLUMNS,
    build_journey_touches,
    build_journeys,
    build_null_paths,
)
from attribution.models import MODELS, AttributionModel, ModelInput, attribute
from attribution.models.markov import (
    MarkovPartial,
    MarkovSolution,
    markov_credits,
    markov_partial,
    solve_markov,
)
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
    "mart_period_totals",
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


BATCH_ROWS = 4_000_000
_IN_BATCH = "hash(account_id) % $batches = $batch"


def batch_count(conn: duckdb.DuckDBPyConnection, rows_per_batch: int = BATCH_ROWS) -> int:
    """How many account batches keep each model batch under `rows_per_batch` touch rows."""
    rows = conn.sql(
        "select (select count(*) from int_journey_touches where is_converted) "
        "+ (select count(*) from int_null_path_touches)"
    ).fetchall()[0][0]
    return max(1, -(-int(rows) // rows_per_batch))


def model_input(
    conn: duckdb.DuckDBPyConnection,
    batch: int = 0,
    batches: int = 1,
    with_null_paths: bool = True,
) -> ModelInput:
    """Read what the models need for one batch of accounts (hash of account_id)."""
    params = {"batch": batch, "batches": batches}
    journey_values = conn.sql(
        "select journey_kind, opportunity_id, journey_amount from int_journeys "
        f"where is_converted and {_IN_BATCH} order by journey_kind, opportunity_id",
        params=params,
    ).pl()
    touches = conn.sql(
        f"select {', '.join(JOURNEY_TOUCH_COLUMNS)} from int_journey_touches "
        f"where is_converted and {_IN_BATCH} order by journey_kind, opportunity_id, position",
        params=params,
    ).pl()
    null_paths = (
        conn.sql(
            "select journey_kind, path_id, position, channel from int_null_path_touches "
            f"where {_IN_BATCH} order by journey_kind, path_id, position",
            params=params,
        ).pl()
        if with_null_paths
        else None
    )
    return ModelInput(
        journey_touches=touches, journey_values=journey_values, null_path_touches=null_paths
    )


def run_models(
    conn: duckdb.DuckDBPyConnection,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
    rows_per_batch: int = BATCH_ROWS,
) -> int:
    """Run every model over the journeys; write `int_attribution_credits`,
    `mart_attribution_credits`, `markov_removal_effects` and `markov_transitions`; return the
    credit mart's row count.

    Journeys are processed in batches of accounts, so memory stays bounded at any scale: a
    first pass counts each batch's Markov transitions (counts add up exactly), one solve
    fits the chain, a second pass writes every model's credits batch by batch.
    """
    registry = dict(models if models is not None else MODELS)
    batches = batch_count(conn, rows_per_batch)
    solution: MarkovSolution | None = None
    if "markov" in registry:
        partials = [
            markov_partial(model_input(conn, b, batches), config) for b in range(batches)
        ]
        solution = solve_markov(MarkovPartial.combine(partials), config)
        del partials
        write_frame(conn, "markov_removal_effects", solution.removal_effects)
        write_frame(conn, "markov_transitions", solution.transitions)
    conn.sql("drop table if exists int_attribution_credits")
    for b in range(batches):
        inputs = model_input(conn, b, batches, with_null_paths=False)
        if solution is not None:
            solved = solution
            registry["markov"] = lambda i, _c: markov_credits(i.journey_touches, solved)
        credits = attribute(inputs, config, registry)
        if b == 0:
            write_frame(conn, "int_attribution_credits", credits)
        else:
            conn.register("_credits_batch", credits)
            try:
                conn.sql("insert into int_attribution_credits select * from _credits_batch")
            finally:
                conn.unregister("_credits_batch")
        del inputs, credits
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
