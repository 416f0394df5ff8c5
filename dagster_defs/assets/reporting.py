"""Reporting group: the side-by-side comparison and the influenced pipeline / revenue marts."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.pipeline import build_mart
import base64

from attribution.report import comparison_chart_png, comparison_table, headline_totals
from dagster_defs.assets import DUCKDB_POOL, SINGLE_RUN, REPORTING
from dagster_defs.metadata import markdown_table, table_metadata


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (journey_kind, model, channel): attributed amount, share of the "
    f"model's total, opportunities credited. {GLOSSARY['attributed pipeline / revenue']}",
)
def mart_channel_comparison(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_channel_comparison")
        totals = headline_totals(conn)
        metadata: dict[str, object] = dict(table_metadata(conn, "mart_channel_comparison"))
        tables = {kind: comparison_table(conn, kind) for kind in ("pipeline", "revenue")}
        for kind, table in tables.items():
            metadata[f"{kind}_by_channel_and_model"] = dg.MetadataValue.md(markdown_table(table))
        chart = base64.b64encode(comparison_chart_png(tables)).decode("ascii")
        metadata["chart"] = dg.MetadataValue.md(
            f"![attributed pipeline and revenue by channel and model](data:image/png;base64,{chart})"
        )
        for key, value in totals.items():
            metadata[key] = dg.MetadataValue.float(round(value, 2))
        attributed = conn.sql(
            "select journey_kind, model, sum(attributed_amount) from mart_channel_comparison "
            "group by all order by all"
        ).fetchall()
        for kind, model, amount in attributed:
            metadata[f"attributed_{kind}_{model}"] = dg.MetadataValue.float(round(float(amount), 2))
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
    deps=["mart_attribution_credits", "markov_removal_effects"],
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
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (month of closed_at, model, channel): attributed won revenue next "
    f"to the month's won and influenced revenue. {GLOSSARY['influenced pipeline / revenue']}",
)
def mart_influenced_revenue(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_influenced_revenue")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_influenced_revenue"))
