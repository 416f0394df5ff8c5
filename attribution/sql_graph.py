"""What each SQL file reads, parsed from the SQL itself (sqlglot, DuckDB dialect): the tables a
model depends on, so the asset graph is derived from the files instead of written by hand."""

from __future__ import annotations

import re
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from attribution.sql import SQL_DIR, read_sql

__all__ = ["build_order", "sql_files", "sql_reads"]

# a relation named after FROM / JOIN (the fallback for the few statements sqlglot cannot parse:
# DuckDB's PIVOT statement)
_RELATION = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")
# names a FROM can hold that are functions or keywords, not tables
_NOT_TABLES = {"unnest", "read_csv", "read_parquet", "query_table", "range", "generate_series", "values"}


@cache
def sql_reads(relative_path: str) -> frozenset[str]:
    """The tables and views `sql/<relative_path>` reads (its CTEs and table functions left
    out), lower case."""
    text = read_sql(relative_path)
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except ParseError:
        code = _COMMENT.sub("", text)
        named = {m.lower() for m in re.findall(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", code, re.IGNORECASE)}
        return frozenset(n.lower() for n in _RELATION.findall(code) if n.lower() not in named | _NOT_TABLES)
    names: set[str] = set()
    ctes: set[str] = set()
    for tree in trees:
        ctes.update(cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE))
        names.update(table.name.lower() for table in tree.find_all(exp.Table) if table.name)
    return frozenset(names - ctes - _NOT_TABLES)


def sql_files(folders: str | tuple[str, ...], leave_out: frozenset[str] = frozenset()) -> dict[str, str]:
    """Table -> its file under sql/ (`<folder>/<table>.sql`, one table per file) of `folders`,
    by table name; `leave_out`: files another step builds. A table in two folders is an error."""
    files: dict[str, str] = {}
    for folder in (folders,) if isinstance(folders, str) else folders:
        for path in sorted((SQL_DIR / folder).glob("*.sql")):
            if path.stem in files:
                raise ValueError(
                    f"{path.stem} has two SQL files: {files[path.stem]} and {folder}/{path.name}"
                )
            if path.stem not in leave_out:
                files[path.stem] = f"{folder}/{path.name}"
    return dict(sorted(files.items()))


def build_order(folders: str | tuple[str, ...], leave_out: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The tables of `sql/<folder>/*.sql` for each of `folders` (one table per file, named by its
    file) in an order where each comes after every table of these folders it reads (ties by
    name); `leave_out`: files another step builds. A cycle is an error that names its tables."""
    files = sql_files(folders, leave_out)
    waiting = {t: set(sql_reads(path)) & set(files) - {t} for t, path in files.items()}
    order: list[str] = []
    while waiting:
        ready = sorted(t for t, reads in waiting.items() if not reads)
        if not ready:
            raise ValueError(f"the SQL files of {folders} read each other in a cycle: {sorted(waiting)}")
        for table in ready:
            order.append(table)
            del waiting[table]
        for reads in waiting.values():
            reads.difference_update(ready)
    return tuple(order)
