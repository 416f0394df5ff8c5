"""The engine seam: what the pipeline's steps ask of the database that runs them, so the same
steps run on DuckDB (the default, one machine) and on Apache Spark (attribution.engine.spark).

Every statement is the project's DuckDB SQL (a file of sql/ or a short statement of a step);
the Spark engine transpiles it (attribution.engine.spark_sql). Parameters are bound values,
never spliced text."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import duckdb
import polars as pl
import pyarrow as pa

from attribution.sql import define_macros, drop_relation, table_exists

__all__ = ["DuckDBEngine", "Engine", "EngineUnavailableError", "as_engine", "bound_params", "engine_for"]


@runtime_checkable
class Engine(Protocol):
    """A database the pipeline's steps run on: tables in, tables and frames out."""

    name: str

    def create(
        self, table: str, sql: str, params: Mapping[str, Any] | None = None, *, kind: str = "table"
    ) -> None:
        """(Re)create `table` as the rows of a query: kind `table` (stored), `temp` (this run's
        scratch) or `view` (computed when read)."""
        ...

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """The rows of a query as a polars frame (small results: fits, batches, checks)."""
        ...

    def write(self, table: str, frame: pl.DataFrame, *, append: bool = False) -> int:
        """Replace (or append by column name to) `table` with a frame's rows; return the
        table's row count."""
        ...

    def drop(self, name: str) -> None:
        """Drop the table or view `name`; nothing when there is none."""
        ...

    def exists(self, name: str) -> bool:
        """Whether the table or view `name` exists."""
        ...

    def count(self, table: str) -> int:
        """The row count of a table of this project."""
        ...

    def define_macros(self) -> None:
        """Make the shared macros of sql/macros.sql callable (Spark inlines them)."""
        ...

    def read(self, table: str) -> pa.Table:
        """A table's rows as Arrow."""
        ...

    def table_columns(self, table: str) -> list[str]:
        """A table's column names, in order."""
        ...

    def apply_by_group(
        self,
        table: str,
        queries: Mapping[str, str],
        function: Callable[[Mapping[str, pl.DataFrame]], pl.DataFrame],
        groups: int,
        key: str,
    ) -> int:
        """(Re)create `table` from `function` applied group by group to the rows of `queries`
        (each reads its group as `in_batch(<key's account or journey>, $batch, $batches)`):
        every query's rows of one group of `key` values at a time; return the row count."""
        ...


def bound_params(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parameters a statement names (DuckDB refuses unused ones)."""
    if not params:
        return None
    used = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items() if f"${k}" in sql}
    return used or None


class DuckDBEngine:
    """The default engine: one DuckDB connection (the file the assets share)."""

    name = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def create(
        self, table: str, sql: str, params: Mapping[str, Any] | None = None, *, kind: str = "table"
    ) -> None:
        """See Engine.create."""
        what = {"table": "table", "temp": "temp table", "view": "view"}[kind]
        if kind == "view":
            drop_relation(self.conn, table)
            self.conn.sql(f'create view "{table}" as\n{sql}', params=bound_params(sql, params))
            return
        self.conn.sql(f'create or replace {what} "{table}" as\n{sql}', params=bound_params(sql, params))

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """See Engine.frame."""
        result: pl.DataFrame = self.conn.sql(sql, params=bound_params(sql, params)).pl()
        return result

    def write(self, table: str, frame: pl.DataFrame, *, append: bool = False) -> int:
        """See Engine.write."""
        self.conn.register("_frame_to_write", frame)
        try:
            if append:
                self.conn.sql(f'insert into "{table}" by name select * from _frame_to_write')
            else:
                self.conn.sql(f'create or replace table "{table}" as select * from _frame_to_write')
        finally:
            self.conn.unregister("_frame_to_write")
        return self.count(table)

    def drop(self, name: str) -> None:
        """See Engine.drop."""
        drop_relation(self.conn, name)

    def exists(self, name: str) -> bool:
        """See Engine.exists."""
        return table_exists(self.conn, name)

    def count(self, table: str) -> int:
        """See Engine.count."""
        return int(self.conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])

    def define_macros(self) -> None:
        """See Engine.define_macros."""
        define_macros(self.conn)

    def read(self, table: str) -> pa.Table:
        """See Engine.read."""
        return self.conn.table(table).arrow().read_all()

    def table_columns(self, table: str) -> list[str]:
        """See Engine.table_columns."""
        return list(self.conn.table(table).columns)

    def apply_by_group(
        self,
        table: str,
        queries: Mapping[str, str],
        function: Callable[[Mapping[str, pl.DataFrame]], pl.DataFrame],
        groups: int,
        key: str,
    ) -> int:
        """See Engine.apply_by_group: one batch after the other in this process (memory stays
        bounded by the batch)."""
        self.drop(table)
        for batch in range(groups):
            params = {"batch": batch, "batches": groups}
            frames = {name: self.frame(sql, params) for name, sql in queries.items()}
            self.write(table, function(frames), append=batch > 0)
            del frames
        return self.count(table)


def as_engine(target: duckdb.DuckDBPyConnection | Engine) -> Engine:
    """The engine a step runs on: a DuckDB connection becomes the DuckDB engine; an engine is
    itself."""
    if isinstance(target, duckdb.DuckDBPyConnection):
        return DuckDBEngine(target)
    if isinstance(target, Engine):
        return target
    return DuckDBEngine(target)  # a connection-like object (a test's capturing wrapper)


class EngineUnavailableError(RuntimeError):
    """The configured engine cannot start here (the message says what to install or set)."""


def engine_for(engine: str) -> Engine | None:
    """The engine a run's `engine` setting names: None for duckdb (the steps use the run's
    DuckDB connection), else the Spark engine of the ATTRIBUTION_SPARK_* settings."""
    if engine == "duckdb":
        return None
    if engine != "spark":
        raise EngineUnavailableError(f"engine must be duckdb or spark, got {engine!r}")
    try:
        from attribution.engine.spark import spark_engine
    except ImportError as exc:  # pyspark is an optional extra
        raise EngineUnavailableError(
            "engine spark needs pyspark: pip install 'attribution-engine[spark]' (make install-spark)"
        ) from exc
    import shutil

    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        from attribution.engine.spark import settings_from_environment

        if not settings_from_environment().connect_url:
            raise EngineUnavailableError(
                "engine spark with a local master needs a Java runtime: apt-get install "
                "default-jre-headless (make java), or set ATTRIBUTION_SPARK_CONNECT to a Spark Connect server"
            )
    return spark_engine()
