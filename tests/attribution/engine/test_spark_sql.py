"""One SQL source on two engines (issue 24): the project's DuckDB SQL transpiled to Spark SQL
(attribution.engine.spark_sql) computes what DuckDB computes. Each file is replayed on Spark
against the very tables DuckDB read when it ran over the sample, shuffled and repartitioned
(a result that depends on row order fails), and compared with DuckDB's result: keys and counts
exact, money and credits within 1e-9 (the pico-unit sums are exact integers on both)."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
import sqlglot
from polars.testing import assert_frame_equal

from attribution.engine.spark import SessionResolver, arrow_for_spark
from attribution.engine.spark_sql import ENGINE_KEYS, SparkSqlError, needs_session, spark_sql, to_spark
from attribution.sql import SQL_DIR

# files that are not one query over tables, with why
NOT_REPLAYED = {
    "macros.sql": "the macros, inlined into every Spark statement (attribution.engine.spark_sql.macros)",
    "checks/totals_reconcile.sql": "a template: Python splices mart_reconciliation.sql into it (replayed as that mart)",
    "snapshots/snapshot_tables.sql": "DDL of the run history, which lives in the DuckDB file on both engines",
    "snapshots/snapshot_runs.sql": "an insert into the DuckDB file's run history",
    "snapshots/snapshot_opportunities.sql": "an insert into the DuckDB file's run history",
    "snapshots/snapshot_attributed_by_month.sql": "an insert into the DuckDB file's run history",
    "snapshots/prune_snapshots.sql": "a delete from the DuckDB file's run history",
    "staging/load_audit.sql": "DDL of the DuckDB file's load audit",
    "staging/quarantine.sql": "DDL of the DuckDB file's quarantine",
}
SQL_FILES = sorted(str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql"))
REPLAYED = [f for f in SQL_FILES if f not in NOT_REPLAYED]


def test_not_replayed_files_exist():
    assert set(NOT_REPLAYED) <= set(SQL_FILES)


# ---- the rules, on statements small enough to read (no Spark needed) ----


def _spark_of(sql: str) -> str:
    return to_spark(sql).lower()


def test_parameters_stay_bound_markers():
    assert _spark_of("select * from t where a = $as_of and b in (select unnest($models))").count(":") >= 2
    assert "$" not in _spark_of("select $as_of as x")


def test_an_ordered_list_keeps_its_order():
    # sqlglot alone writes collect_list(x) and drops the order (issue 24's silent hazard)
    out = _spark_of("select list(channel order by occurred_at, touchpoint_id) from t")
    assert (
        "array_sort((collect_list(struct(occurred_at as k0, touchpoint_id as k1, channel as v))))" in out
        and "s -> s.v" in out
    )
    with pytest.raises(SparkSqlError):
        to_spark("select list(x order by y desc) from t")


def test_macros_are_inlined_with_their_arguments():
    out = _spark_of("select to_picos(amount * credit) as p from t")
    assert "to_picos" not in out
    assert "cast(round((amount * credit) * 1e12) as decimal(38, 0))" in out


def test_asof_join_becomes_an_interval_join():
    out = _spark_of("select * from s asof left join r as a on s.c = a.c and s.d >= a.d")
    assert "asof left join" not in out
    assert "lead(d) over (partition by c order by d) as _asof_next_" in out
    assert "a._asof_next_ is null or (s.d) < a._asof_next_" in out


def test_duckdb_types_spark_lacks():
    out = _spark_of("select x::hugeint, y::usmallint, z::uinteger, t::timestamp from u")
    assert "decimal(38, 0)" in out and "as int)" in out and "as bigint)" in out
    assert "timestamp_ntz" not in out  # every timestamp is an instant under a UTC session


def test_rowid_and_unordered_row_numbers():
    assert "touchpoints.touchpoint_id as touch_row" in _spark_of(
        "select touchpoints.rowid as touch_row from stg_touchpoints as touchpoints"
    )
    assert "monotonically_increasing_id()" in _spark_of("select row_number() over () as k from t")
    # a named window is written out, so its row_number keeps its order
    out = _spark_of("select row_number() over w as p from t window w as (partition by a order by b)")
    assert "row_number() over (partition by a order by b" in out


def test_columns_without_a_session_is_a_clear_error():
    with pytest.raises(SparkSqlError, match="COLUMNS"):
        to_spark("select sum(columns('^picos_')) from t")


@pytest.mark.parametrize("path", [f for f in REPLAYED])
def test_every_file_parses_and_transpiles(path):
    if needs_session(path):
        with pytest.raises(SparkSqlError):
            spark_sql(path)
    else:
        sqlglot.parse_one(spark_sql(path), read="spark")


# ---- replayed on Spark ----


def _for_spark(table: pa.Table) -> pa.Table:
    """DuckDB's Arrow as the Spark engine writes it (unsigned integers widened, timestamps UTC
    instants), touch_row as Spark's int_eligible_touches writes it (the touch's id, where
    DuckDB writes its rowid)."""
    out = arrow_for_spark(table)
    if "touch_row" in out.column_names and "touchpoint_id" in out.column_names:
        out = out.set_column(out.column_names.index("touch_row"), "touch_row", out["touchpoint_id"])
    return out


def _comparable(table: pa.Table) -> pl.DataFrame:
    """A result as comparable values: decimals and integers as numbers, timestamps naive UTC,
    names lower case, engine keys left out, rows sorted by every column."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if series.dtype.is_decimal():
            # a sum of integers (DuckDB: hugeint, Spark: decimal(38, 0)) stays an integer
            series = series.cast(pl.Int64 if getattr(series.dtype, "scale", 0) == 0 else pl.Float64)
        elif series.dtype.is_integer():
            series = series.cast(pl.Int64)
        elif series.dtype == pl.Float32:
            series = series.cast(pl.Float64)
        elif isinstance(series.dtype, pl.List) and series.dtype.inner.is_integer():
            series = series.cast(pl.List(pl.Int64))
        elif isinstance(series.dtype, pl.Datetime):
            series = series.dt.replace_time_zone(None).cast(pl.Datetime("us"))
        if name.lower() not in ENGINE_KEYS:
            columns[name.lower()] = series
    out = pl.DataFrame(columns)
    # exact columns first, floats last (rounded: a last-bit difference must not reorder rows)
    exact = [c for c in sorted(out.columns) if not out[c].dtype.is_float()]
    floats = [c for c in sorted(out.columns) if out[c].dtype.is_float()]
    keys = [pl.col(c).hash() if out[c].dtype.is_nested() else pl.col(c).cast(pl.String) for c in exact]
    keys += [pl.col(c).round(6) for c in floats]
    return out.sort(keys, nulls_last=True).select(sorted(out.columns)) if out.width else out


@pytest.mark.parametrize("path", REPLAYED)
def test_each_file_on_spark_equals_duckdb(path, captures, spark):
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    assert path in captures, f"{path} never ran in the DuckDB runs the test captures"
    capture = captures[path][0]
    for name, table in capture.inputs.items():
        table = _for_spark(table)
        frame = (
            spark.createDataFrame(table)
            if table.num_rows
            else spark.createDataFrame([], schema=from_arrow_schema(table.schema))
        )
        # shuffled and spread over three partitions: nothing may depend on the rows' order
        frame.orderBy(F.rand(seed=24)).repartition(3).createOrReplaceTempView(name)
    sql = spark_sql(path, SessionResolver(spark, capture.params), capture.params)
    result = spark.sql(sql, args=capture.params).toArrow()
    duck, sparks = _comparable(capture.result), _comparable(result)
    assert duck.columns == sparks.columns
    assert duck.height == sparks.height, f"{duck.height} rows on DuckDB, {sparks.height} on Spark"
    assert_frame_equal(duck, sparks, check_dtypes=False, abs_tol=1e-9, rel_tol=1e-9)
