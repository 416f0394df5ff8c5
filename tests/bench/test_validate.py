"""The ground-truth validation harness: its truth on a world worked out by hand, the
stability of its redraws, and its determinism."""

from __future__ import annotations

import pytest

from attribution.sample_data import CHANNELS
from bench.validate import World, draw_world, total_variation, true_incremental, validate


def test_a_world_with_one_effective_channel_gives_it_all_the_incremental_pipeline():
    # only referral sparks deals and nothing is sales-sourced: without referral no deal is
    # created, without any other channel every deal still is. So referral's incremental
    # pipeline is the whole pipeline and every other channel's is 0.
    only_referral = World(
        "only_referral",
        "referral alone causes deals",
        accounts=300,
        spark={c: (0.3 if c == "referral" else 0.0) for c in CHANNELS},
        sales_sourced_per_account=0.0,
    )
    _, opportunities = draw_world(only_referral, seed=5)
    pipeline = float(opportunities["amount"].sum())
    assert len(opportunities) > 10
    truth = true_incremental(only_referral, seed=5)
    assert truth["referral"] == pytest.approx(pipeline)
    assert all(value == 0.0 for channel, value in truth.items() if channel != "referral")


def test_redrawing_without_a_channel_moves_nothing_else():
    # the no-effect world: removing paid_social (which sparks nothing) leaves every deal as it
    # was, ids and amounts; only its touches go
    world = World("no_effect", "", accounts=200, spark={"paid_social": 0.0})
    touches, opportunities = draw_world(world, seed=2)
    touches_without, opportunities_without = draw_world(world, seed=2, removed="paid_social")
    assert opportunities.equals(opportunities_without)
    assert (touches_without["channel"] != "paid_social").all()
    assert len(touches_without) == len(touches) - (touches["channel"] == "paid_social").sum()


def test_total_variation_by_hand():
    # half the credit on a, half on b, when a caused everything: half the credit is misplaced
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 1.0}) == pytest.approx(0.5)
    assert total_variation({"a": 0.2, "b": 0.8}, {"a": 0.2, "b": 0.8}) == pytest.approx(0.0)


def test_the_harness_is_deterministic(tmp_path):
    world = World("small", "", accounts=150, large_deal_channel="event")
    first = validate([world], [1], tmp_path / "one")
    again = validate([world], [1], tmp_path / "two")
    assert first.equals(again)
    assert len(first) == 10 and first["distance"].is_between(0, 1).all()
