"""Holdout lift of one experiment and metric: the difference in means per unit between the
treatment and control arms, CUPED-adjusted by the same metric in an equal pre-period, with a
Welch interval, a seeded bootstrap over units within arm, a permutation p-value when the arms
are small, and the pre-registered decision rule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special  # the distributions scipy.stats wraps, without its 0.7 s import

__all__ = [
    "DECISIONS",
    "ArmOutcomes",
    "DecisionRule",
    "LiftEstimate",
    "RatioEstimate",
    "estimate_lift",
    "estimate_ratio_lift",
    "minimum_detectable_effect",
    "sample_ratio_p",
]

DECISIONS: tuple[str, ...] = ("scale", "stop", "inconclusive", "no_decision")
# arms this small or smaller (both together) get a permutation p-value instead of Welch's
PERMUTATION_UNITS = 200
PERMUTATIONS = 5_000


@dataclass(frozen=True)
class ArmOutcomes:
    """Per unit of each arm: the metric in the test window and in the equal pre-period."""

    treatment: np.ndarray
    control: np.ndarray
    treatment_pre: np.ndarray
    control_pre: np.ndarray


@dataclass(frozen=True)
class DecisionRule:
    """Scale when the interval's lower bound of the lift per treated unit exceeds `threshold`;
    stop when its upper bound is below it; else inconclusive."""

    threshold: float = 0.0


@dataclass(frozen=True)
class LiftEstimate:
    """What mart_experiment_results holds for one experiment and metric."""

    treated_units: int
    control_units: int
    treatment_mean: float | None
    control_mean: float | None
    lift: float | None
    lift_pct: float | None
    cuped_theta: float | None
    cuped_lift: float | None
    variance_reduction: float | None
    low: float | None
    high: float | None
    bootstrap_low: float | None
    bootstrap_high: float | None
    p_value: float | None
    p_value_method: str | None
    total_incremental: float | None
    decision: str
    warnings: tuple[str, ...] = field(default=())


def _welch(
    diff: float, treatment: np.ndarray, control: np.ndarray, alpha: float
) -> tuple[float, float, float]:
    """(low, high, two-sided p) of Welch's t for a difference in means."""
    var_t, var_c = treatment.var(ddof=1), control.var(ddof=1)
    se2 = var_t / treatment.size + var_c / control.size
    if se2 == 0:
        return diff, diff, (1.0 if diff == 0 else 0.0)
    df = se2**2 / (
        (var_t / treatment.size) ** 2 / (treatment.size - 1)
        + (var_c / control.size) ** 2 / (control.size - 1)
    )
    se = math.sqrt(se2)
    half = float(special.stdtrit(df, 1 - alpha / 2)) * se  # Student's t quantile
    p = float(2 * special.stdtr(df, -abs(diff) / se))  # two-sided tail
    return diff - half, diff + half, p


def _bootstrap(
    treatment: np.ndarray, control: np.ndarray, alpha: float, replicates: int, seed: int
) -> tuple[float, float]:
    """Percentile interval of the difference in means, resampling units within each arm."""
    rng = np.random.default_rng(seed)
    t = rng.choice(treatment, size=(replicates, treatment.size), replace=True).mean(axis=1)
    c = rng.choice(control, size=(replicates, control.size), replace=True).mean(axis=1)
    low, high = np.quantile(t - c, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _permutation_p(treatment: np.ndarray, control: np.ndarray, seed: int) -> float:
    """Two-sided p of the difference in means under random relabelling of the arms (seeded),
    with the observed labelling counted (never 0)."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([treatment, control])
    observed = abs(treatment.mean() - control.mean())
    draws = np.array([rng.permutation(pooled) for _ in range(PERMUTATIONS)])
    diffs = np.abs(draws[:, : treatment.size].mean(axis=1) - draws[:, treatment.size :].mean(axis=1))
    return float((1 + np.sum(diffs >= observed - 1e-12)) / (PERMUTATIONS + 1))


def _cuped(outcomes: ArmOutcomes) -> tuple[float, np.ndarray, np.ndarray, float]:
    """θ = cov(y, x) / var(x) over both arms, the adjusted outcomes y - θ (x - mean x) of each
    arm, and the variance reduction 1 - var(adjusted) / var(y) (0 when x does not vary)."""
    y = np.concatenate([outcomes.treatment, outcomes.control])
    x = np.concatenate([outcomes.treatment_pre, outcomes.control_pre])
    var_x = x.var(ddof=1)
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    adjusted = y - theta * (x - x.mean())
    var_y = y.var(ddof=1)
    reduction = float(1 - adjusted.var(ddof=1) / var_y) if var_y > 0 else 0.0
    n = outcomes.treatment.size
    return theta, adjusted[:n], adjusted[n:], reduction


def _decide(low: float | None, high: float | None, rule: DecisionRule) -> str:
    if low is None or high is None:
        return "no_decision"
    if low > rule.threshold:
        return "scale"
    if high < rule.threshold:
        return "stop"
    return "inconclusive"


def estimate_lift(
    outcomes: ArmOutcomes, rule: DecisionRule, alpha: float = 0.1, replicates: int = 1000, seed: int = 0
) -> LiftEstimate:
    """The lift of the treatment per unit and its (1 - alpha) interval: CUPED-adjusted Welch
    (the interval the rule decides on), the bootstrap beside it; p from permutations when the
    arms hold PERMUTATION_UNITS units or fewer, else Welch's. An arm with fewer than two units
    gives no estimate (decision no_decision) and a warning."""
    n_t, n_c = outcomes.treatment.size, outcomes.control.size
    warnings: list[str] = []
    if n_t < 2 or n_c < 2:
        warnings.append(f"too few units to estimate: {n_t} treated, {n_c} control (two per arm at least)")
        return LiftEstimate(
            treated_units=n_t,
            control_units=n_c,
            treatment_mean=float(outcomes.treatment.mean()) if n_t else None,
            control_mean=float(outcomes.control.mean()) if n_c else None,
            lift=None,
            lift_pct=None,
            cuped_theta=None,
            cuped_lift=None,
            variance_reduction=None,
            low=None,
            high=None,
            bootstrap_low=None,
            bootstrap_high=None,
            p_value=None,
            p_value_method=None,
            total_incremental=None,
            decision="no_decision",
            warnings=tuple(warnings),
        )
    mean_t, mean_c = float(outcomes.treatment.mean()), float(outcomes.control.mean())
    lift = mean_t - mean_c
    theta, adjusted_t, adjusted_c, reduction = _cuped(outcomes)
    cuped_lift = float(adjusted_t.mean() - adjusted_c.mean())
    welch_low, welch_high, welch_p = _welch(cuped_lift, adjusted_t, adjusted_c, alpha)
    boot_low, boot_high = _bootstrap(adjusted_t, adjusted_c, alpha, replicates, seed)
    if n_t + n_c <= PERMUTATION_UNITS:
        p_value, method = _permutation_p(adjusted_t, adjusted_c, seed), "permutation"
    else:
        p_value, method = welch_p, "welch"
    if np.concatenate([outcomes.treatment, outcomes.control]).var() == 0:
        warnings.append("the metric does not vary across units: the interval has no width")
    return LiftEstimate(
        treated_units=n_t,
        control_units=n_c,
        treatment_mean=mean_t,
        control_mean=mean_c,
        lift=lift,
        lift_pct=lift / mean_c if mean_c else None,
        cuped_theta=theta,
        cuped_lift=cuped_lift,
        variance_reduction=reduction,
        low=welch_low,
        high=welch_high,
        bootstrap_low=boot_low,
        bootstrap_high=boot_high,
        p_value=p_value,
        p_value_method=method,
        total_incremental=cuped_lift * n_t,
        decision=_decide(welch_low, welch_high, rule),
        warnings=tuple(warnings),
    )


def minimum_detectable_effect(
    pre_outcomes: np.ndarray, treated: int, control: int, alpha: float = 0.1, power: float = 0.8
) -> float | None:
    """The smallest lift per treated unit the arms detect with `power` at `alpha` (two-sided),
    from the metric's variance in the pre-period: (z(1 - alpha / 2) + z(power)) x sd x
    sqrt(1 / treated + 1 / control). None with fewer than two units in an arm."""
    if treated < 2 or control < 2 or pre_outcomes.size < 2:
        return None
    sd = float(pre_outcomes.std(ddof=1))
    z = float(special.ndtri(1 - alpha / 2) + special.ndtri(power))  # normal quantiles
    return z * sd * math.sqrt(1 / treated + 1 / control)


def sample_ratio_p(treated: int, control: int, control_share: float) -> float:
    """The chi-square p-value of the arms' sizes against the intended control share: a small
    p (below 0.001) is a sample-ratio mismatch (the assignment or the data lost units)."""
    total = treated + control
    if total == 0:
        return 1.0
    observed = np.array([treated, control], dtype=float)
    expected = np.array([total * (1 - control_share), total * control_share])
    if (expected == 0).any():  # an intended split of 0 or 1: any unit in the empty arm is a mismatch
        return 1.0 if np.array_equal(observed == 0, expected == 0) else 0.0
    # Pearson's chi-square with one degree of freedom (scipy.stats.chisquare's statistic)
    return float(special.chdtrc(1, float(((observed - expected) ** 2 / expected).sum())))


@dataclass(frozen=True)
class RatioEstimate:
    """A ratio metric's arms (sum of numerators over sum of denominators of their units), its
    lift and a seeded bootstrap interval over units within arm (the unit is what was
    randomized, not the deal); None where an arm's denominator is 0."""

    treatment_ratio: float | None
    control_ratio: float | None
    lift: float | None
    low: float | None
    high: float | None
    decision: str
    warning: str | None = None


# a ratio's bootstrap needs this many units with a non-empty denominator (a closed deal, a won
# deal) per arm: with 3 against 2 the percentile interval is narrow by accident and decided
RATIO_MIN_UNITS = 10


def estimate_ratio_lift(
    numerators: tuple[np.ndarray, np.ndarray],
    denominators: tuple[np.ndarray, np.ndarray],
    rule: DecisionRule,
    alpha: float = 0.1,
    replicates: int = 1000,
    seed: int = 0,
) -> RatioEstimate:
    """(treatment, control) numerators and denominators per unit -> the ratio of each arm, the
    difference, and the percentile interval of the difference over bootstrap replicates
    (resampled units; a replicate with an empty denominator is left out). Fewer than
    RATIO_MIN_UNITS units with a non-empty denominator in an arm: the ratios and the lift, no
    interval, no decision, and a warning that says so."""
    ratios = [
        float(n.sum() / d.sum()) if d.sum() > 0 else None
        for n, d in zip(numerators, denominators, strict=True)
    ]
    if ratios[0] is None or ratios[1] is None:
        return RatioEstimate(
            ratios[0],
            ratios[1],
            None,
            None,
            None,
            "no_decision",
            "an arm without a unit in the denominator: no ratio",
        )
    counted = [int((d > 0).sum()) for d in denominators]
    if min(counted) < RATIO_MIN_UNITS:
        return RatioEstimate(
            ratios[0],
            ratios[1],
            ratios[0] - ratios[1],
            None,
            None,
            "no_decision",
            f"too few units in the denominator for an interval: {counted[0]} treated, {counted[1]} "
            f"control ({RATIO_MIN_UNITS} per arm at least)",
        )
    rng = np.random.default_rng(seed)
    draws = []
    for n, d in zip(numerators, denominators, strict=True):
        picks = rng.integers(0, d.size, size=(replicates, d.size))
        with np.errstate(divide="ignore", invalid="ignore"):
            draws.append(n[picks].sum(axis=1) / d[picks].sum(axis=1))
    differences = draws[0] - draws[1]
    differences = differences[np.isfinite(differences)]
    low, high = (float(v) for v in np.quantile(differences, [alpha / 2, 1 - alpha / 2]))
    return RatioEstimate(ratios[0], ratios[1], ratios[0] - ratios[1], low, high, _decide(low, high, rule))
