"""Switching engines (issue 24): the engine setting, the Spark settings a run reads from its
environment, and the clear errors when the Spark engine cannot start."""

from __future__ import annotations

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.engine import DuckDBEngine, EngineUnavailableError, as_engine, engine_for
from attribution.engine.spark import settings_from_environment


def test_the_engine_setting_is_checked():
    assert AttributionConfig().engine == "duckdb"
    assert AttributionConfig(engine="spark").engine == "spark"
    with pytest.raises(ValueError, match="engine must be one of duckdb, spark"):
        AttributionConfig(engine="snowflake")


def test_duckdb_needs_no_engine_object_and_a_connection_becomes_the_duckdb_engine():
    assert engine_for("duckdb") is None
    with duckdb.connect() as conn:
        engine = as_engine(conn)
        assert isinstance(engine, DuckDBEngine) and engine.conn is conn
        assert as_engine(engine) is engine
        engine.create("t", "select 1 as a union all select 2", kind="table")
        assert engine.count("t") == 2 and engine.exists("t")
        engine.drop("t")
        assert not engine.exists("t")


def test_spark_settings_from_the_environment():
    settings = settings_from_environment(
        {
            "ATTRIBUTION_SPARK_MASTER": "spark://cluster:7077",
            "ATTRIBUTION_SPARK_WAREHOUSE": "s3a://bucket/attribution",
            "ATTRIBUTION_SPARK_TABLE_FORMAT": "delta",
            "ATTRIBUTION_SPARK_CONF": "spark.executor.memory=8g, spark.sql.shuffle.partitions=400",
        }
    )
    assert settings.master == "spark://cluster:7077" and settings.connect_url is None
    assert settings.table_format == "delta"
    assert dict(settings.conf) == {
        "spark.executor.memory": "8g",
        "spark.sql.shuffle.partitions": "400",
        "spark.sql.warehouse.dir": "s3a://bucket/attribution",
    }
    defaults = settings_from_environment({})
    assert (defaults.master, defaults.table_format, dict(defaults.conf)) == ("local[2]", "parquet", {})
    assert settings_from_environment({"ATTRIBUTION_SPARK_CONNECT": "sc://host:15002"}).connect_url == (
        "sc://host:15002"
    )
    with pytest.raises(ValueError, match="is not key=value"):
        settings_from_environment({"ATTRIBUTION_SPARK_CONF": "spark.executor.memory"})


def test_spark_without_java_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("ATTRIBUTION_SPARK_CONNECT", raising=False)
    with pytest.raises(EngineUnavailableError, match="needs a Java runtime"):
        engine_for("spark")


def test_an_unknown_engine_is_a_clear_error():
    with pytest.raises(EngineUnavailableError, match="duckdb or spark"):
        engine_for("snowflake")
