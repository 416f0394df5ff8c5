"""The ingest bookkeeping tables: quarantine and load_audit (one row per load), and what a
load returns."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from attribution.config import AttributionConfig
from attribution.sql import read_sql

__all__ = ["LoadResult", "columns_of", "create_ingest_tables", "write_audit"]


@dataclass(frozen=True)
class LoadResult:
    """Row accounting of one load: raw = staged + quarantined + after as-of + excluded by the
    type filter (the last two counted and left out)."""

    source: str
    files: tuple[str, ...]
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    after_as_of_rows: int = 0
    excluded_rows: int = 0
    # a CRM object's touch rows without an account (kept in unmatched_touches, by reason)
    unmatched_rows: int = 0

    @property
    def balanced(self) -> bool:
        return self.raw_rows == (
            self.staged_rows
            + self.quarantined_rows
            + self.after_as_of_rows
            + self.excluded_rows
            + self.unmatched_rows
        )


_QUARANTINE_COLUMNS = ("source", "source_file", "source_row", "record", "reason", "loaded_at")


_AUDIT_COLUMNS = (
    "source",
    "files",
    "raw_rows",
    "staged_rows",
    "quarantined_rows",
    "after_as_of_rows",
    "excluded_rows",
    "unmatched_rows",
    "as_of",
    "loaded_at",
)


def columns_of(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    return tuple(
        r[0]
        for r in conn.sql(
            "select column_name from information_schema.columns where table_name = ? "
            "and table_schema = 'main' order by ordinal_position",
            params=[table],
        ).fetchall()
    )


def create_ingest_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create `quarantine` and `load_audit` (sql/staging/) if they do not exist yet; a file
    written by an older version, with other columns, gets them afresh (both are rebuilt by
    every load)."""
    for table, columns in (("quarantine", _QUARANTINE_COLUMNS), ("load_audit", _AUDIT_COLUMNS)):
        present = columns_of(conn, table)
        if present and present != columns:
            conn.sql(f"drop table {table}")
        conn.sql(read_sql(f"staging/{table}.sql"))


def write_audit(conn: duckdb.DuckDBPyConnection, result: LoadResult, config: AttributionConfig) -> None:
    """Replace the source's load_audit row."""
    conn.sql("delete from load_audit where source = ?", params=[result.source])
    conn.sql(
        "insert into load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params=[
            result.source,
            list(result.files),
            result.raw_rows,
            result.staged_rows,
            result.quarantined_rows,
            result.after_as_of_rows,
            result.excluded_rows,
            result.unmatched_rows,
            config.as_of,
            config.run_started_at,
        ],
    )
