"""Shared fixtures: a fixed as-of time, small DuckDB connections, CSV writers, a sample world."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.sample_data import SampleSpec, write_sample

if TYPE_CHECKING:
    import dagster as dg

REPO_ROOT = Path(__file__).resolve().parent.parent
DIRTY_DIR = REPO_ROOT / "data" / "dirty"
AS_OF = datetime(2026, 6, 1)

# the slow groups, marked so a developer can run the fast set (make test-fast); make test and
# CI run them all: the Spark tests in a pytest run of their own, in one process (one Spark
# session; two at once on two cores only slowed both), the rest on pytest-xdist workers.
SPARK_MODULES = ("test_spark_cluster.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # the slow tests first, so the workers start them early and finish together
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        path = Path(str(item.fspath))
        if "ui" in path.relative_to(REPO_ROOT).parts[:2]:
            item.add_marker(pytest.mark.ui)
        elif "spark" in getattr(item, "fixturenames", ()) or path.name in SPARK_MODULES:
            item.add_marker(pytest.mark.spark)


@pytest.fixture
def config() -> AttributionConfig:
    return AttributionConfig(as_of=AS_OF)


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """Write a small CSV (None becomes an empty field)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deterministic sample world at 1/5 of the default scale (~10k touches)."""
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, SampleSpec(scale=0.2, seed=7))
    return out


@pytest.fixture(scope="session")
def published_sample(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample run end to end with every optional input and the segment columns, one
    snapshot taken, exported with its HTML report: the export folder."""
    from attribution.export import export_marts
    from attribution.html_report import write_report
    from attribution.pipeline import SourcePaths, input_files, run_pipeline
    from attribution.restatements import build_restatements, take_snapshot

    workdir = tmp_path_factory.mktemp("published")
    sources = SourcePaths(
        sample_dir / "touchpoints" / "*.csv",
        sample_dir / "opportunities" / "*.csv",
        sample_dir / "fx_rates.csv",
        sample_dir / "milestones.csv",
        sample_dir / "spend.csv",
        opportunity_history=sample_dir / "opportunity_history.csv",
    )
    from attribution.runfile import SAMPLE_SETTINGS  # the segments, the mql journey kind

    config = AttributionConfig.from_settings(SAMPLE_SETTINGS, as_of=AS_OF, interval_replicates=50)
    with duckdb.connect(str(workdir / "run.duckdb")) as conn:
        run_pipeline(conn, sources, config)
        take_snapshot(conn, "run-1", config)
        build_restatements(conn)
        export_marts(conn, workdir / "exports", config, input_files(sources))
        write_report(conn, workdir / "exports", config)
    return workdir / "exports"


def materialize_all(defs: dg.Definitions) -> list[dg.ExecuteInProcessResult]:
    """What `make run` does: one run materializes every asset (inputs loaded in full)."""
    job = defs.resolve_implicit_global_asset_job_def()
    return [job.execute_in_process(raise_on_error=False)]
