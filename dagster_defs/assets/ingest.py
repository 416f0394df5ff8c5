"""Ingest group: validated staging tables and the quarantine, from the configured input files."""

from collections.abc import Callable

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.ingest import (
    InputFileError,
    LoadResult,
    load_fx_rates,
    load_opportunities,
    load_touchpoints,
)
from dagster_defs.assets import DUCKDB_POOL, SINGLE_RUN, INGEST
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.partitions import daily_touch_partitions, partition_window
from dagster_defs.resources import AttributionSettings, SourceFiles


def _load_metadata(result: LoadResult) -> dict[str, dg.MetadataValue]:
    return {
        "files": dg.MetadataValue.text("\n".join(result.files) or "(none)"),
        "raw_rows": dg.MetadataValue.int(result.raw_rows),
        "staged_rows": dg.MetadataValue.int(result.staged_rows),
        "quarantined_rows": dg.MetadataValue.int(result.quarantined_rows),
        "out_of_window_rows": dg.MetadataValue.int(result.out_of_window_rows),
    }


def _staged(
    conn: duckdb.DuckDBPyConnection, table: str, load: Callable[[], LoadResult]
) -> dg.MaterializeResult:
    """Run one load; an unreadable input fails the step with the file named, not a traceback."""
    try:
        result = load()
    except InputFileError as exc:
        raise dg.Failure(description=f"Input file problem: {exc}", allow_retries=False) from exc
    return dg.MaterializeResult(metadata={**table_metadata(conn, table), **_load_metadata(result)})


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description="FX rates: one row per (currency, date); a rate converts one unit into the "
    "reporting currency from that date on. Invalid rows go to `quarantine`.",
)
def stg_fx_rates(
    duckdb: DuckDBResource, source_files: SourceFiles, settings: AttributionSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return _staged(
            conn,
            "stg_fx_rates",
            lambda: load_fx_rates(conn, source_files.paths().fx_rates, settings.to_config()),
        )


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[stg_fx_rates],
    description="Opportunities: one row per valid opportunity, amounts converted to the "
    f"reporting currency. {GLOSSARY['opportunity']} {GLOSSARY['pipeline']}",
)
def stg_opportunities(
    duckdb: DuckDBResource, source_files: SourceFiles, settings: AttributionSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return _staged(
            conn,
            "stg_opportunities",
            lambda: load_opportunities(
                conn, source_files.paths().opportunities, settings.to_config()
            ),
        )


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=daily_touch_partitions,
    description=f"Touchpoints: one row per valid touch, UTC timestamps, partitioned by touch date "
    f"(a run replaces exactly its days). {GLOSSARY['touchpoint']} {GLOSSARY['channel']}",
)
def stg_touchpoints(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    source_files: SourceFiles,
    settings: AttributionSettings,
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        return _staged(
            conn,
            "stg_touchpoints",
            lambda: load_touchpoints(
                conn,
                source_files.paths().touchpoints,
                settings.to_config(),
                window=partition_window(context),
            ),
        )


@dg.asset(
    backfill_policy=SINGLE_RUN,
    group_name=INGEST,
    kinds={"duckdb"},
    deps=[stg_fx_rates, stg_opportunities, stg_touchpoints],
    description="Every input row that was not staged: source, file, row number, the row as "
    "JSON and a reason code. raw = staged + quarantined for every source.",
)
def quarantine(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        by_reason = conn.sql(
            "select source, reason, count(*) as row_count from quarantine "
            "group by all order by source, reason"
        ).pl()
        accounting = conn.sql(
            "select source, raw_rows, staged_rows, quarantined_rows from load_audit order by source"
        ).pl()
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "quarantine"),
                "by_reason": dg.MetadataValue.md(markdown_table(by_reason)),
                "row_accounting": dg.MetadataValue.md(markdown_table(accounting)),
            }
        )
