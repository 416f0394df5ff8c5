"""HubSpot's deal stage history as it exports it: one row per deal with a "Date entered
<stage>" column per stage (`hs_date_entered_<stage id>` from the API), turned long into the
opportunity_history contract: one row per deal and stage it entered."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.ingest.files import (
    InputFileError,
    is_parquet,
    quote_ident,
    read_csv,
    resolve_paths,
    sql_literal,
    unreadable,
)
from attribution.mapping import column_key

__all__ = ["WIDE_HISTORY_TABLE", "entered_columns", "wide_history"]

WIDE_HISTORY_TABLE = "_wide_opportunity_history"
# "Date entered "Appointment Scheduled (Sales Pipeline)"" (an export; quotes optional) or
# hs_date_entered_appointmentscheduled (the API's property)
_ENTERED = re.compile(r'^\s*(?:hs_date_entered_(?P<id>\S+)|date entered\s+"?(?P<label>.+?)"?)\s*$', re.I)
# the pipeline an export names after the stage label: "(Sales Pipeline)"
_PIPELINE = re.compile(r"\s*\([^()]*\)\s*$")


def entered_columns(names: Sequence[str]) -> dict[str, str]:
    """Column name -> the stage it dates, for each "Date entered" column of a header (the
    export's label without its pipeline, or the API's stage id)."""
    stages: dict[str, str] = {}
    for name in names:
        match = _ENTERED.match(name)
        if match:
            stage = match["id"] or _PIPELINE.sub("", match["label"]).strip()
            if stage:
                stages[name] = stage
    return stages


def _header(conn: duckdb.DuckDBPyConnection, path: str, encoding: str) -> list[str]:
    reader = "read_parquet(?)" if is_parquet(path) else read_csv(encoding)
    try:
        return list(conn.sql(f"select * from {reader} limit 0", params=[path]).columns)
    except duckdb.Error as exc:
        raise unreadable(path, "Parquet" if is_parquet(path) else "CSV", exc) from exc


def _file_rows(index: int, path: str, id_column: str, stages: dict[str, str], encoding: str) -> str:
    """The long rows of one wide file: one per (deal row, stage date given), numbered in file
    order (source_row: a deal row gives several; `record` names the deal's line and column); a
    deal row with no date at all stays one row without stage (quarantined missing_required)."""
    reader = "read_parquet(?)" if is_parquet(path) else read_csv(encoding)
    reader = reader.replace("?", sql_literal(path), 1)
    entries = ", ".join(
        f"{{'stage': {sql_literal(stage)}, 'column': {sql_literal(column)}, "
        f"'changed_at': nullif(trim(cast({quote_ident(column)} as varchar)), '')}}"
        for column, stage in stages.items()
    )
    return (
        f"select {index} as file_index, {sql_literal(path)} as source_file, "
        "row_number() over (order by deal_row, part) as source_row, opportunity_id, "
        "entry.changed_at, entry.stage, cast(to_json({'line': deal_row + 1, 'deal': opportunity_id, "
        "'column': entry.column, 'value': entry.changed_at}) as varchar) as record "
        "from (select *, coalesce(nullif(list_filter(entries, lambda e: e.changed_at is not null), []), "
        "[{'stage': null, 'column': null, 'changed_at': null}]) as kept from ("
        f"select row_number() over () as deal_row, cast({quote_ident(id_column)} as varchar) as opportunity_id, "
        f"[{entries}] as entries from {reader})), unnest(kept) with ordinality as t(entry, part)"
    )


def wide_history(
    conn: duckdb.DuckDBPyConnection,
    paths: str | Path | Sequence[str | Path] | None,
    config: AttributionConfig,
) -> str | None:
    """When the opportunity history files are HubSpot's wide export (no stage column, "Date
    entered" columns): write their long rows to the temp table WIDE_HISTORY_TABLE (file_index,
    source_file, source_row, record: the deal's line and column, and the contract's columns)
    and return its name, for
    load_source(derived=...); None for the contract's long form. Mixed forms are an error."""
    if not paths:
        return None
    files = resolve_paths(paths)
    encoding = config.source.csv_encoding
    mapping = config.mapping
    stage_keys = {column_key(a) for a in mapping.aliases("opportunity_history", "stage")}
    id_keys = [column_key(a) for a in mapping.aliases("opportunity_history", "opportunity_id")]
    selects: list[str] = []
    for index, path in enumerate(files):
        header = _header(conn, path, encoding)
        stages = entered_columns(header)
        if not stages or stage_keys & {column_key(name) for name in header}:
            if selects:
                raise InputFileError(f"{path}: a long opportunity history among wide (Date entered) ones")
            continue
        by_key = {column_key(name): name for name in reversed(header)}
        id_column = next((by_key[key] for key in id_keys if key in by_key), None)
        if id_column is None:
            raise InputFileError(
                f"{path}: a wide stage history (Date entered columns) without a deal id column: tried "
                f"{' / '.join(mapping.aliases('opportunity_history', 'opportunity_id'))}"
            )
        selects.append(_file_rows(index, path, id_column, stages, encoding))
    if not selects:
        return None
    if len(selects) != len(files):
        raise InputFileError(f"{files[0]}: a long opportunity history among wide (Date entered) ones")
    conn.sql(f"create or replace temp table {WIDE_HISTORY_TABLE} as " + " union all ".join(selects))
    return WIDE_HISTORY_TABLE
