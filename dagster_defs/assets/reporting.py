"""Reporting group: the side-by-side comparison and the influenced pipeline / revenue marts."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from attribution.config import JOURNEY_KINDS
from attribution.contracts import GLOSSARY
from attribution.export import export_marts
from attribution.pipeline import build_mart, input_files
from attribution.report import comparison_chart_png, comparison_table, headline_totals
from dagster_defs.assets import DUCKDB_POOL, REPORTING
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings, ExportTarget, SourceFiles


@dg.asset(
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
        tables = {kind: comparison_table(conn, kind) for kind in JOURNEY_KINDS}
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
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (month of created_at, model, channel): attributed pipeline and "
    "opportunities credited; a month's rows of one model sum to its pipeline (the month totals "
    "are in mart_period_totals).",
)
def mart_influenced_pipeline(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_influenced_pipeline")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_influenced_pipeline"))


@dg.asset(
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (month of closed_at, model, channel): attributed won revenue and "
    "opportunities credited; a month's rows of one model sum to its won revenue (the month "
    "totals are in mart_period_totals).",
)
def mart_influenced_revenue(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_influenced_revenue")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_influenced_revenue"))


@dg.asset(
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (journey_kind, month): total pipeline (created in the month) or "
    "won revenue (won in it) and the influenced part, with opportunity counts: the totals the "
    f"influenced marts sum to, one row per month. {GLOSSARY['influenced pipeline / revenue']}",
)
def mart_period_totals(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "mart_period_totals")
        return dg.MaterializeResult(metadata=table_metadata(conn, "mart_period_totals"))


@dg.asset(
    group_name=REPORTING,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=["mart_attribution_credits", "markov_removal_effects"],
    description="One row per (journey_kind, model): attributed total next to total pipeline / won "
    "revenue and influenced amount, to the cent; is_reconciled when they agree and influenced <= "
    "total. A blocking check on it guards the exports.",
)
def reconciliation(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_mart(conn, "reconciliation")
        unreconciled = conn.sql(
            "select count(*) from reconciliation where not coalesce(is_reconciled, false)"
        ).fetchall()[0][0]
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "reconciliation", preview_rows=20),
                "unreconciled_rows": dg.MetadataValue.int(int(unreconciled)),
            }
        )


@dg.asset(
    group_name=REPORTING,
    kinds={"parquet", "csv"},
    deps=[
        mart_channel_comparison,
        mart_channel_comparison_wide,
        mart_influenced_pipeline,
        mart_influenced_revenue,
        mart_period_totals,
        reconciliation,
    ],
    description="The marts as Parquet and CSV files under ATTRIBUTION_EXPORT_DIR (default "
    "data/exports/), each written to a temporary file and renamed, with manifest.json: as-of "
    "time, row counts, config, input file fingerprints and a SHA-256 per file.",
)
def exports(
    duckdb: DuckDBResource,
    export_target: ExportTarget,
    source_files: SourceFiles,
    settings: AttributionSettings,
) -> dg.MaterializeResult:
    config = settings.to_config()
    with duckdb.get_connection() as conn:
        manifest = export_marts(
            conn, Path(export_target.directory), config, input_files(source_files.paths())
        )
    files = manifest["files"]
    listing = pl.DataFrame(
        {
            "file": list(files),
            "rows": [f["rows"] for f in files.values()],
            "sha256": [f["sha256"][:16] for f in files.values()],
        }
    )
    return dg.MaterializeResult(
        metadata={
            "directory": dg.MetadataValue.path(str(Path(export_target.directory).resolve())),
            "files": dg.MetadataValue.md(markdown_table(listing)),
            "file_count": dg.MetadataValue.int(len(files)),
            "as_of": dg.MetadataValue.text(manifest["as_of"]),
        }
    )
