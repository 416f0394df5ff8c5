"""The shared model signature: journey touches in, per-touch credits out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from attribution.config import AttributionConfig

__all__ = [
    "CREDIT_COLUMNS",
    "JOURNEY_KEY",
    "WIDE_KEY",
    "AttributionModel",
    "ModelInput",
    "credits_frame",
    "fraction_credits",
    "touch_fraction_credits",
]

JOURNEY_KEY: tuple[str, str] = ("journey_kind", "opportunity_id")
# the fitted fractions of the Markov and Shapley models: one row per (journey_kind,
# opportunity, channel), the channel's share of the journey and how many touches it has there
FRACTION_SCHEMA = {
    "journey_kind": pl.String,
    "opportunity_id": pl.String,
    "channel": pl.String,
    "channel_touch_count": pl.UInt32,
    "fraction": pl.Float64,
}
CREDIT_COLUMNS: tuple[str, ...] = (
    "journey_kind",
    "opportunity_id",
    "touchpoint_id",
    "channel",
    "credit",
)
# the wide credits (models.attribute_wide, int_attribution_credits): this key and the touch's
# campaign (null without one: the marts label campaigns from it, no join back to the touches),
# then one credit column per model
WIDE_KEY: tuple[str, ...] = (*CREDIT_COLUMNS[:-1], "campaign")


@dataclass(frozen=True)
class ModelInput:
    """What a model sees.

    `journey_touches`: converted journeys, one row per touch (journey_kind, opportunity_id,
    touchpoint_id, channel, position, touch_count, days_before_event; campaign optional, carried
    to the wide credits), in any row order. Optionally a fitted model's fraction of the
    touch's channel in its journey, `<model>_fraction` (markov_fraction, shapley_fraction)
    with `channel_touch_count` (the pipeline joins them in DuckDB): a fitted model then reads
    it instead of joining its `fitted_fractions`.
    `journey_values`: one row per converted journey (journey_kind, opportunity_id,
    journey_amount); empty journeys included.
    `null_path_touches`: non-converting paths for the Markov chain, one row per touch
    (journey_kind, path_id, position, channel); heuristic models ignore it.
    `fitted_fractions`: fitted model -> its per (journey_kind, opportunity_id, channel)
    `channel_touch_count` and `fraction` (the pipeline fits once over every batch); without
    its entry a fitted model fits on these inputs. `milestone_touches`: per (journey_kind, opportunity_id, milestone) the
    touchpoint_id holding it (first_touch, lead_created, opportunity_created, closed_won,
    other milestones); the milestone models need it.
    """

    journey_touches: pl.DataFrame
    journey_values: pl.DataFrame | None = None
    null_path_touches: pl.DataFrame | None = None
    fitted_fractions: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    milestone_touches: pl.DataFrame | None = None

    @functools.cached_property
    def milestone_rows(self) -> pl.DataFrame:
        """(row, milestone): the row in `journey_touches` of the touch holding each milestone
        (from `milestone_touches`, or without them the positions the touches alone give),
        joined once for every milestone model."""
        touches = self.journey_touches
        held = self.milestone_touches if self.milestone_touches is not None else _positions(touches)
        return (
            touches.select(*JOURNEY_KEY, "touchpoint_id")
            .with_row_index("row")
            .join(held.select(*JOURNEY_KEY, "touchpoint_id", "milestone"), on=[*JOURNEY_KEY, "touchpoint_id"])
            .select("row", "milestone")
        )


class AttributionModel(Protocol):
    """Per-touch credits summing to 1 per non-empty journey (columns: CREDIT_COLUMNS)."""

    def __call__(self, inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame: ...


def _positions(touches: pl.DataFrame) -> pl.DataFrame:
    """first_touch, and the last touch as opportunity_created (pipeline) or closed_won
    (revenue): what journey touches alone say (no lead creation)."""
    first = touches.filter(pl.col("position") == 1).select(
        *JOURNEY_KEY, "touchpoint_id", milestone=pl.lit("first_touch")
    )
    last = touches.filter(pl.col("position") == pl.col("touch_count")).select(
        *JOURNEY_KEY,
        "touchpoint_id",
        milestone=pl.when(pl.col("journey_kind") == "pipeline")
        .then(pl.lit("opportunity_created"))
        .otherwise(pl.lit("closed_won")),
    )
    return pl.concat([first, last]).select(*JOURNEY_KEY, "milestone", "touchpoint_id")


def credits_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and type the credit columns in the contract order."""
    return frame.select(
        pl.col("journey_kind").cast(pl.String),
        pl.col("opportunity_id").cast(pl.String),
        pl.col("touchpoint_id").cast(pl.String),
        pl.col("channel").cast(pl.String),
        pl.col("credit").cast(pl.Float64),
    )


def fraction_credits(journey_touches: pl.DataFrame, fractions: pl.DataFrame) -> pl.DataFrame:
    """Per-touch credits from per (journey, channel) fractions (the Markov and Shapley route):
    a channel's fraction of the journey split equally among its touches."""
    joined = journey_touches.join(
        fractions.select(*JOURNEY_KEY, "channel", "channel_touch_count", "fraction"),
        on=[*JOURNEY_KEY, "channel"],
        how="left",
    )
    return touch_fraction_credits(joined, "fraction")


def fitted_credits(inputs: ModelInput, model: str, fit: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A fitted model's credits per touch: its channel's fraction of the journey split equally
    among the channel's touches, from the touches' `<model>_fraction` column, else the
    model's `fitted_fractions`, else `fit()` on these inputs."""
    column = f"{model}_fraction"
    if column in inputs.journey_touches.columns:
        return touch_fraction_credits(inputs.journey_touches, column)
    fractions = inputs.fitted_fractions.get(model)
    return fraction_credits(inputs.journey_touches, fit() if fractions is None else fractions)


def touch_fraction_credits(journey_touches: pl.DataFrame, column: str) -> pl.DataFrame:
    """Per-touch credits from a fitted fraction the touches carry already (`column`, with
    `channel_touch_count`: the pipeline joins them in DuckDB, `fraction_credits` in polars):
    the channel's fraction split equally among its touches."""
    return credits_frame(journey_touches.with_columns(credit=pl.col(column) / pl.col("channel_touch_count")))


def journey_values(inputs: ModelInput) -> pl.DataFrame:
    """The journeys' amounts (every journey worth 1 when the inputs carry none)."""
    if inputs.journey_values is not None:
        return inputs.journey_values
    return inputs.journey_touches.select(*JOURNEY_KEY).unique().with_columns(journey_amount=pl.lit(1.0))


def journey_channels(inputs: ModelInput) -> pl.DataFrame:
    """One row per (journey_kind, opportunity, channel) of the converting journeys: how many
    touches, and the journey's value (what the fraction models fit)."""
    return (
        inputs.journey_touches.group_by(*JOURNEY_KEY, "channel")
        .agg(channel_touch_count=pl.len())
        .join(journey_values(inputs), on=list(JOURNEY_KEY), how="left")
        .with_columns(pl.col("journey_amount").fill_null(0.0))
        .select(*JOURNEY_KEY, "channel", "channel_touch_count", "journey_amount")
    )
