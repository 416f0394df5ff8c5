"""Rule-based models of DESIGN §3: first_touch, last_touch, linear, time_decay, position_based."""

from __future__ import annotations

import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import JOURNEY_KEY, ModelInput, credits_frame

__all__ = ["first_touch", "last_touch", "linear", "position_based", "time_decay"]


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
    weights = config.touch_type_weight_map()
    if weights:  # per-touch-type weights: credit proportional to the touch's weight
        weighted = touches.with_columns(weight=_type_weight(weights))
        return credits_frame(weighted.with_columns(credit=_normalized(pl.col("weight"))))
    return credits_frame(touches.with_columns(credit=1.0 / pl.col("touch_count")))


def _type_weight(weights: dict[str, float]) -> pl.Expr:
    """The touch's touch_type weight (unlisted and unknown types weigh 1)."""
    return pl.col("touch_type").replace_strict(weights, default=1.0, return_dtype=pl.Float64).fill_null(1.0)


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
    weights = config.touch_type_weight_map()
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
    first, middle, last = config.position_based_weights
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
