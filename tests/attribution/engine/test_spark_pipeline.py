"""The whole pipeline on the Spark engine (issue 24): the sample's ingest on DuckDB, its staged
tables handed to Spark shuffled over three partitions, every later step on Spark local[2],
the marts collected into a DuckDB file; every mart and the terminal comparison equal the
DuckDB run's (keys and counts exact, money to the cent, credits within 1e-9)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from attribution.config import AttributionConfig
from attribution.engine.spark import SparkEngine
from attribution.pipeline import SourcePaths, run_pipeline
from attribution.report import comparison_table, headline_totals
from attribution.sample_data import SampleSpec, write_sample
from attribution.steps import COLLECTED, MART_TABLES
from tests.attribution.engine.test_spark_sql import _comparable
from tests.conftest import AS_OF


class ShuffledSparkEngine(SparkEngine):
    """The Spark engine with every written table shuffled over three partitions: a step
    whose result depends on the rows' order (a list without its order) fails the test."""

    def _store(self, name, frame, *, append):
        from pyspark.sql import functions as F

        super()._store(name, frame.orderBy(F.rand(seed=24)).repartition(3), append=append)


def _rows(conn: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """A table as comparable, sorted values (test_spark_sql._comparable)."""
    return _comparable(conn.table(table).arrow().read_all())


@pytest.fixture(scope="module")
def both_runs(spark, tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]:
    root: Path = tmp_path_factory.mktemp("spark_pipeline")
    write_sample(root / "sample", SampleSpec(scale=0.05, seed=11))
    sample = root / "sample"
    sources = SourcePaths(
        sample / "touchpoints" / "*.csv",
        sample / "opportunities" / "*.csv",
        sample / "fx_rates.csv",
        sample / "milestones.csv",
        sample / "spend.csv",
        opportunity_history=sample / "opportunity_history.csv",
        experiments=sample / "experiments.csv",
        experiment_assignments=sample / "experiment_assignments.csv",
    )
    # every journey kind: qualified (the stage history) and a milestone kind; a calibrated
    # model (the sample's holdout experiment) rewrites the credits on the run's engine
    config = AttributionConfig.from_settings(
        as_of=AS_OF,
        segment_columns=("segment", "region"),
        interval_replicates=10,
        journey_kinds=("pipeline", "revenue", "qualified", "mql"),
        calibrated_models=("linear",),
    )
    on_duckdb = duckdb.connect(str(root / "duckdb.duckdb"))
    run_pipeline(on_duckdb, sources, config)
    on_spark = duckdb.connect(str(root / "spark.duckdb"))
    steps: list[str] = []
    run_pipeline(on_spark, sources, replace(config), steps.append, engine=ShuffledSparkEngine(spark))
    assert steps[-4:] == ["intervals", "marts", "velocity_intervals", "experiments_vs_attribution"]
    assert "hand_over" in steps and steps.index("experiments") < steps.index("models")
    return on_duckdb, on_spark


@pytest.mark.parametrize("table", [t for t in COLLECTED if t not in ("int_attribution_intervals",)])
def test_every_collected_table_equals_the_duckdb_run(both_runs, table):
    on_duckdb, on_spark = both_runs
    duck, spark = _rows(on_duckdb, table), _rows(on_spark, table)
    assert duck.columns == spark.columns
    assert duck.height == spark.height
    assert_frame_equal(duck, spark, check_dtypes=False, abs_tol=1e-9, rel_tol=1e-9)


def test_the_intervals_are_the_duckdb_runs(both_runs):
    # the bootstrap replicates are drawn from seeded weights per opportunity: the same
    # journeys and credits on either engine give the same intervals
    on_duckdb, on_spark = both_runs
    duck, spark = _rows(on_duckdb, "int_attribution_intervals"), _rows(on_spark, "int_attribution_intervals")
    assert duck.height > 0
    assert_frame_equal(duck, spark, check_dtypes=False, abs_tol=1e-9, rel_tol=1e-9)


def test_the_terminal_comparison_and_totals_are_the_same_to_the_cent(both_runs):
    on_duckdb, on_spark = both_runs
    for kind in ("pipeline", "revenue"):
        duck, spark = comparison_table(on_duckdb, kind), comparison_table(on_spark, kind)
        assert duck.columns == spark.columns
        assert_frame_equal(duck, spark, check_dtypes=False, abs_tol=0.005)
    assert headline_totals(on_duckdb) == pytest.approx(headline_totals(on_spark), abs=0.005)
    assert set(MART_TABLES) <= set(COLLECTED)
