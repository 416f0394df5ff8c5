"""Batching by account (bounded memory at scale) gives exactly the single-batch answer."""

from __future__ import annotations

import duckdb

from attribution.config import AttributionConfig
from attribution.journeys import build_null_paths
from attribution.pipeline import SourcePaths, batch_count, run_markov, run_models, run_pipeline
from tests.conftest import AS_OF

TABLES = (
    "int_null_path_touches",
    "int_markov_paths",
    "int_markov_fractions",
    "mart_attribution_credits",
    "markov_removal_effects",
    "markov_transitions",
)


def _snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: conn.sql(f"select * from {t} order by all").fetchall() for t in TABLES}


def test_many_small_batches_equal_one_batch(sample_dir):
    config = AttributionConfig(as_of=AS_OF)
    sources = SourcePaths(
        str(sample_dir / "touchpoints" / "*.csv"),
        str(sample_dir / "opportunities" / "*.csv"),
        str(sample_dir / "fx_rates.csv"),
    )
    with duckdb.connect() as conn:
        run_pipeline(conn, sources, config)
        whole = _snapshot(conn)
        assert batch_count(conn) == 1
        assert batch_count(conn, rows_per_batch=1_000) > 5
        build_null_paths(conn, config, rows_per_batch=1_500)
        run_markov(conn, config, rows_per_batch=1_000)
        run_models(conn, config, rows_per_batch=1_000)
        batched = _snapshot(conn)
    for table in TABLES:
        assert len(batched[table]) == len(whole[table]) > 0, table
        assert batched[table] == whole[table], table
