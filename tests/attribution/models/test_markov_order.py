"""Markov order selection on worlds whose true order is known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from attribution.models.markov_order import auc, select_order


def _world(seed: int, paths: int, second_order: bool) -> pl.DataFrame:
    """Paths over channels a, b, c drawn one touch at a time, each followed by another with
    probability 0.6 (a memoryless length). Second order: a path converts when its last two
    channels are equal (probability 0.8, else 0.1); first order: when it ends in a."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(paths):
        path = [str(rng.choice(["a", "b", "c"]))]
        while rng.random() < 0.6:
            path.append(str(rng.choice(["a", "b", "c"])))
        hot = len(path) > 1 and path[-1] == path[-2] if second_order else path[-1] == "a"
        converted = bool(rng.random() < (0.8 if hot else 0.1))
        rows.append((path, converted, i % 5 == 0))
    return pl.DataFrame(
        rows,
        schema={"path": pl.List(pl.String), "is_converted": pl.Boolean, "is_holdout": pl.Boolean},
        orient="row",
    )


def test_a_second_order_world_recommends_order_two():
    scores = select_order(_world(1, 6_000, second_order=True), "pipeline", configured_order=1)
    by_order = {r["markov_order"]: r for r in scores.iter_rows(named=True)}
    assert [o for o, r in by_order.items() if r["is_recommended"]] == [2]
    assert [o for o, r in by_order.items() if r["is_configured"]] == [1]  # unchanged
    # order 1 sees only the last channel: its AUC stays near chance; order 2 sees the pair
    assert by_order[1]["holdout_auc"] < 0.6
    assert by_order[2]["holdout_auc"] > 0.8
    assert by_order[2]["holdout_log_likelihood"] > by_order[1]["holdout_log_likelihood"]
    assert by_order[1]["holdout_paths"] == 1_200 and by_order[1]["training_paths"] == 4_800


def test_a_first_order_world_keeps_order_one():
    scores = select_order(_world(2, 6_000, second_order=False), "pipeline", configured_order=3)
    assert scores.filter("is_recommended")["markov_order"].to_list() == [1]
    assert scores.filter("is_configured")["markov_order"].to_list() == [3]
    # higher orders memorize the training paths: no better, and worse, on the held-out ones
    likelihood = scores.sort("markov_order")["holdout_log_likelihood"].to_list()
    assert likelihood[0] >= max(likelihood[1:])


def test_scores_are_the_same_by_pair_table_or_by_binary_search(monkeypatch):
    # The held-out lookups go through a table over the (state, next step) key space when it
    # is small and a binary search over the counted pairs otherwise: both give every score
    # to the last bit, at every order (order 4 over three channels: 4^4 states).
    from attribution.models import markov_order

    world = _world(4, 3_000, second_order=True)
    by_table = select_order(world, "pipeline", configured_order=1)
    monkeypatch.setattr(markov_order, "DENSE_PAIR_LIMIT", 0)
    assert select_order(world, "pipeline", configured_order=1).equals(by_table)


def test_nothing_held_out_recommends_nothing():
    world = _world(3, 50, second_order=False).with_columns(is_holdout=pl.lit(False))
    scores = select_order(world, "revenue", configured_order=1)
    assert len(scores) == 4 and not scores["is_recommended"].any()


def test_auc_by_hand():
    # positives score 0.9 and 0.4, negatives 0.4 and 0.1: pairs (0.9>0.4, 0.9>0.1, 0.4=0.4 half,
    # 0.4>0.1) = 3.5 of 4
    scores = np.array([0.9, 0.4, 0.4, 0.1])
    positive = np.array([True, True, False, False])
    assert auc(scores, positive) == pytest.approx(3.5 / 4)
    assert np.isnan(auc(scores, np.ones(4, dtype=bool)))


def test_auc_equals_pairs_counted_one_by_one():
    # many ties (scores on a coarse grid): the rank-sum AUC against counting every
    # (positive, negative) pair, a win 1 and a tie 1/2
    rng = np.random.default_rng(5)
    scores = np.round(rng.random(300), 1)
    positive = rng.random(300) < 0.3
    pos, neg = scores[positive], scores[~positive]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert auc(scores, positive) == pytest.approx(pairs / (pos.size * neg.size), rel=1e-12)
