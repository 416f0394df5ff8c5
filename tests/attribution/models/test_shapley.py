"""Shapley values on conversion rates: a 3-channel game by hand, counts = linear over distinct
channels, the journey route, degenerate input."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.models import ModelInput, attribute, conservation_errors
from attribution.models.shapley import count_channel_sets, shapley, shapley_values
from tests.attribution.models.test_markov import journeys, null_paths, values

# Distinct channel sets: {a} 1 conversion, 1 non-converting path -> rate 1/2;
# {b} 1 and 3 -> 1/4; {a, b} 3 and 1 -> 3/4; {a, b, c} 1 and 0 -> 1; nothing else seen.
RATES = {
    frozenset("a"): 0.5,
    frozenset("b"): 0.25,
    frozenset("ab"): 0.75,
    frozenset("abc"): 1.0,
}


def _world() -> ModelInput:
    touches = journeys(
        [
            ("ja", ["a"]),
            ("jb", ["b"]),
            ("jab1", ["a", "b"]),
            ("jab2", ["b", "a"]),
            ("jab3", ["a", "b", "a"]),
            ("jabc", ["c", "a", "b"]),
        ]
    )
    nulls = null_paths([["a"], ["b"], ["b", "b"], ["b"], ["a", "b"]])
    amounts = {"ja": 10.0, "jb": 20.0, "jab1": 30.0, "jab2": 40.0, "jab3": 50.0, "jabc": 60.0}
    return ModelInput(touches, values(amounts), nulls)


def test_the_rates_come_from_converting_and_non_converting_paths():
    counts = (
        count_channel_sets(_world())
        .group_by("channel_set")
        .agg(pl.col("conversions").sum(), pl.col("nulls").sum())
    )
    got = {
        frozenset(s): c / (c + n)
        for s, c, n in counts.select("channel_set", "conversions", "nulls").iter_rows()
        if c
    }
    assert got == pytest.approx(RATES)


def test_three_channel_game_by_hand():
    # game on {a, b, c}, v = RATES (0 if unseen). Weights for n = 3: |S| = 0: 1/3, 1: 1/6, 2: 1/3.
    # phi_a = 1/3 v(a) + 1/6 [(v(ab) - v(b)) + (v(ac) - v(c))] + 1/3 (v(abc) - v(bc))
    #       = 1/6 + 1/6 (1/2 + 0) + 1/3 = 7/12
    # phi_b = 1/3 (1/4) + 1/6 [(3/4 - 1/2) + 0] + 1/3 (1 - 0) = 1/12 + 1/24 + 1/3 = 11/24
    # phi_c = 0 + 1/6 [(0 - 1/2) + (0 - 1/4)] + 1/3 (1 - 3/4) = -1/8 + 1/12 = -1/24
    # efficiency: 7/12 + 11/24 - 1/24 = 1 = v(abc)
    phi = shapley_values(("a", "b", "c"), lambda s: RATES.get(s, 0.0))
    assert phi == pytest.approx({"a": 7 / 12, "b": 11 / 24, "c": -1 / 24})


def test_journey_credits_follow_the_set_fractions():
    # {a, b}: phi_a = 1/2 v(a) + 1/2 (v(ab) - v(b)) = 1/4 + 1/4 = 1/2; phi_b = 1/8 + 1/8 = 1/4
    #   -> fractions 2/3, 1/3. {a, b, c}: c's negative value counts as 0 -> a 7/12 / (7/12 + 11/24)
    #   = 14/25, b 11/25, c 0. In jab3 (a, b, a) a's 2/3 is split over its two touches.
    credits = shapley(_world(), AttributionConfig())
    by_touch = {t: c for t, c in credits.select("touchpoint_id", "credit").iter_rows()}
    assert by_touch["ja-1"] == pytest.approx(1.0)
    assert (by_touch["jab1-1"], by_touch["jab1-2"]) == pytest.approx((2 / 3, 1 / 3))
    assert (by_touch["jab3-1"], by_touch["jab3-2"], by_touch["jab3-3"]) == pytest.approx(
        (1 / 3, 1 / 3, 1 / 3)
    )
    assert (by_touch["jabc-1"], by_touch["jabc-2"], by_touch["jabc-3"]) == pytest.approx(
        (0.0, 14 / 25, 11 / 25)
    )
    assert conservation_errors(credits.with_columns(model=pl.lit("shapley"))).is_empty()


def test_shapley_on_conversion_counts_is_linear_over_distinct_channels():
    # With the additive worth v(S) = conversions of every path whose channel set lies inside S,
    # the Shapley value gives each path's conversions to its distinct channels in equal parts:
    # linear attribution over distinct channels. Conversions: {a} 1, {b} 1, {a, b} 3, {a, b, c} 1.
    conversions = {frozenset("a"): 1, frozenset("b"): 1, frozenset("ab"): 3, frozenset("abc"): 1}
    phi = shapley_values(("a", "b", "c"), lambda s: sum(n for u, n in conversions.items() if u <= s))
    linear: dict[str, float] = {}
    for channel_set, n in conversions.items():
        for channel in channel_set:
            linear[channel] = linear.get(channel, 0.0) + n / len(channel_set)
    assert phi == pytest.approx(linear)  # a = b = 1 + 3/2 + 1/3, c = 1/3


def test_exact_values_agree_with_the_permutation_definition():
    # a second method: average marginal contribution over all 4! orderings
    players = ("a", "b", "c", "d")
    rates = {
        frozenset(s): (len(s) * 7 % 5) / 5 for r in range(1, 5) for s in itertools.combinations(players, r)
    }
    worth = lambda s: rates.get(s, 0.0)  # noqa: E731
    orders = list(itertools.permutations(players))
    expected = dict.fromkeys(players, 0.0)
    for order in orders:
        coalition: frozenset[str] = frozenset()
        for p in order:
            expected[p] += (worth(coalition | {p}) - worth(coalition)) / len(orders)
            coalition = coalition | {p}
    assert shapley_values(players, worth) == pytest.approx(expected)


def test_in_the_registry_with_empty_and_single_channel_journeys():
    touches = journeys([("o1", ["a"]), ("o2", ["a", "a"])])
    inputs = ModelInput(touches, values({"o1": 5.0, "o2": 5.0, "o3": 9.0}))
    credits = attribute(inputs, AttributionConfig())
    shapley_rows = credits.filter(pl.col("model") == "shapley")
    assert conservation_errors(credits).is_empty()
    assert shapley_rows.filter(pl.col("opportunity_id") == "o3")["channel"].to_list() == ["(none)"]
    assert shapley_rows.filter(pl.col("opportunity_id") == "o2")["credit"].to_list() == pytest.approx(
        [0.5, 0.5]
    )
