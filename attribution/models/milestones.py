"""Milestone models (Marketo Measure's W-shaped and full path, and custom stage weights):
the touches holding a funnel milestone take that milestone's weight, the touches between
them share the rest.

Rules (Marketo Measure, "Marketo Measure attribution models", Adobe Experience League):
- a touch holding several milestones (say the first touch that is also the lead-creation
  touch) takes the weight of each;
- the touches holding no milestone share the between-weight equally;
- with no touch between the milestones, the between-weight goes to the milestone touches in
  proportion to their weights;
- a milestone no touch holds (no lead-creation touch, no closed won on a pipeline journey):
  its weight goes to the milestones that are held, in proportion to their weights; journeys
  without a lead-creation touch are counted in the metadata of `int_journey_milestones`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import JOURNEY_KEY, ModelInput, credits_frame
from attribution.models.spec import ModelSpec

__all__ = ["SPECS", "custom", "full_path", "milestone_credits", "w_shaped"]

BETWEEN = "between"


def milestone_credits(inputs: ModelInput, weights: Mapping[str, float], between: float) -> pl.DataFrame:
    """Credits of a milestone model: `weights` by milestone position, `between` for the
    touches holding none (see the module's rules)."""
    touches = inputs.journey_touches
    held = inputs.milestone_rows.join(
        pl.DataFrame(
            {"milestone": list(weights), "weight": list(weights.values())},
            schema={"milestone": pl.String, "weight": pl.Float64},
        ),
        on="milestone",
    )
    milestone_total = float(sum(weights.values()))
    # each touch's summed milestone weight (null: it holds none); a milestone is held by one
    # touch of its journey, so the journey's weights present are its touches' weights summed
    # (sums in value order: the credits do not depend on the order the rows come in)
    per_touch = held.group_by("row").agg(pl.col("weight").sort().sum())
    touch_weight = np.full(touches.height, np.nan)
    touch_weight[per_touch["row"].to_numpy()] = per_touch["weight"].to_numpy()
    frame = touches.with_columns(
        touch_weight=pl.Series(touch_weight, dtype=pl.Float64).fill_nan(None)
    ).with_columns(
        present_total=pl.col("touch_weight").sort().sum().over(JOURNEY_KEY),
        is_between=pl.col("touch_weight").is_null(),
        between_count=pl.col("touch_weight").is_null().sum().over(JOURNEY_KEY),
    )
    credit = (
        pl.when(pl.col("present_total") <= 0)
        .then(1.0 / pl.col("touch_count"))
        .when(pl.col("between_count") == 0)
        .then(pl.col("touch_weight") / pl.col("present_total"))
        .when(pl.col("is_between"))
        .then(between / pl.col("between_count"))
        .otherwise(pl.col("touch_weight") * milestone_total / pl.col("present_total"))
    )
    if milestone_total <= 0:  # every weight on the touches between: linear over them
        credit = (
            pl.when(pl.col("between_count") == 0)
            .then(1.0 / pl.col("touch_count"))
            .when(pl.col("is_between"))
            .then(1.0 / pl.col("between_count"))
            .otherwise(0.0)
        )
    return credits_frame(frame.with_columns(credit=credit))


def _held_and_between(weights: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """A model's weights as (milestone -> weight, the share of the touches holding none)."""
    return {name: w for name, w in weights.items() if name != BETWEEN}, weights.get(BETWEEN, 0.0)


def w_shaped(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """W-shaped: first touch, lead-creation touch and opportunity-creation touch 30% each, the
    touches between share 10% (weights configurable)."""
    return milestone_credits(inputs, *_held_and_between(config.weights.w_shaped))


def full_path(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Full path: first touch, lead creation, opportunity creation and closed won 22.5% each,
    the touches between share 10% (a pipeline journey has no closed-won touch: its weight
    goes to the other milestones, which makes it W-shaped)."""
    return milestone_credits(inputs, *_held_and_between(config.weights.full_path))


def custom(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Custom stage weights from the settings (`custom_weights`: {position: weight}, with
    `between` for the touches holding no milestone)."""
    return milestone_credits(inputs, *_held_and_between(config.weights.custom))


def _explain_milestones(weights: Mapping[str, float], between: float) -> pl.Expr:
    """'holds first_touch (30%), lead_created (30%)', or the share the touches between take."""
    held = pl.concat_str(
        [
            pl.when(pl.col("milestones").list.contains(name)).then(pl.lit(f"{name} ({weight * 100:g}%)"))
            for name, weight in weights.items()
        ],
        separator=", ",
        ignore_nulls=True,
    )
    return (
        pl.when(held != "")
        .then(pl.format("holds {}", held))
        .otherwise(pl.lit(f"between the milestones: the touches holding none share {between * 100:g}%"))
    )


def _explain_w_shaped(config: AttributionConfig) -> pl.Expr:
    return _explain_milestones(*_held_and_between(config.weights.w_shaped))


def _explain_full_path(config: AttributionConfig) -> pl.Expr:
    return _explain_milestones(*_held_and_between(config.weights.full_path))


def _explain_custom(config: AttributionConfig) -> pl.Expr:
    return _explain_milestones(*_held_and_between(config.weights.custom))


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "w_shaped",
        w_shaped,
        "30% each to the first touch, the lead-creation touch and the opportunity-creation touch, "
        "10% shared by the touches between (Marketo Measure's rules)",
        order=60,
        parameters=("w_shaped_weights", "lead_touch_types"),
        needs=("milestone_touches",),
        explain=_explain_w_shaped,
    ),
    ModelSpec(
        "full_path",
        full_path,
        "22.5% each to the first, lead-creation, opportunity-creation and closed-won touches, 10% "
        "shared by the touches between (pipeline journeys: W-shaped)",
        order=70,
        parameters=("full_path_weights", "lead_touch_types"),
        needs=("milestone_touches",),
        explain=_explain_full_path,
    ),
    ModelSpec(
        "custom",
        custom,
        "weights per milestone position (first touch, lead created, mql, ..., opportunity created, "
        "closed won) and for the touches between, from the settings",
        order=80,
        parameters=("custom_weights", "lead_touch_types"),
        needs=("milestone_touches",),
        explain=_explain_custom,
    ),
)
