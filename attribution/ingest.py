"""Load input files into DuckDB staging tables; every row is staged or quarantined with a reason."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.contracts import SOURCES, SourceSpec
from attribution.sql import read_sql

__all__ = [
    "InputFileError",
    "LoadResult",
    "create_ingest_tables",
    "load_fx_rates",
    "load_opportunities",
    "load_touchpoints",
    "resolve_paths",
]

_PARQUET_SUFFIXES = (".parquet", ".pq")


class InputFileError(Exception):
    """An input file cannot be read at all: missing, unreadable, or without the required columns."""


@dataclass(frozen=True)
class LoadResult:
    """Row accounting of one load: raw = staged + quarantined + out of the loaded window."""

    source: str
    files: tuple[str, ...]
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    out_of_window_rows: int = 0

    @property
    def balanced(self) -> bool:
        return self.raw_rows == self.staged_rows + self.quarantined_rows + self.out_of_window_rows


def resolve_paths(paths: str | Path | Sequence[str | Path]) -> list[str]:
    """Expand globs into a sorted, de-duplicated file list; a pattern matching nothing is an error."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[str] = []
    for item in items:
        text = str(item)
        if glob.has_magic(text) and not os.path.exists(text):
            matched = sorted(glob.glob(text, recursive=True))
            if not matched:
                raise InputFileError(f"{text}: no file matches this pattern")
            files.extend(matched)
        else:
            if not os.path.isfile(text):
                raise InputFileError(f"{text}: file not found")
            files.append(text)
    return list(dict.fromkeys(files))


def create_ingest_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the quarantine and load-audit tables if they do not exist yet."""
    conn.sql(
        """
        create table if not exists quarantine (
            source varchar not null,
            source_file varchar,
            source_row bigint,
            record varchar,
            reason varchar not null,
            loaded_at timestamp not null,
            partition_date date
        )
        """
    )
    conn.sql(
        """
        create table if not exists load_audit (
            source varchar primary key,
            files varchar[],
            raw_rows bigint,
            staged_rows bigint,
            quarantined_rows bigint,
            out_of_window_rows bigint,
            window_start timestamp,
            window_end timestamp,
            loaded_at timestamp
        )
        """
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_READ_CSV = "read_csv(?, all_varchar = true, header = true, encoding = 'utf-8')"


def _is_parquet(path: str) -> bool:
    return path.lower().endswith(_PARQUET_SUFFIXES)


def _unreadable(what: str, kind: str, exc: duckdb.Error) -> InputFileError:
    """The clear error for a file DuckDB cannot read: the file(s), the format, DuckDB's reason."""
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return InputFileError(f"{what}: cannot be read as {kind}: {first_line}")


@dataclass(frozen=True)
class _FileColumns:
    """How one file spells the contract's columns, and whether it has columns beyond them."""

    names: dict[str, str]
    has_extra: bool


def _file_columns(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, path: str) -> _FileColumns:
    """Read a file's header; a clear error if it is unreadable or lacks a required column."""
    parquet = _is_parquet(path)
    reader = "read_parquet(?)" if parquet else _READ_CSV
    try:
        present = conn.sql(f"select * from {reader} limit 0", params=[path]).columns
    except duckdb.Error as exc:
        raise _unreadable(path, "Parquet" if parquet else "CSV", exc) from exc
    by_name = {c.strip().lower().lstrip("\ufeff"): c for c in present}
    missing = [c for c in spec.required if c not in by_name]
    if missing:
        raise InputFileError(
            f"{path}: missing required column(s) {', '.join(missing)} for {spec.name}; "
            f"found {', '.join(present) or 'no columns'}; expected at least "
            f"{', '.join(spec.required)}"
        )
    return _FileColumns(
        names={c: by_name[c] for c in spec.columns if c in by_name},
        has_extra=bool(set(by_name) - set(spec.columns)),
    )


def _stage_raw(
    conn: duckdb.DuckDBPyConnection, spec: SourceSpec, files: list[str]
) -> int:
    """Collect every row of `files` into temp table `raw_<source>`: file_index, source_file,
    source_row (1-based within its file) and the contract's columns as text.

    `record` (the whole row as JSON) is kept only for files with columns beyond the contract;
    otherwise the quarantine builds it from the contract columns, which are the whole row.
    Parquet files are read in one scan; CSV files one by one (row order = file order).
    """
    raw = f"raw_{spec.name}"
    columns = ", ".join(f"{_quote_ident(c)} varchar" for c in spec.columns)
    conn.sql(
        f"create or replace temp table {raw} (file_index integer, source_file varchar, "
        f"source_row bigint, {columns}, record varchar)"
    )
    layouts = {path: _file_columns(conn, spec, path) for path in files}
    parquet = [p for p in files if _is_parquet(p)]
    if parquet:
        spelled: dict[str, str] = {}  # union_by_name: the first file's spelling names a column
        for path in parquet:
            for column, name in layouts[path].names.items():
                spelled.setdefault(column, name)
        selected = ", ".join(
            f"cast({_quote_ident(spelled[c])} as varchar)" if c in spelled else "null"
            for c in spec.columns
        )
        try:
            conn.sql(
                f"""
                insert into {raw}
                select list_position(?, filename) - 1, filename, file_row_number + 1, {selected}, null
                from read_parquet(?, union_by_name = true, filename = true, file_row_number = true)
                """,
                params=[parquet, parquet],
            )
        except duckdb.Error as exc:
            raise _unreadable(", ".join(parquet), "Parquet", exc) from exc
    for index, path in enumerate(files):
        if _is_parquet(path):
            continue
        layout = layouts[path]
        try:
            conn.sql(
                f"create or replace temp table _raw_file as select * from {_READ_CSV}",
                params=[path],
            )
        except duckdb.Error as exc:
            raise _unreadable(path, "CSV", exc) from exc
        selected = ", ".join(
            _quote_ident(layout.names[c]) if c in layout.names else "null" for c in spec.columns
        )
        record = "to_json(_raw_file)" if layout.has_extra else "null"
        conn.sql(
            f"insert into {raw} select ?, ?, rowid + 1, {selected}, {record} from _raw_file",
            params=[index, path],
        )
    conn.sql("drop table if exists _raw_file")
    return int(conn.sql(f"select count(*) from {raw}").fetchall()[0][0])


FULL_WINDOW: tuple[datetime, datetime] = (datetime(1, 1, 1), datetime(9999, 12, 31))


def _publish(
    conn: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    files: list[str],
    checked_sql: str,
    stg_table: str,
    stg_columns: str,
    config: AttributionConfig,
    params: dict[str, object],
    window: tuple[datetime, datetime] | None = None,
    window_column: str | None = None,
) -> LoadResult:
    """Validate raw rows with `checked_sql` and publish them in one transaction.

    `checked_sql` gets `params` plus $window_start / $window_end (the loaded window).

    Without a window the staging table and the source's quarantine rows are replaced. With a
    window [start, end) on `window_column`, only that slice is deleted and re-inserted (rows
    without a parseable date are re-quarantined by every load); rows outside it are counted
    as out of window, so raw = staged + quarantined + out_of_window still holds.
    """
    window_start, window_end = window or FULL_WINDOW
    raw_rows = _stage_raw(conn, spec, files)
    # in_window: the row belongs to this load (rows without a date always do)
    conn.sql(
        f"create or replace temp table checked_{spec.name} as select *, "
        "(partition_at is null or (partition_at >= $window_start and partition_at < $window_end))"
        f" as in_window from (\n{read_sql(checked_sql)}\n)",
        params={**params, "window_start": window_start, "window_end": window_end},
    )
    conn.sql("begin transaction")
    try:
        if window is None or window_column is None:
            conn.sql(
                f"create or replace table {stg_table} as select {stg_columns} "
                f"from checked_{spec.name} where reason is null"
            )
        else:
            conn.sql(
                f"create table if not exists {stg_table} as select {stg_columns} "
                f"from checked_{spec.name} limit 0"
            )
            conn.sql(
                f"delete from {stg_table} where {window_column} >= ? and {window_column} < ?",
                params=[window_start, window_end],
            )
            conn.sql(
                f"insert into {stg_table} select {stg_columns} from checked_{spec.name} "
                "where reason is null and in_window"
            )
        staged, quarantined = conn.sql(
            "select count(*) filter (where reason is null), count(*) filter (where reason is not null) "
            f"from checked_{spec.name} where in_window"
        ).fetchall()[0]
        conn.sql(
            "delete from quarantine where source = ? and (partition_date is null "
            "or (partition_date >= ? and partition_date < ?))",
            params=[spec.name, window_start.date(), window_end.date()],
        )
        row_json = "to_json(struct_pack(" + ", ".join(
            f"{_quote_ident(c)} := r.{_quote_ident(c)}" for c in spec.columns
        ) + "))"
        conn.sql(
            f"""
            insert into quarantine
            select ?, c.source_file, c.source_row, coalesce(r.record, {row_json}), c.reason, ?,
                   cast(c.partition_at as date)
            from checked_{spec.name} c
            inner join raw_{spec.name} r using (file_index, source_row)
            where c.reason is not null and c.in_window
            order by c.file_index, c.source_row
            """,
            params=[spec.name, config.as_of],
        )
        out_of_window = raw_rows - int(staged) - int(quarantined)
        conn.sql("delete from load_audit where source = ?", params=[spec.name])
        conn.sql(
            "insert into load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params=[
                spec.name,
                files,
                raw_rows,
                staged,
                quarantined,
                out_of_window,
                window_start if window else None,
                window_end if window else None,
                config.as_of,
            ],
        )
        conn.sql("commit")
    except BaseException:
        conn.sql("rollback")
        raise
    conn.sql(f"drop table if exists checked_{spec.name}")
    conn.sql(f"drop table if exists raw_{spec.name}")
    return LoadResult(
        spec.name, tuple(files), raw_rows, int(staged), int(quarantined), out_of_window
    )


def _prepare(conn: duckdb.DuckDBPyConnection) -> None:
    conn.sql("set TimeZone = 'UTC'")
    create_ingest_tables(conn)


def load_fx_rates(
    conn: duckdb.DuckDBPyConnection,
    paths: str | Path | Sequence[str | Path] | None,
    config: AttributionConfig,
) -> LoadResult:
    """Load fx rates into `stg_fx_rates` (empty when no file is configured: then only the
    reporting currency converts)."""
    _prepare(conn)
    spec = SOURCES["fx_rates"]
    files = resolve_paths(paths) if paths else []
    return _publish(
        conn,
        spec,
        files,
        "staging/stg_fx_rates.sql",
        "stg_fx_rates",
        "currency, rate_date, rate_to_reporting",
        config,
        {},
    )


def load_opportunities(
    conn: duckdb.DuckDBPyConnection,
    paths: str | Path | Sequence[str | Path],
    config: AttributionConfig,
) -> LoadResult:
    """Load opportunities into `stg_opportunities`, amounts converted to the reporting currency.

    Needs `stg_fx_rates` (from `load_fx_rates`) for any currency other than the reporting one.
    """
    _prepare(conn)
    conn.sql(
        "create table if not exists stg_fx_rates "
        "(currency varchar, rate_date date, rate_to_reporting double)"
    )
    return _publish(
        conn,
        SOURCES["opportunities"],
        resolve_paths(paths),
        "staging/stg_opportunities.sql",
        "stg_opportunities",
        "opportunity_id, account_id, created_at, closed_at, stage, amount, currency, "
        "pipeline_amount, revenue_amount, reporting_currency",
        config,
        {"as_of": config.as_of, "reporting_currency": config.reporting_currency},
    )


def load_touchpoints(
    conn: duckdb.DuckDBPyConnection,
    paths: str | Path | Sequence[str | Path],
    config: AttributionConfig,
    window: tuple[datetime, datetime] | None = None,
) -> LoadResult:
    """Load touchpoints into `stg_touchpoints` with UTC timestamps and normalized channels.

    With `window` = [start, end) (UTC), only touches occurring in it are replaced (a daily
    partition); an id already staged for another day makes a later row a duplicate.
    """
    _prepare(conn)
    conn.sql(
        "create table if not exists stg_touchpoints (touchpoint_id varchar, occurred_at "
        "timestamp, account_id varchar, contact_id varchar, channel varchar, campaign varchar, "
        "touch_type varchar)"
    )
    return _publish(
        conn,
        SOURCES["touchpoints"],
        resolve_paths(paths),
        "staging/stg_touchpoints.sql",
        "stg_touchpoints",
        "touchpoint_id, occurred_at, account_id, contact_id, channel, campaign, touch_type",
        config,
        {"as_of": config.as_of},
        window=window,
        window_column="occurred_at",
    )
