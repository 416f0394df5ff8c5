"""Reporting group: the side-by-side comparison and the influenced pipeline / revenue marts."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.pipeline import build_mart
from attribution.report import comparison_table, headline_totals
from dagster_defs.assets import DUCKDB_POOL, SINGLE_RUN, REPORTING
from dagster_defs.metadata import markdown_table, table_metadata


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits"],
    description="One row per (journey_kind, model, channel): attributed amount, share of the "
    f"model's total, opportunities credited. {GLOSSARY['attributed pipeline / revenue']}",
)
def mart_channel_comparison(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_channel_comparison")
        totals = headline_totals(conn)
        metadata: dict[str, object] = dict(table_metadata(conn, "mart_channel_comparison"))
        for kind in ("pipeline", "revenue"):
            metadata[f"{kind}_by_channel_and_model"] = dg.MetadataValue.md(
                markdown_table(comparison_table(conn, kind))
            )
        for key, value in totals.items():
            metadata[key] = dg.MetadataValue.float(value)
        return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[mart_channel_comparison],
    description="One row per (journey_kind, channel), one column per model: the models side by "
    "side.",
)
def mart_channel_comparison_wide(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_channel_comparison_wide")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_channel_comparison_wide"))


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits"],
    description="One row per (month of created_at, model, channel): attributed pipeline next to "
    f"the month's total and influenced pipeline. {GLOSSARY['influenced pipeline / revenue']}",
)
def mart_influenced_pipeline(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_influenced_pipeline")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_influenced_pipeline"))


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits"],
    description="One row per (month of closed_at, model, channel): attributed won revenue next "
    f"to the month's won and influenced revenue. {GLOSSARY['influenced pipeline / revenue']}",
)
def mart_influenced_revenue(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_influenced_revenue")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_influenced_revenue"))
