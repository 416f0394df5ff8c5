"""Holdout lift estimation (attribution.experiments.estimate): a hand-computed tiny world,
coverage over seeded worlds with a planted effect and with none, and degenerate arms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from attribution.experiments import ArmOutcomes, DecisionRule, estimate_lift, minimum_detectable_effect
from attribution.experiments.estimate import (
    RATIO_MIN_UNITS,
    estimate_ratio_lift,
    sample_ratio_p,
)

# three accounts per arm: pipeline in the test window (y) and the equal pre-period (x)
TINY = ArmOutcomes(
    treatment=np.array([3.0, 5.0, 7.0]),
    control=np.array([1.0, 2.0, 3.0]),
    treatment_pre=np.array([2.0, 4.0, 6.0]),
    control_pre=np.array([1.0, 2.0, 3.0]),
)


def test_the_tiny_world_by_hand():
    estimate = estimate_lift(TINY, DecisionRule(threshold=0.0), alpha=0.1, replicates=2000, seed=1)
    # means 5 and 2: lift 3 per treated account, 150% of the control's
    assert (estimate.treatment_mean, estimate.control_mean, estimate.lift) == (5.0, 2.0, 3.0)
    assert estimate.lift_pct == pytest.approx(1.5)
    # CUPED over all six: mean y 3.5, mean x 3; sum dy dx = 19, sum dx^2 = 16: theta 19/16.
    # Adjusted y - theta (x - 3): treated 4.1875 3.8125 3.4375 (mean 3.8125), control 3.375
    # 3.1875 3 (mean 3.1875): lift 0.625 (the treated had more pipeline before)
    assert estimate.cuped_theta == pytest.approx(19 / 16)
    assert estimate.cuped_lift == pytest.approx(0.625)
    # var y = 23.5 / 5; var adjusted = (23.5 - 19^2 / 16) / 5 = 0.9375 / 5
    assert estimate.variance_reduction == pytest.approx(1 - 0.9375 / 23.5)
    # Welch on the adjusted arms: variances 0.140625 and 0.03515625 over three each
    se2 = 0.140625 / 3 + 0.03515625 / 3
    df = se2**2 / ((0.140625 / 3) ** 2 / 2 + (0.03515625 / 3) ** 2 / 2)
    half = stats.t.ppf(0.95, df) * math.sqrt(se2)
    assert (estimate.low, estimate.high) == pytest.approx((0.625 - half, 0.625 + half))
    assert estimate.low > 0 and estimate.decision == "scale"
    # six units: a permutation p; of the 20 ways to pick three treated, the observed split
    # and its mirror are the most extreme: p = 2 / 20
    assert estimate.p_value_method == "permutation"
    assert estimate.p_value == pytest.approx(0.1, abs=0.02)
    assert estimate.total_incremental == pytest.approx(0.625 * 3)
    # a threshold above the interval: stop; inside it: inconclusive
    assert estimate_lift(TINY, DecisionRule(threshold=5.0)).decision == "stop"
    assert estimate_lift(TINY, DecisionRule(threshold=0.6)).decision == "inconclusive"


def _world(rng: np.random.Generator, units: int, per_deal_effect: float) -> tuple[ArmOutcomes, float]:
    """Accounts with a propensity to open deals (Gamma), Poisson deals in the pre-period and in
    the test window, lognormal amounts of mean 10,000; a treated account opens Poisson(effect)
    more deals: the planted incremental pipeline per treated account is effect x 10,000."""
    sigma = 1.0
    mu = math.log(10_000) - sigma**2 / 2

    def pipeline(deals: np.ndarray) -> np.ndarray:
        return np.array([rng.lognormal(mu, sigma, size=n).sum() for n in deals])

    propensity = rng.gamma(2.0, 0.25, size=2 * units)
    pre = pipeline(rng.poisson(propensity))
    extra = np.concatenate([rng.poisson(per_deal_effect, size=units), np.zeros(units, dtype=int)])
    test = pipeline(rng.poisson(propensity) + extra)
    outcomes = ArmOutcomes(test[:units], test[units:], pre[:units], pre[units:])
    return outcomes, per_deal_effect * 10_000


def test_the_90_percent_interval_covers_the_planted_lift_in_85_to_95_percent_of_worlds():
    rng = np.random.default_rng(20261207)
    covered = 0
    for world in range(200):
        outcomes, planted = _world(rng, 300, 0.3)
        estimate = estimate_lift(outcomes, DecisionRule(), alpha=0.1, replicates=200, seed=world)
        covered += estimate.low <= planted <= estimate.high
    assert 170 <= covered <= 190, covered  # 85-95% of 200


def test_with_no_effect_the_rule_declares_a_win_in_at_most_alpha_of_worlds():
    rng = np.random.default_rng(7)
    wins = sum(
        estimate_lift(
            _world(rng, 300, 0.0)[0], DecisionRule(), alpha=0.1, replicates=100, seed=world
        ).decision
        == "scale"
        for world in range(200)
    )
    # a win is a lower bound above 0: one tail of the 90% interval, about 5%; at most alpha
    assert wins <= 20, wins


def test_degenerate_arms_complete_with_a_warning():
    empty = ArmOutcomes(np.array([1.0, 2.0]), np.array([]), np.array([1.0, 1.0]), np.array([]))
    estimate = estimate_lift(empty, DecisionRule())
    assert estimate.decision == "no_decision" and estimate.lift is None
    assert "too few units" in estimate.warnings[0]
    flat = ArmOutcomes(np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4))
    estimate = estimate_lift(flat, DecisionRule())
    assert (estimate.lift, estimate.low, estimate.high, estimate.cuped_theta) == (0.0, 0.0, 0.0, 0.0)
    assert estimate.decision == "inconclusive" and "does not vary" in estimate.warnings[0]


def test_sample_ratio_mismatch_and_the_minimum_detectable_effect():
    # 500 / 500 when 20% were meant to be control: chi-square p far below 0.001
    assert sample_ratio_p(500, 500, 0.2) < 1e-6
    assert sample_ratio_p(800, 200, 0.2) == pytest.approx(1.0)
    # sd 1, 100 per arm, alpha 0.1, power 0.8: (1.6449 + 0.8416) x sqrt(2 / 100) = 0.3516
    pre = np.tile([-1.0, 1.0], 100) * math.sqrt(199 / 200)
    mde = minimum_detectable_effect(pre, 100, 100)
    assert mde == pytest.approx((stats.norm.ppf(0.95) + stats.norm.ppf(0.8)) * math.sqrt(2 / 100), rel=1e-6)
    assert minimum_detectable_effect(pre, 1, 100) is None


def test_a_ratio_decides_only_with_enough_units_in_its_denominator():
    # win rate: every unit has one closed deal; 12 of 20 treated won, 8 of 20 control: 0.6 and
    # 0.4, lift 0.2 (by hand); the bootstrap interval holds it
    won = (np.array([1.0] * 12 + [0.0] * 8), np.array([1.0] * 8 + [0.0] * 12))
    closed = (np.ones(20), np.ones(20))
    estimate = estimate_ratio_lift(won, closed, DecisionRule(), 0.1, 500, 3)
    assert (estimate.treatment_ratio, estimate.control_ratio) == (0.6, 0.4)
    assert estimate.lift == pytest.approx(0.2)
    assert estimate.low < 0.2 < estimate.high and estimate.warning is None
    # RATIO_MIN_UNITS - 1 control units with a closed deal (the rest have none): no decision
    few = RATIO_MIN_UNITS - 1
    closed = (np.ones(20), np.array([1.0] * few + [0.0] * (20 - few)))
    thin = estimate_ratio_lift(won, closed, DecisionRule(), 0.1, 500, 3)
    assert thin.decision == "no_decision" and thin.low is None
    assert f"20 treated, {few} control" in (thin.warning or "")
