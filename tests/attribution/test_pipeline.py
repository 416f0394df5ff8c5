"""Batching by account (bounded memory at scale) gives exactly the single-batch answer."""

from __future__ import annotations

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.journeys import build_null_paths
from attribution.pipeline import SourcePaths, batch_count, run_markov, run_models, run_pipeline
from tests.conftest import AS_OF

TABLES = (
    "int_null_path_touches",
    "int_markov_paths",
    "int_markov_fractions",
    "mart_attribution_credits",
    "mart_markov_removal_effects",
    "markov_transitions",
)


def _snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
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
        assert batch_count(conn, 300, "reads/credit_batch_rows.sql") > 5  # the credit pass too
        build_null_paths(conn, config, rows_per_batch=1_500)
        run_markov(conn, config, rows_per_batch=1_000)
        run_models(conn, config, rows_per_batch=300)
        batched = _snapshot(conn)
    for table in TABLES:
        assert len(batched[table]) == len(whole[table]) > 0, table
        assert batched[table] == whole[table], table


@pytest.fixture(scope="module")
def sample_run(sample_dir):
    """The whole pipeline on the sample's touches, opportunities and their stage history, in
    memory."""
    sources = SourcePaths(
        str(sample_dir / "touchpoints" / "*.csv"),
        str(sample_dir / "opportunities" / "*.csv"),
        opportunity_history=sample_dir / "opportunity_history.csv",
    )
    with duckdb.connect() as conn:
        run_pipeline(conn, sources, AttributionConfig(as_of=AS_OF))
        yield conn


def test_markov_paths_are_the_touch_tables_aggregated(sample_run):
    # int_markov_paths is built from polars chunks (pipeline null paths) and SQL (the rest):
    # every row equals the touch tables aggregated one path at a time, here in SQL.
    by_touches = sample_run.sql(
        """
        select journey_kind, opportunity_id, account_id, true, count(*),
            list(channel order by position)
        from int_journey_touches where is_converted group by all
        union all
        select journey_kind, path_id, account_id, false, count(*), list(channel order by position)
        from int_null_path_touches group by all
        order by all
        """
    ).fetchall()
    paths = sample_run.sql(
        "select journey_kind, path_id, account_id, is_converted, touch_count, path "
        "from int_markov_paths order by all"
    ).fetchall()
    kinds = sample_run.sql(
        "select journey_kind, is_converted, count(*) from int_markov_paths group by all order by all"
    ).fetchall()
    assert paths == by_touches
    assert [(k, c) for k, c, n in kinds if n > 0] == [
        ("pipeline", False),
        ("pipeline", True),
        ("qualified", False),
        ("qualified", True),
        ("revenue", False),
        ("revenue", True),
    ]


def test_wide_credits_carry_the_campaign_of_their_touch(sample_run):
    # The marts label campaigns from int_attribution_credits.campaign (no join back to the
    # touches): it equals the journey touch's campaign, joined here by the touch's key; the
    # unattributed (none) rows have none.
    mismatched, with_campaign, total = sample_run.sql(
        """
        select
            count_if(credits.campaign is distinct from touches.campaign),
            count(credits.campaign),
            count(*)
        from int_attribution_credits as credits
        left join int_journey_touches as touches
            using (journey_kind, opportunity_id, touchpoint_id)
        """
    ).fetchall()[0]
    none_rows = sample_run.sql(
        "select count(*), count(campaign) from int_attribution_credits where channel = '(none)'"
    ).fetchall()[0]
    assert mismatched == 0 and 0 < with_campaign < total
    assert none_rows[0] > 0 and none_rows[1] == 0
