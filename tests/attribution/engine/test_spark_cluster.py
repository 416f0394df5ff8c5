"""The user's path on a Spark cluster of separate executor processes (issue 24):
`attribution-run --engine spark` with ATTRIBUTION_SPARK_MASTER=local-cluster[2,1,1024] (two
executor JVMs beside the driver, as on a real cluster: rows cross processes) exports the same
marts as `attribution-run` on DuckDB, to the cent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from attribution.export import EXPORT_TABLES
from attribution.sample_data import SampleSpec, write_sample

# the marts finance reads (the run history and the per-run audit hold wall-clock times)
COMPARED = [t for t in EXPORT_TABLES if t.startswith("mart_") and t != "mart_restatements"]


def _run(sample: Path, out: Path, engine: str, extra_env: dict[str, str]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "attribution.cli",
            "--engine",
            engine,
            "--touchpoints",
            str(sample / "touchpoints" / "*.csv"),
            "--opportunities",
            str(sample / "opportunities" / "*.csv"),
            "--fx-rates",
            str(sample / "fx_rates.csv"),
            "--spend",
            str(sample / "spend.csv"),
            "--database",
            str(out / "run.duckdb"),
            "--export-dir",
            str(out / "exports"),
            "--as-of",
            "2026-06-01",
            "--interval-replicates",
            "0",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **extra_env},
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "attribution-run: done" in done.stdout


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    exact = [c for c in frame.columns if not frame[c].dtype.is_float()]
    return frame.sort(exact, nulls_last=True) if exact else frame


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("spark_cluster")
    write_sample(root / "sample", SampleSpec(scale=0.03, seed=5))
    _run(root / "sample", root / "duckdb", "duckdb", {})
    _run(
        root / "sample",
        root / "spark",
        "spark",
        {
            "ATTRIBUTION_SPARK_MASTER": "local-cluster[2,1,1024]",
            "ATTRIBUTION_SPARK_WAREHOUSE": str(root / "warehouse"),
            "ATTRIBUTION_SPARK_CONF": "spark.sql.shuffle.partitions=4,spark.ui.enabled=false",
        },
    )
    return root / "duckdb" / "exports", root / "spark" / "exports"


def test_the_cluster_stored_its_tables_in_the_warehouse(exports):
    warehouse = exports[1].parent.parent / "warehouse"
    assert (warehouse / "int_attribution_credits").is_dir()
    assert any((warehouse / "int_journeys").glob("*.parquet"))


@pytest.mark.parametrize("table", COMPARED)
def test_every_exported_mart_equals_the_duckdb_run(exports, table):
    on_duckdb, on_spark = (pl.read_parquet(folder / f"{table}.parquet") for folder in exports)
    assert on_duckdb.columns == on_spark.columns
    assert on_duckdb.height == on_spark.height
    assert_frame_equal(_sorted(on_duckdb), _sorted(on_spark), check_dtypes=False, abs_tol=0.005, rel_tol=1e-9)
