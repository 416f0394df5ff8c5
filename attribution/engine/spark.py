"""The Spark engine: the pipeline's steps on Apache Spark (pip install 'attribution-engine[spark]'
and a Java runtime). Statements are the project's DuckDB SQL, transpiled (engine.spark_sql);
stored tables are written to the session's warehouse (Parquet by default), temp tables are
cached views, views are views. Import pyspark only here: the DuckDB default never needs it."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from attribution.engine import bound_params
from attribution.engine.spark_sql import to_spark
from attribution.keys import name_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "SPARK_VARIABLES",
    "SessionResolver",
    "SparkEngine",
    "SparkSettings",
    "arrow_for_spark",
    "settings_from_environment",
    "spark_engine",
    "spark_session",
]


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs: a master (`local[2]`, `spark://host:7077`, `yarn`, `k8s://...`) or a
    Spark Connect URL (`sc://host:15002`, Databricks through Connect), extra Spark settings
    passed through, and the table format of the stored tables."""

    master: str = "local[2]"
    connect_url: str | None = None
    table_format: str = "parquet"
    conf: Mapping[str, str] = field(default_factory=dict)


# the Spark settings a run reads from its environment
SPARK_VARIABLES: dict[str, str] = {
    "master": "ATTRIBUTION_SPARK_MASTER",
    "connect_url": "ATTRIBUTION_SPARK_CONNECT",
    "warehouse": "ATTRIBUTION_SPARK_WAREHOUSE",
    "table_format": "ATTRIBUTION_SPARK_TABLE_FORMAT",
    "conf": "ATTRIBUTION_SPARK_CONF",
}


def settings_from_environment(environ: Mapping[str, str] | None = None) -> SparkSettings:
    """Spark settings from ATTRIBUTION_SPARK_MASTER, _CONNECT, _WAREHOUSE, _TABLE_FORMAT and
    _CONF ('key=value,key=value', passed through to the session)."""
    env = os.environ if environ is None else environ
    conf: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in env.get(SPARK_VARIABLES["conf"], "").split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{SPARK_VARIABLES['conf']}: {item!r} is not key=value")
        conf[key.strip()] = value.strip()
    warehouse = env.get(SPARK_VARIABLES["warehouse"], "")
    if warehouse:
        conf.setdefault("spark.sql.warehouse.dir", warehouse)
    return SparkSettings(
        master=env.get(SPARK_VARIABLES["master"], "") or "local[2]",
        connect_url=env.get(SPARK_VARIABLES["connect_url"]) or None,
        table_format=env.get(SPARK_VARIABLES["table_format"], "") or "parquet",
        conf=conf,
    )


def spark_engine(settings: SparkSettings | None = None) -> SparkEngine:
    """The Spark engine of these settings (default: the environment's), its session started
    or, in this process, reused."""
    settings = settings or settings_from_environment()
    return SparkEngine(spark_session(settings), settings.table_format)


def spark_session(settings: SparkSettings) -> SparkSession:
    """A Spark session for these settings, its time zone UTC (every timestamp an instant),
    with the one Python function the SQL calls (name_key) registered."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("attribution-engine")
    builder = (
        builder.remote(settings.connect_url) if settings.connect_url else builder.master(settings.master)
    )
    defaults = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
    for key, value in {**defaults, **dict(settings.conf)}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.udf.register("name_key", name_key, "string")
    return session


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def arrow_for_spark(table: pa.Table) -> pa.Table:
    """Arrow as Spark takes it: unsigned integers widened, timestamps as UTC instants."""
    columns = []
    for column_field in table.schema:
        column = table[column_field.name]
        if pa.types.is_uint64(column_field.type):
            column = column.cast(pa.decimal128(20, 0))
        elif pa.types.is_unsigned_integer(column_field.type):
            column = column.cast(pa.int64())
        elif pa.types.is_timestamp(column_field.type) and column_field.type.tz is None:
            column = column.cast(pa.timestamp("us", tz="UTC"))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _polars(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _spark_schema(schema: pa.Schema) -> Any:
    """A Spark schema for an Arrow schema."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _spark_params(params: Mapping[str, Any] | None, sql: str) -> dict[str, Any]:
    """The values a statement names, as Spark takes them (naive datetimes are UTC instants)."""
    return {
        key: value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
        for key, value in (bound_params(sql, params) or {}).items()
    }


class SessionResolver:
    """What the transpiler asks a session about its tables while it expands one statement
    (bound with that statement's parameters)."""

    def __init__(self, session: SparkSession, args: Mapping[str, Any]) -> None:
        self.session, self.args = session, dict(args)

    def columns(self, spark_query: str) -> list[str]:
        """The column names of a Spark query (an analysis; no job runs)."""
        return list(self.session.sql(spark_query, args=self.args).columns)

    def distinct(self, spark_query: str, column: str) -> list[str]:
        """The sorted distinct values of one column of a Spark query."""
        rows = self.session.sql(f"select distinct {column} from ({spark_query})", args=self.args).collect()
        return sorted(str(r[0]) for r in rows)


class SparkEngine:
    """The pipeline's tables in a Spark session."""

    name = "spark"

    def __init__(
        self, session: SparkSession, table_format: str = "parquet", warehouse: str | None = None
    ) -> None:
        self.session = session
        self.table_format = table_format
        # each stored table is the files of <warehouse>/<table>, read through a view of that
        # name: a rerun in a new session overwrites them (a managed table's location would
        # refuse to be written again once the session that made it is gone)
        self.warehouse = (
            warehouse or session.conf.get("spark.sql.warehouse.dir") or "spark-warehouse"
        ).rstrip("/")

    def _query(self, sql: str, params: Mapping[str, Any] | None) -> DataFrame:
        args = _spark_params(params, sql)
        return self.session.sql(to_spark(sql, SessionResolver(self.session, args), args), args=args)

    def _check(self, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"not a table name of this project: {name!r}")
        return name

    def create(
        self, table: str, sql: str, params: Mapping[str, Any] | None = None, *, kind: str = "table"
    ) -> None:
        """See attribution.engine.Engine.create."""
        name = self._check(table)
        frame = self._query(sql, params)
        if kind == "view":
            frame.createOrReplaceTempView(name)
        elif kind == "temp":
            frame.localCheckpoint().createOrReplaceTempView(name)
        else:
            self._store(name, frame, append=False)

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """See attribution.engine.Engine.frame."""
        result = pl.from_arrow(self._query(sql, params).toArrow())
        assert isinstance(result, pl.DataFrame)
        return result

    def write(self, table: str, frame: pl.DataFrame, *, append: bool = False) -> int:
        """See attribution.engine.Engine.write."""
        from pyspark.sql.pandas.types import from_arrow_schema

        name = self._check(table)
        arrow = arrow_for_spark(frame.to_arrow())
        spark_frame = (
            self.session.createDataFrame(arrow)
            if arrow.num_rows
            else self.session.createDataFrame([], schema=from_arrow_schema(arrow.schema))
        )
        if append:
            spark_frame = spark_frame.select(*self.session.table(name).columns)
        self._store(name, spark_frame, append=append)
        return self.count(name)

    def path_of(self, table: str) -> str:
        """Where a stored table's files are (named in the assets' metadata)."""
        return f"{self.warehouse}/{self._check(table)}"

    def _store(self, name: str, frame: DataFrame, *, append: bool) -> None:
        """Write a frame as the files of `name` (replacing or appending) and point the view
        `name` at them."""
        path = self.path_of(name)
        frame.write.mode("append" if append else "overwrite").format(self.table_format).save(path)
        self.session.read.format(self.table_format).load(path).createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        """See attribution.engine.Engine.drop."""
        name = self._check(name)
        self.session.catalog.dropTempView(name)

    def exists(self, name: str) -> bool:
        """See attribution.engine.Engine.exists."""
        return bool(self.session.catalog.tableExists(self._check(name)))

    def count(self, table: str) -> int:
        """See attribution.engine.Engine.count."""
        return int(self.session.table(self._check(table)).count())

    def define_macros(self) -> None:
        """Nothing: the transpiler inlines the macros into every statement."""

    def read(self, table: str) -> pa.Table:
        """See attribution.engine.Engine.read."""
        return self.session.table(self._check(table)).toArrow()

    def apply_by_group(
        self,
        table: str,
        queries: Mapping[str, str],
        function: Callable[[Mapping[str, pl.DataFrame]], pl.DataFrame],
        groups: int,
        key: str,
    ) -> int:
        """See attribution.engine.Engine.apply_by_group: in the executors, through
        applyInArrow, over groups of `key` values (hash(key) modulo the shuffle partitions;
        `groups`, the driver-side batch count, is not needed). The queries' rows are tagged by
        query, unioned by name and grouped; each group's rows are split back into frames."""
        from pyspark.sql import functions as F

        parts = {name: self._query(sql, {"batch": 0, "batches": 1}) for name, sql in queries.items()}
        columns = {name: frame.columns for name, frame in parts.items()}
        empty = {name: _polars(frame.limit(0).toArrow()) for name, frame in parts.items()}
        # the output's columns and types (Spark reads string, not polars' large_string)
        schema = pa.schema(
            pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
            for f in function(empty).to_arrow().schema
        )
        partitions = int(self.session.conf.get("spark.sql.shuffle.partitions") or 200)
        tagged = None
        for name, frame in parts.items():
            frame = frame.withColumn("_part_", F.lit(name))
            tagged = frame if tagged is None else tagged.unionByName(frame, allowMissingColumns=True)
        assert tagged is not None
        grouped = tagged.withColumn("_group_", F.pmod(F.hash(key), F.lit(partitions)))

        def per_group(rows: pa.Table) -> pa.Table:
            frames = {}
            whole = _polars(rows)
            for name, names in columns.items():
                part = whole.filter(pl.col("_part_") == name).select(names)
                frames[name] = part.cast(dict(empty[name].schema))  # type: ignore[arg-type]
            return function(frames).to_arrow().cast(schema)

        result = grouped.groupBy("_group_").applyInArrow(per_group, _spark_schema(schema))
        self._store(self._check(table), result, append=False)
        return self.count(table)

    def table_columns(self, table: str) -> list[str]:
        """See attribution.engine.Engine.table_columns."""
        return list(self.session.table(self._check(table)).columns)
