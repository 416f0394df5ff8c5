"""Access to the project's SQL files (one statement per file under `sql/`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

__all__ = [
    "SQL_DIR",
    "bind_config",
    "define_macros",
    "drop_relation",
    "query",
    "query_frame",
    "read_sql",
    "run_sql",
    "sql_description",
    "table_exists",
]


def _sql_dir() -> Path:
    """The project's `sql/` beside the package (a checkout, an editable install), else the
    copy a wheel ships inside it (`attribution/_sql/`)."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "sql"
    return checkout if (checkout / "macros.sql").is_file() else package / "_sql"


SQL_DIR = _sql_dir()


def sql_description(relative_path: str) -> str:
    """The header comment of `sql/<relative_path>` as one paragraph, up to its "Reads ..." or
    "Parameters ..." line, without the leading "<table>: " ("One row per ...")."""
    lines = []
    for line in read_sql(relative_path).splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        if text.startswith(("Reads ", "Parameters", "No parameters")):
            break
        lines.append(text)
    paragraph = " ".join(lines).strip()
    table = Path(relative_path).stem
    if paragraph.startswith(f"{table}:"):
        paragraph = paragraph[len(table) + 1 :].strip()
    return paragraph[:1].upper() + paragraph[1:]


@cache
def read_sql(relative_path: str) -> str:
    """The text of `sql/<relative_path>`; the header comment stays (DuckDB ignores it)."""
    path = SQL_DIR / relative_path
    if not path.is_file():
        raise FileNotFoundError(
            f"SQL file {path} not found: the installation is incomplete (reinstall attribution-engine)"
        )
    return path.read_text(encoding="utf-8")


def run_sql(
    conn: duckdb.DuckDBPyConnection, relative_path: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyRelation:
    """Run one SQL file with named bind parameters ($name); values are never spliced as text."""
    return conn.sql(read_sql(relative_path), params=params or None)


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the connected database has this table (or view) in its main schema."""
    found = conn.sql(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'",
        params=[table],
    ).fetchall()[0][0]
    return bool(found)


def drop_relation(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view `name` of the main schema (of the database or of the
    connection's temp objects), whichever it is: a name of ours that changed kind between
    versions, say a table now a view, or a raw input that is a temp table for CSV files and a
    temp view for Parquet; nothing when there is none."""
    kinds = conn.sql(
        "select table_type from information_schema.tables where table_name = ? and table_schema = 'main'",
        params=[name],
    ).fetchall()
    for (kind,) in kinds:
        conn.sql(f'drop {"view" if kind == "VIEW" else "table"} "{name}"')


@cache
def _macros_version() -> str:
    """This version of sql/macros.sql, by its hash."""
    return hashlib.sha256(read_sql("macros.sql").encode()).hexdigest()[:16]


def define_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the shared macros of sql/macros.sql in the connected database,
    once per connection and version (a session variable holds the version defined: reading
    it costs 0.1 ms and never fails inside a transaction; defining the twenty macros 8-11 ms,
    and a run asks for them 16 times)."""
    version = _macros_version()
    if conn.execute("select getvariable('attribution_macros')").fetchall() == [(version,)]:
        return
    conn.execute(read_sql("macros.sql"))
    conn.execute("set variable attribution_macros = ?", [version])


def query(
    conn: duckdb.DuckDBPyConnection, relative_path: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run one SQL file (as `run_sql`) and return its rows as a polars frame."""
    frame: pl.DataFrame = run_sql(conn, relative_path, params).pl()
    return frame


def query_frame(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> pl.DataFrame:
    """Run one statement of our own text with bind parameters; its rows as a polars frame."""
    frame: pl.DataFrame = conn.sql(sql, params=list(params) if params else None).pl()
    return frame


def _config_value(config: Any, name: str) -> Any:
    try:
        return config.setting(name)
    except KeyError:
        return getattr(config, name)


def bind_config(sql: str, config: Any, constants: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values a SQL model names as $parameters (DuckDB refuses unused ones): from
    `constants` first, else the config's setting of that name (AttributionConfig.setting: the
    flat names, $fx_max_age_days for fx.max_age_days), else its attribute (comments skipped)."""
    code = re.sub(r"--[^\n]*", "", sql)
    constants = constants or {}
    values = {
        name: constants[name] if name in constants else _config_value(config, name)
        for name in sorted(set(re.findall(r"\$(\w+)", code)))
    }
    # a tuple setting binds as a list (DuckDB reads a Python tuple as a struct)
    return {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}
