"""Rule-based models of DESIGN §3: first_touch, last_touch, linear, time_decay, position_based."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import JOURNEY_KEY, ModelInput, credits_frame
from attribution.models.spec import ModelSpec

__all__ = ["SPECS", "first_touch", "last_touch", "linear", "position_based", "time_decay"]


def first_touch(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Credit 1 to the first touch of each journey (ties in time broken by touchpoint_id)."""
    touches = inputs.journey_touches
    return credits_frame(touches.with_columns(credit=(pl.col("position") == 1).cast(pl.Float64)))


def last_touch(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Credit 1 to the last touch of each journey (ties in time broken by touchpoint_id)."""
    touches = inputs.journey_touches
    return credits_frame(
        touches.with_columns(credit=(pl.col("position") == pl.col("touch_count")).cast(pl.Float64))
    )


def linear(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Credit 1/n to each of the n touches of a journey."""
    touches = inputs.journey_touches
    weights = config.touch_type_weights
    if weights:  # per-touch-type weights: credit proportional to the touch's weight
        weighted = touches.with_columns(weight=_type_weight(weights))
        return credits_frame(weighted.with_columns(credit=_normalized(pl.col("weight"))))
    return credits_frame(touches.with_columns(credit=1.0 / pl.col("touch_count")))


def _type_weight(weights: Mapping[str, float]) -> pl.Expr:
    """The touch's touch_type weight (unlisted and unknown types weigh 1)."""
    return (
        pl.col("touch_type")
        .replace_strict(dict(weights), default=1.0, return_dtype=pl.Float64)
        .fill_null(1.0)
    )


def _normalized(weight: pl.Expr) -> pl.Expr:
    """Weights as credits summing to 1 per journey; a journey whose touches all weigh 0 is
    linear."""
    total = weight.sort().sum().over(JOURNEY_KEY)  # summed in value order: see time_decay
    return pl.when(total > 0).then(weight / total).otherwise(1.0 / pl.col("touch_count"))


def time_decay(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Weight 2^(-days_before_event / half_life), normalized per journey.

    The exponent is shifted by the journey's smallest gap so the nearest touch weighs 1:
    the same ratios, but no underflow to 0/0 for long gaps or tiny half-lives. A journey's
    weights are summed in value order, so the credits do not depend on the order the touches
    come in (a float sum does: reruns would differ in the last bit).
    """
    touches = inputs.journey_touches
    half_life = config.time_decay_half_life_days
    gap = pl.col("days_before_event") - pl.col("days_before_event").min().over(JOURNEY_KEY)
    weighted = touches.with_columns(weight=pl.lit(2.0).pow(-gap / half_life))
    weights = config.touch_type_weights
    if weights:
        weighted = weighted.with_columns(weight=pl.col("weight") * _type_weight(weights))
        return credits_frame(weighted.with_columns(credit=_normalized(pl.col("weight"))))
    return credits_frame(
        weighted.with_columns(credit=pl.col("weight") / pl.col("weight").sort().sum().over(JOURNEY_KEY))
    )


def position_based(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """U-shaped: the first and last touches take their weights (default 40% each), the middle
    touches share the middle weight (20%) equally.

    As Google Analytics' former position-based model: one touch takes 100%; with two
    touches there is no middle, and its share goes to first and last in proportion to their
    weights (50/50 by default). Ties in time are ordered by touchpoint_id, as everywhere.
    """
    weights = config.weights.position_based
    first, middle, last = weights["first"], weights["middle"], weights["last"]
    n, position = pl.col("touch_count"), pl.col("position")
    return credits_frame(
        inputs.journey_touches.with_columns(
            credit=pl.when(n == 1)
            .then(1.0)
            .when(n == 2)
            .then(pl.when(position == 1).then(first / (first + last)).otherwise(last / (first + last)))
            .when(position == 1)
            .then(first)
            .when(position == n)
            .then(last)
            .otherwise(middle / (n - 2))
        )
    )


def _percent(weight: float) -> str:
    return f"{weight * 100:g}%"


def _explain_first_touch(config: AttributionConfig) -> pl.Expr:
    return (
        pl.when(pl.col("position") == 1)
        .then(pl.lit("the journey's first touch takes it all"))
        .otherwise(pl.lit("not the first touch"))
    )


def _explain_last_touch(config: AttributionConfig) -> pl.Expr:
    return (
        pl.when(pl.col("position") == pl.col("touch_count"))
        .then(pl.lit("the journey's last touch takes it all"))
        .otherwise(pl.lit("not the last touch"))
    )


def _explain_type_weight(config: AttributionConfig, what: str) -> pl.Expr | None:
    """'touch type X weighs w' when touch_type_weights are set (None without)."""
    weights = config.touch_type_weights
    if not weights:
        return None
    return pl.format(
        "{}touch type {} weighs {}",
        pl.lit(what),
        pl.col("touch_type").fill_null("(none)"),
        _type_weight(weights),
    )


def _explain_linear(config: AttributionConfig) -> pl.Expr:
    typed = _explain_type_weight(config, "")
    if typed is not None:
        return pl.format("{} of the journey's {}", typed, _type_weight(config.touch_type_weights).sum())
    return pl.format("1/{}: an equal share with the journey's other touches", pl.col("touch_count"))


def _explain_time_decay(config: AttributionConfig) -> pl.Expr:
    half_life = config.time_decay_half_life_days
    days = pl.col("days_before_event")
    weight = pl.lit(2.0).pow(-(days - days.min()) / half_life)
    if config.touch_type_weights:
        weight = weight * _type_weight(config.touch_type_weights)
    return pl.format(
        "{} days before the event, half-life {} days: weight {} of the journey's {} (the nearest touch weighs 1)",
        days.round(1),
        pl.lit(half_life),
        weight.round_sig_figs(3),
        weight.sum().round_sig_figs(4),
    )


def _explain_position_based(config: AttributionConfig) -> pl.Expr:
    weights = config.weights.position_based
    first, middle, last = weights["first"], weights["middle"], weights["last"]
    n, position = pl.col("touch_count"), pl.col("position")
    return (
        pl.when(n == 1)
        .then(pl.lit("the only touch: 100%"))
        .when(n == 2)
        .then(
            pl.lit(
                f"one of two touches: no middle, so first and last share it {_percent(first)}:{_percent(last)}"
            )
        )
        .when(position == 1)
        .then(pl.lit(f"first touch: {_percent(first)}"))
        .when(position == n)
        .then(pl.lit(f"last touch: {_percent(last)}"))
        .otherwise(pl.format(f"a middle touch: {_percent(middle)} shared by the {{}} middle touches", n - 2))
    )


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "first_touch",
        first_touch,
        "all credit to the journey's first touch",
        order=10,
        mergeable=True,
        contrast=True,
        explain=_explain_first_touch,
    ),
    ModelSpec(
        "last_touch",
        last_touch,
        "all credit to the journey's last touch",
        order=20,
        mergeable=True,
        contrast=True,
        explain=_explain_last_touch,
    ),
    ModelSpec(
        "linear",
        linear,
        "equal credit to every touch",
        order=30,
        parameters=("touch_type_weights",),
        mergeable=True,
        explain=_explain_linear,
    ),
    ModelSpec(
        "time_decay",
        time_decay,
        "weight 2^(-days before the event / half-life), normalized per journey",
        order=40,
        parameters=("time_decay_half_life_days", "touch_type_weights"),
        mergeable=True,
        explain=_explain_time_decay,
    ),
    ModelSpec(
        "position_based",
        position_based,
        "U-shaped: 40% first, 40% last, 20% shared by the middle touches "
        "(weights configurable; two touches 50/50, one touch 100%)",
        order=50,
        parameters=("position_based_weights",),
        mergeable=True,
        explain=_explain_position_based,
    ),
)
