"""A Spark session (local[2], UTC) and the captures of every project SQL file from DuckDB runs
of the sample: the contract files, the sample as Salesforce and as HubSpot objects, and the
checks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import duckdb
import pytest

from attribution import checks
from attribution.config import AttributionConfig
from attribution.contracts import SOURCES
from attribution.crm.sample_objects import write_objects
from attribution.pipeline import SourcePaths, load_inputs, run_pipeline
from attribution.restatements import build_restatements, take_snapshot
from attribution.sample_data import SampleSpec, write_sample
from tests.conftest import AS_OF
from tests.engine_capture import Capture, CapturingConnection


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A local Spark session on two cores, its time zone UTC (every timestamp an instant)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from attribution.keys import name_key

    session = (
        SparkSession.builder.master("local[2]")
        .appName("attribution-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    session.udf.register("name_key", name_key, "string")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Capture]]:
    """Every SQL file's first run (inputs, parameters, DuckDB's result) over a small sample
    (~2,500 touches, seed 7) with every optional input, its Salesforce and HubSpot object
    exports, and the checks."""
    root = tmp_path_factory.mktemp("engine_sample")
    sample = root / "sample"
    write_sample(sample, SampleSpec(scale=0.05, seed=7))
    sources = SourcePaths(
        sample / "touchpoints" / "*.csv",
        sample / "opportunities" / "*.csv",
        sample / "fx_rates.csv",
        sample / "milestones.csv",
        sample / "spend.csv",
        experiments=sample / "experiments.csv",
        experiment_assignments=sample / "experiment_assignments.csv",
    )
    # the sample's holdout experiment calibrates linear (sql/reads/batch_calibration_credits.sql)
    config = AttributionConfig.from_settings(
        as_of=AS_OF,
        segment_columns=("segment", "region", "type"),
        interval_replicates=20,
        calibrated_models=("linear",),
    )
    found: dict[str, list[Capture]] = {}
    with CapturingConnection(duckdb.connect(str(root / "contract.duckdb"))) as conn:
        run_pipeline(conn, sources, config)  # type: ignore[arg-type]
        take_snapshot(conn, "run-1", config)  # type: ignore[arg-type]
        build_restatements(conn)  # type: ignore[arg-type]
        for source in ("touchpoints", "opportunities", "fx_rates"):
            checks.row_accounting_violations(conn, source)  # type: ignore[arg-type]
        checks.credit_conservation_violations(conn)  # type: ignore[arg-type]
        checks.touches_after_event(conn)  # type: ignore[arg-type]
        checks.markov_violations(conn)  # type: ignore[arg-type]
        checks.markov_gap_violations(conn, 0.5)  # type: ignore[arg-type]
        checks.unreconciled_rows(conn)  # type: ignore[arg-type]
        checks.unreconciled_cuts(conn)  # type: ignore[arg-type]
        found.update(conn.captures)
    for crm in ("salesforce", "hubspot"):
        objects = root / crm
        write_objects(sample, objects, crm)
        crm_sources = SourcePaths(
            None, None, sample / "fx_rates.csv", None, sample / "spend.csv", objects=objects
        )
        crm_config = config.with_settings(
            source_format=f"{crm}_objects", segment_columns=("segment", "region")
        )
        with CapturingConnection(duckdb.connect(str(root / f"{crm}.duckdb"))) as conn:
            load_inputs(conn, crm_sources, crm_config)  # type: ignore[arg-type]
            for path, runs in conn.captures.items():
                found.setdefault(path, runs)
    assert set(SOURCES) >= {"touchpoints", "opportunities"}
    return found
