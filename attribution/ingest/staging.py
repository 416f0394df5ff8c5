"""Staging one source: its files read as text into a raw table (stage_raw), checked by its
sql/staging/ model, duplicates marked, the valid rows published and the rest quarantined."""

from __future__ import annotations

import duckdb

from attribution.config import AttributionConfig
from attribution.contracts import MAX_AMOUNT, SourceSpec
from attribution.ingest.files import (
    FileColumns,
    file_columns,
    is_parquet,
    quote_ident,
    read_csv,
    sql_literal,
    unreadable,
)
from attribution.mapping import SourceMapping
from attribution.sql import bind_config, drop_relation, read_sql

__all__ = [
    "BOOKKEEPING",
    "check_rows",
    "checked_table",
    "load_counts",
    "quarantine_rows",
    "replace_staged",
    "stage_raw",
]


# the checked relation's bookkeeping columns; every other column is a staged column
BOOKKEEPING = ("file_index", "source_row", "reason", "is_after_as_of", "is_excluded")


def _segment_map(dimensions: list[str], names: dict[str, str], cast: bool, keys: str = "?") -> str:
    """The SQL of a row's segments map: dimension -> the text of its column (`names`)."""
    values = [
        f"cast({quote_ident(names[d])} as varchar)" if cast else quote_ident(names[d]) for d in dimensions
    ]
    return f"map({keys}::varchar[], [{', '.join(values)}]::varchar[])"


def _parquet_select(
    spec: SourceSpec,
    parquet: list[str],
    layouts: dict[str, FileColumns],
    absent: dict[str, str],
    dimensions: list[str],
) -> str:
    """One scan of every Parquet file as raw rows (union_by_name: the first file's spelling
    names a column); every value is a literal (quotes doubled): a view takes no parameters."""
    spelled: dict[str, str] = {}
    spelled_segments: dict[str, str] = {}
    for path in parquet:
        for column, name in layouts[path].names.items():
            spelled.setdefault(column, name)
        for dimension, name in layouts[path].segments.items():
            spelled_segments.setdefault(dimension, name)
    selected_columns = []
    for c in spec.columns:
        value = f"cast({quote_ident(spelled[c])} as varchar)" if c in spelled else "null"
        lacking = [p for p in parquet if c not in layouts[p].names]
        if c in absent and lacking:
            value = f"case when list_contains({sql_literal(lacking)}, filename) then {sql_literal(absent[c])} else {value} end"
        selected_columns.append(f"{value} as {quote_ident(c)}")
    return f"""
        select list_position({sql_literal(parquet)}, filename) - 1 as file_index,
               filename as source_file, file_row_number + 1 as source_row,
               {", ".join(selected_columns)},
               {_segment_map(dimensions, spelled_segments, True, sql_literal(dimensions))} as segments,
               null::varchar as record
        from read_parquet({sql_literal(parquet)}, union_by_name = true, filename = true,
                          file_row_number = true)
        """


def _insert_csv(
    conn: duckdb.DuckDBPyConnection,
    raw: str,
    spec: SourceSpec,
    index: int,
    path: str,
    layout: FileColumns,
    absent: dict[str, str],
    dimensions: list[str],
    encoding: str,
) -> None:
    """Append the rows of one CSV file to `raw` (row order = file order)."""
    try:
        conn.sql(
            f"create or replace temp table _raw_file as select * from {read_csv(encoding)}", params=[path]
        )
    except duckdb.Error as exc:
        raise unreadable(path, "CSV", exc) from exc
    values: list[object] = [index, path]
    selected = []
    for c in spec.columns:
        if c in layout.names:
            selected.append(quote_ident(layout.names[c]))
        elif c in absent:
            selected.append("?")
            values.append(absent[c])
        else:
            selected.append("null")
    record = "to_json(_raw_file)" if layout.has_extra else "null"
    values.append(dimensions)
    conn.sql(
        f"insert into {raw} select ?, ?, rowid + 1, {', '.join(selected)}, "
        f"{_segment_map(dimensions, layout.segments, False)}, {record} from _raw_file",
        params=values,
    )


def stage_raw(
    conn: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    files: list[str],
    mapping: SourceMapping,
    absent: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> int:
    """Collect every row of `files` into temp table `raw_<source>`: file_index, source_file,
    source_row (1-based within its file), the contract's columns as text and `segments`, a
    map of the segment columns (dimension -> text; empty when none is set).

    A column a file does not have reads as null, or as `absent[column]` when given (an absent
    currency column means the base currency). `record` (the whole row as JSON) is kept only
    for files with columns beyond the contract; otherwise the quarantine builds it from the
    contract columns, which are the whole row. Parquet files are read in one scan; CSV files
    one by one (row order = file order).
    """
    absent = absent or {}
    raw = f"raw_{spec.name}"
    columns = ", ".join(f"{quote_ident(c)} varchar" for c in spec.columns)
    drop_relation(conn, raw)
    conn.sql(
        f"create temp table {raw} (file_index integer, source_file varchar, "
        f"source_row bigint, {columns}, segments map(varchar, varchar), record varchar)"
    )
    layouts = {path: file_columns(conn, spec, path, mapping, segments, encoding) for path in files}
    dimensions = list(segments or {})
    parquet = [p for p in files if is_parquet(p)]
    if parquet:
        select = _parquet_select(spec, parquet, layouts, absent, dimensions)
        try:
            if len(parquet) == len(files):
                # only Parquet: a view, so the validation reads the files' own (dictionary)
                # vectors instead of a copy of every row as text
                drop_relation(conn, raw)
                conn.sql(f"create temp view {raw} as {select}")
                return int(conn.sql(f"select count(*) from {raw}").fetchall()[0][0])
            conn.sql(f"insert into {raw} {select}")
        except duckdb.Error as exc:
            raise unreadable(", ".join(parquet), "Parquet", exc) from exc
    for index, path in enumerate(files):
        if not is_parquet(path):
            _insert_csv(conn, raw, spec, index, path, layouts[path], absent, dimensions, encoding)
    conn.sql("drop table if exists _raw_file")
    return int(conn.sql(f"select count(*) from {raw}").fetchall()[0][0])


def checked_table(source: str) -> str:
    return f"_checked_{source}"


def check_rows(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, config: AttributionConfig) -> None:
    """Validate and type the raw rows into table `_checked_<source>` (a table of the
    database, not a temp table: its valid rows become `stg_<source>` in place), then mark
    the repeats of its id."""
    sql = read_sql(spec.staging_sql)
    params = bind_config(sql, config, {"max_amount": MAX_AMOUNT})
    conn.sql(f"create or replace table {checked_table(spec.name)} as\n{sql}", params=params)
    if spec.unique_id is not None:
        _mark_duplicates(conn, spec.name, spec.unique_id)


def _mark_duplicates(conn: duckdb.DuckDBPyConnection, source: str, column: str) -> None:
    """Give reason duplicate_id to every valid checked row whose id an earlier valid row (by
    file, then row) has. Whether any id repeats is asked first, of the ids' hashes (a collision
    only costs the exact numbering), on the checked table: numbering every row, or a pass over
    the raw files before the check, cost a third of the validation at ten million touches."""
    checked, key = checked_table(source), quote_ident(column)
    repeated = conn.sql(
        f"select count(*) - count(distinct hash({key})) from {checked} where reason is null"
    ).fetchall()[0][0]
    if not repeated:
        return
    conn.sql(
        f"""
        update {checked} as checked set reason = 'duplicate_id'
        from (
            select file_index, source_row
            from (
                select
                    file_index,
                    source_row,
                    row_number() over (partition by {key} order by file_index, source_row) as occurrence
                from {checked}
                where reason is null
                    and {key} in (
                        select {key} from {checked} where reason is null group by {key} having count(*) > 1
                    )
            )
            where occurrence > 1
        ) as repeats
        where checked.file_index = repeats.file_index and checked.source_row = repeats.source_row
        """
    )


def load_counts(conn: duckdb.DuckDBPyConnection, spec: SourceSpec) -> tuple[int, int, int, int]:
    """(staged, quarantined, after as-of, excluded) counts of the checked rows (a row is in
    one category: a reason first, then after as-of, then excluded)."""
    staged, quarantined, after_as_of, excluded = conn.sql(
        "select count(*) filter (where reason is null and not is_after_as_of and not is_excluded), "
        "count(*) filter (where reason is not null), "
        "count(*) filter (where reason is null and is_after_as_of), "
        "count(*) filter (where reason is null and not is_after_as_of and is_excluded) "
        f"from {checked_table(spec.name)}"
    ).fetchall()[0]
    return int(staged), int(quarantined), int(after_as_of), int(excluded)


def replace_staged(conn: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """Make the checked table `stg_<source>`: delete the rows that are not staged, drop the
    bookkeeping columns and rename it (no copy of the valid rows: at ten million touches
    the copy cost as much as the validation)."""
    checked = checked_table(spec.name)
    conn.sql(f"delete from {checked} where reason is not null or is_after_as_of or is_excluded")
    for column in BOOKKEEPING:
        conn.sql(f"alter table {checked} drop column {column}")
    conn.sql(f"drop table if exists stg_{spec.name}")
    conn.sql(f"alter table {checked} rename to stg_{spec.name}")


def quarantine_rows(
    conn: duckdb.DuckDBPyConnection, spec: SourceSpec, config: AttributionConfig, quarantined: int
) -> None:
    """Replace the source's quarantine rows: file, row, the row as JSON, reason (the raw rows
    are read again only when some row is quarantined)."""
    conn.sql("delete from quarantine where source = ?", params=[spec.name])
    if not quarantined:
        return
    row_json = (
        "to_json(struct_pack("
        + ", ".join(f"{quote_ident(c)} := r.{quote_ident(c)}" for c in spec.columns)
        + "))"
    )
    conn.sql(
        f"""
        insert into quarantine
        select ?, r.source_file, c.source_row, coalesce(r.record, {row_json}), c.reason, ?
        from {checked_table(spec.name)} c
        inner join raw_{spec.name} r using (file_index, source_row)
        where c.reason is not null
        order by c.file_index, c.source_row
        """,
        params=[spec.name, config.as_of],
    )
