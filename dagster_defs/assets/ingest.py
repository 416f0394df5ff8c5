"""Ingest group: validated staging tables and the quarantine, from the configured input files."""

from collections.abc import Callable

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.mapping import MappingError
from attribution.ingest import (
    InputFileError,
    LoadResult,
    load_fx_rates,
    load_opportunities,
    load_touchpoints,
)
from dagster_defs.assets import DUCKDB_POOL, INGEST
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings, SourceFiles


def _load_metadata(
    conn: duckdb.DuckDBPyConnection, result: LoadResult
) -> dict[str, dg.MetadataValue]:
    by_reason = conn.sql(
        "select reason, count(*) as row_count, any_value(record) as example from quarantine "
        "where source = ? group by reason order by reason",
        params=[result.source],
    ).pl()
    return {
        "files": dg.MetadataValue.text("\n".join(result.files) or "(none)"),
        "raw_rows": dg.MetadataValue.int(result.raw_rows),
        "staged_rows": dg.MetadataValue.int(result.staged_rows),
        "quarantined_rows": dg.MetadataValue.int(result.quarantined_rows),
        "after_as_of_rows": dg.MetadataValue.int(result.after_as_of_rows),
        "quarantined_by_reason": dg.MetadataValue.md(
            markdown_table(by_reason) if len(by_reason) else "none"
        ),
    }


def _staged(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    load: Callable[[], LoadResult],
    extra: Callable[[], dict[str, dg.MetadataValue]] = dict,
) -> dg.MaterializeResult:
    """Run one load; an input or mapping problem fails the step with the file named, not a
    traceback."""
    try:
        result = load()
    except (InputFileError, MappingError) as exc:
        raise dg.Failure(description=f"Input file problem: {exc}", allow_retries=False) from exc
    metadata = {**table_metadata(conn, table), **_load_metadata(conn, result), **extra()}
    if result.staged_rows == 0:
        metadata["warning"] = dg.MetadataValue.text(
            f"no {result.source} row staged ({result.quarantined_rows} quarantined, "
            f"{result.after_as_of_rows} after as-of): the run goes on with an empty table"
        )
    return dg.MaterializeResult(metadata=metadata)


def _opportunity_metadata(conn: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """Stage labels as the CRM gave them, with counts and the stage each maps to (a typo shows
    up here as an unexpected open stage), and the point-in-time and fx counts."""
    labels = conn.sql(
        "select stage_label, stage, count(*) as opportunities from stg_opportunities "
        "group by all order by opportunities desc, stage_label"
    ).pl()
    counts = conn.sql(
        "select count(*) filter (where is_closed_after_as_of), "
        "count(*) filter (where expected_close_at is not null), "
        "count(*) filter (where is_created_date_only or is_closed_date_only), "
        "count(*) filter (where is_fx_stale) from stg_opportunities"
    ).fetchall()[0]
    return {
        "stage_labels": dg.MetadataValue.md(markdown_table(labels) if len(labels) else "none"),
        "closed_after_as_of_open_at_it": dg.MetadataValue.int(int(counts[0])),
        "with_expected_close_date": dg.MetadataValue.int(int(counts[1])),
        "with_date_only_dates": dg.MetadataValue.int(int(counts[2])),
        "converted_with_stale_fx_rate": dg.MetadataValue.int(int(counts[3])),
    }


@dg.asset(
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description="FX rates: one row per (currency, date); a rate converts one unit into the fx "
    "base currency from that date on; other pairs cross through the base. Invalid rows go to "
    "`quarantine`.",
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
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[stg_fx_rates],
    description="Opportunities: one row per valid opportunity as it stood at as-of (stage mapped "
    "from the CRM label; created after as-of: counted, not staged), amounts converted to the "
    f"reporting currency. {GLOSSARY['opportunity']} {GLOSSARY['pipeline']} "
    f"{GLOSSARY['as-of']} {GLOSSARY['expected close date']} {GLOSSARY['date-only value']}",
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
            lambda: _opportunity_metadata(conn),
        )


@dg.asset(
    group_name=INGEST,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description=f"Touchpoints: one row per valid touch of the whole export, whatever its date, "
    f"UTC timestamps; touches after as-of are counted, not staged. {GLOSSARY['touchpoint']} "
    f"{GLOSSARY['channel']} {GLOSSARY['date-only value']}",
)
def stg_touchpoints(
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
            ),
        )


@dg.asset(
    group_name=INGEST,
    kinds={"duckdb"},
    deps=[stg_fx_rates, stg_opportunities, stg_touchpoints],
    description="Every input row that was not staged for a reason: source, file, row number, the "
    "row as JSON and a reason code. raw = staged + quarantined + after as-of for every source.",
)
def quarantine(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        by_reason = conn.sql(
            "select source, reason, count(*) as row_count from quarantine "
            "group by all order by source, reason"
        ).pl()
        accounting = conn.sql(
            "select source, raw_rows, staged_rows, quarantined_rows, after_as_of_rows "
            "from load_audit order by source"
        ).pl()
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "quarantine"),
                "by_reason": dg.MetadataValue.md(markdown_table(by_reason)),
                "row_accounting": dg.MetadataValue.md(markdown_table(accounting)),
            }
        )
