"""Shared fixtures: a fixed as-of time, small DuckDB connections, CSV writers, a sample world."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.sample_data import SampleSpec, write_sample

REPO_ROOT = Path(__file__).resolve().parent.parent
DIRTY_DIR = REPO_ROOT / "data" / "dirty"
AS_OF = datetime(2026, 6, 1)


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


def materialize_full_history(defs: "dg.Definitions") -> list["dg.ExecuteInProcessResult"]:
    """What `make run` does: every touch partition in one range run, then everything else."""
    import dagster as dg

    from dagster_defs.partitions import daily_touch_partitions

    keys = daily_touch_partitions.get_partition_keys()
    job = defs.resolve_implicit_global_asset_job_def()
    touches = dg.AssetKey("stg_touchpoints")
    first = job.execute_in_process(
        asset_selection=[touches],
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )
    assert first.success
    rest = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k != touches]
    second = job.execute_in_process(asset_selection=rest, raise_on_error=False)
    return [first, second]
