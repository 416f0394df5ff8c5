"""Confidence intervals: coverage where the answer is known, determinism, the replicate
refits against the point fits, and the intervals in the marts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.intervals import IntervalInputs, bootstrap_intervals
from attribution.models.markov_chain import (
    count_transitions,
    removal_effects,
    solve_chain,
    transient_states,
)
from attribution.models.shapley import _set_fractions, replicate_set_fractions
from attribution.pipeline import SourcePaths, run_pipeline

EMPTY_PATHS = pl.DataFrame(schema={"opportunity_id": pl.String, "path": pl.List(pl.String)})
EMPTY_NULLS = pl.DataFrame(schema={"path": pl.List(pl.String), "nulls": pl.Int64})


def _single_touch_world(seed: int, opportunities: int, share_a: float) -> IntervalInputs:
    """Journeys of one touch: channel a with probability share_a, else b; lognormal amounts
    independent of the channel, so a's true share of first-touch pipeline is share_a."""
    rng = np.random.default_rng(seed)
    ids = [f"o{i:05d}" for i in range(opportunities)]
    amounts = rng.lognormal(np.log(25_000), 0.8, opportunities)
    channels = np.where(rng.random(opportunities) < share_a, "a", "b")
    return IntervalInputs(
        "pipeline",
        pl.DataFrame({"opportunity_id": ids, "journey_amount": amounts}),
        pl.DataFrame(
            {
                "model": "first_touch",
                "opportunity_id": ids,
                "channel": channels,
                "campaign": "(no campaign)",
                "attributed_amount": amounts,
            }
        ),
        EMPTY_PATHS,
        EMPTY_NULLS,
    )


def test_ninety_percent_intervals_cover_the_true_share_about_ninety_percent_of_the_time():
    # 200 independent worlds of 400 deals; a's true share is 0.3 in each. A correct 90%
    # interval holds it in ~180 of 200 (binomial sd sqrt(200 x 0.9 x 0.1) = 4.2): accept
    # 167..193 (+-3 sd). Replicates 400 keep the percentile noise small.
    config = AttributionConfig.from_settings(interval_replicates=400, interval_seed=11)
    covered = 0
    for seed in range(200):
        intervals = bootstrap_intervals([_single_touch_world(seed, 400, 0.3)], config)
        row = intervals.filter(pl.col("level") == "channel", pl.col("channel") == "a").row(0, named=True)
        covered += row["share_low"] <= 0.3 <= row["share_high"]
    assert 167 <= covered <= 193, covered


def test_intervals_are_reproducible_and_follow_the_seed():
    world = _single_touch_world(3, 300, 0.4)
    first = bootstrap_intervals([world], AttributionConfig.from_settings(interval_seed=5))
    again = bootstrap_intervals([world], AttributionConfig.from_settings(interval_seed=5))
    other = bootstrap_intervals([world], AttributionConfig.from_settings(interval_seed=6))
    assert first.equals(again)
    assert not first.equals(other)
    # a wider level gives a wider interval around the same replicates
    wide = bootstrap_intervals([world], AttributionConfig.from_settings(interval_seed=5, interval_level=0.99))
    width = (pl.col("share_high") - pl.col("share_low")).alias("width")
    assert (wide.select(width)["width"] > first.select(width)["width"]).all()
    assert bootstrap_intervals([world], AttributionConfig.from_settings(interval_replicates=0)).is_empty()


def test_the_order_of_the_input_rows_does_not_move_the_intervals(sample_run):
    from attribution.intervals import read_interval_inputs

    config = AttributionConfig.from_settings(interval_replicates=50)
    inputs = [read_interval_inputs(sample_run, kind) for kind in ("pipeline", "revenue")]

    def shuffled_credits(item: IntervalInputs) -> Callable[[str], pl.DataFrame]:
        assert item.credits_of is not None
        read = item.credits_of
        return lambda model: read(model).sample(fraction=1.0, shuffle=True, seed=2)

    shuffled = [
        IntervalInputs(
            i.journey_kind,
            i.opportunities.sample(fraction=1.0, shuffle=True, seed=1),
            None,
            i.journey_paths.sample(fraction=1.0, shuffle=True, seed=3),
            i.null_paths.sample(fraction=1.0, shuffle=True, seed=4),
            credits_of=shuffled_credits(i),
            models=i.models,
        )
        for i in inputs
    ]
    first = bootstrap_intervals(inputs, config)
    again = bootstrap_intervals(shuffled, config)
    assert first.drop("attributed_low", "attributed_high", "share_low", "share_high").equals(
        again.drop("attributed_low", "attributed_high", "share_low", "share_high")
    )
    for column in ("attributed_low", "attributed_high", "share_low", "share_high"):
        assert first[column].to_numpy() == pytest.approx(again[column].to_numpy(), rel=1e-9, abs=1e-9), column


def test_credits_read_model_by_model_give_the_intervals_of_one_frame(sample_run):
    # the SQL path (one model at a time, indices computed in DuckDB) and the frame path (all
    # credits in one frame, indices by joins) are the same bootstrap; the SQL path sums each
    # touch's amount in pico-units (as the marts), so the frame gets them rounded alike
    from attribution.intervals import read_interval_inputs

    config = AttributionConfig.from_settings(interval_replicates=40)
    by_model = [read_interval_inputs(sample_run, kind) for kind in ("pipeline", "revenue")]
    one_frame = [
        IntervalInputs(
            i.journey_kind,
            i.opportunities,
            sample_run.sql(
                "select model, opportunity_id, channel, case when channel = '(none)' then '(none)' "
                "else coalesce(campaign, '(no campaign)') end as campaign, "
                "from_picos(to_picos(attributed_amount)) as attributed_amount "
                "from mart_attribution_credits where journey_kind = ?",
                params=[i.journey_kind],
            ).pl(),
            i.journey_paths,
            i.null_paths,
        )
        for i in by_model
    ]
    first, second = bootstrap_intervals(by_model, config), bootstrap_intervals(one_frame, config)
    assert first.select("journey_kind", "model", "level", "channel", "campaign").equals(
        second.select("journey_kind", "model", "level", "channel", "campaign")
    )
    for column in ("attributed_low", "attributed_high", "share_low", "share_high"):
        assert first[column].to_numpy() == pytest.approx(second[column].to_numpy(), rel=1e-9, abs=1e-6), (
            column
        )


def test_markov_transitions_counted_a_few_paths_at_a_time_give_the_same_intervals(sample_run, monkeypatch):
    # The Markov replicates count the paths' transitions a block of paths at a time (bounded
    # memory at scale); blocks of 7 paths (hundreds of blocks, converting and null paths
    # split across block edges) give every interval to the last bit. The weights of the
    # opportunities are kept as one-byte integers: the same draws as float64.
    from attribution import intervals_replicates
    from attribution.intervals import read_interval_inputs

    config = AttributionConfig.from_settings(interval_replicates=30, models=("markov",))
    inputs = [read_interval_inputs(sample_run, kind) for kind in ("pipeline", "revenue")]
    whole = bootstrap_intervals(inputs, config)
    monkeypatch.setattr(intervals_replicates, "PATH_BLOCK", 7)
    assert bootstrap_intervals(inputs, config).equals(whole)
    blocks = intervals_replicates.poisson_blocks(3, 0, 120_000, 5)
    assert [b[1].dtype for b in blocks] == [np.uint8, np.uint8, np.uint8]
    assert [start for start, _ in blocks] == [0, 50_000, 100_000]
    drawn = np.random.default_rng([3, 0, 1]).poisson(1.0, size=(50_000, 5))
    assert np.array_equal(blocks[1][1].astype(np.int64), drawn)


def test_the_lean_chain_solve_matches_the_full_one():
    paths = pl.DataFrame(
        {
            "path": [["a", "b"], ["b"], ["a", "c", "b"], ["c"], ["a"]],
            "conversions": [3, 1, 2, 0, 0],
            "nulls": [1, 4, 0, 5, 2],
        }
    )
    for order in (1, 2):
        counts = count_transitions(paths, order)
        transient, _ = transient_states(counts)
        p, removal, _ = removal_effects(
            transient, counts.from_code, counts.to_code, counts.count, len(counts.channels), order
        )
        chain = solve_chain(counts)
        assert p == pytest.approx(chain.p_conversion, abs=1e-15)
        assert removal == pytest.approx(chain.removal_effects["removal_effect"].to_numpy(), abs=1e-15)


def test_replicated_shapley_fractions_equal_the_fit_for_each_replicate():
    sets = [("a",), ("b",), ("a", "b"), ("a", "b", "c"), ("c",), ("b", "c")]
    conversions = np.array([[5, 0], [3, 2], [4, 4], [2, 1], [0, 3], [1, 1]], dtype=float)
    nulls = np.array([[10, 2], [20, 1], [3, 9], [5, 5], [4, 0], [6, 2]], dtype=float)
    replicated = replicate_set_fractions(sets, conversions, nulls)
    for b in range(2):
        rates = {
            frozenset(s): c / (c + n)
            for s, c, n in zip(sets, conversions[:, b], nulls[:, b], strict=True)
            if c > 0
        }
        for channel_set, fractions in zip(sets, replicated, strict=True):
            expected = _set_fractions(rates, channel_set)
            assert fractions[:, b] == pytest.approx([expected[c] for c in channel_set], abs=1e-12)


@pytest.fixture(scope="module")
def sample_run(sample_dir, tmp_path_factory):
    import duckdb

    database = tmp_path_factory.mktemp("intervals") / "run.duckdb"
    conn = duckdb.connect(str(database))
    sources = SourcePaths(
        sample_dir / "touchpoints" / "*.csv",
        sample_dir / "opportunities" / "*.csv",
        sample_dir / "fx_rates.csv",
        sample_dir / "milestones.csv",
    )
    config = AttributionConfig(as_of=datetime(2026, 11, 1), run_started_at=datetime(2026, 11, 1))
    run_pipeline(conn, sources, config)
    yield conn
    conn.close()


def test_every_model_and_channel_has_an_interval_around_its_figure(sample_run):
    rows = sample_run.sql(
        "select journey_kind, model, channel, attributed_amount, attributed_low, attributed_high, share_of_total, "
        "share_low, share_high, confidence_level from mart_channel_comparison"
    ).pl()
    assert rows["attributed_low"].null_count() == 0
    assert (rows["confidence_level"] == 0.9).all()
    assert (
        (rows["share_low"] >= 0) & (rows["share_high"] <= 1) & (rows["share_low"] <= rows["share_high"])
    ).all()
    # the figure lies inside its percentile interval (not guaranteed for a skewed replicate
    # distribution, so: nearly always)
    inside = (rows["share_low"] <= rows["share_of_total"]) & (rows["share_of_total"] <= rows["share_high"])
    assert inside.mean() >= 0.95
    # the unattributed pseudo-channel's interval is the same under every model: its credits do
    # not depend on the model, and every model is resampled with the same weights
    none = rows.filter(pl.col("channel") == "(none)").select(
        "journey_kind", "attributed_low", "attributed_high"
    )
    assert len(none) == 20 and len(none.unique()) == 2  # ten models, one interval per journey kind
    campaigns = sample_run.sql(
        "select count(*), count(attributed_low) from mart_campaign_comparison"
    ).fetchall()[0]
    assert campaigns[0] == campaigns[1] > 0


def test_intervals_off_leave_the_columns_null(sample_run):
    from attribution.pipeline import build_mart, run_intervals

    config = AttributionConfig.from_settings(as_of=datetime(2026, 11, 1), interval_replicates=0)
    assert run_intervals(sample_run, config) == 0
    build_mart(sample_run, "mart_channel_comparison", config)
    assert sample_run.sql("select count(share_low) from mart_channel_comparison").fetchall() == [(0,)]
