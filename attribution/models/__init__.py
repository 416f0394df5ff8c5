"""Attribution models: one signature, one registry, one place that adds the `(none)` bucket."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from attribution.config import AttributionConfig
from attribution.contracts import CREDIT_TOLERANCE, MODEL_DEFINITIONS, UNATTRIBUTED_CHANNEL
from attribution.models.base import CREDIT_COLUMNS, JOURNEY_KEY, AttributionModel, ModelInput
from attribution.models.heuristics import first_touch, last_touch, linear, position_based, time_decay
from attribution.models.markov import markov
from attribution.models.milestones import custom, full_path, w_shaped
from attribution.models.shapley import shapley

__all__ = [
    "CREDIT_COLUMNS",
    "MODELS",
    "MODEL_DEFINITIONS",
    "AttributionModel",
    "ModelInput",
    "UnknownModelError",
    "attribute",
    "conservation_errors",
    "select_models",
]

MODELS: dict[str, AttributionModel] = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "linear": linear,
    "time_decay": time_decay,
    "position_based": position_based,
    "w_shaped": w_shaped,
    "full_path": full_path,
    "custom": custom,
    "markov": markov,
    "shapley": shapley,
}


class UnknownModelError(ValueError):
    """A models setting names a model the registry does not have."""


def select_models(config: AttributionConfig) -> dict[str, AttributionModel]:
    """The models `config.models` names, in that order (empty: the whole registry)."""
    if not config.models:
        return dict(MODELS)
    unknown = [m for m in config.models if m not in MODELS]
    if unknown:
        raise UnknownModelError(
            f"unknown model(s) {', '.join(unknown)} in the models setting; choose from {', '.join(MODELS)}"
        )
    return {name: MODELS[name] for name in dict.fromkeys(config.models)}


def attribute(
    inputs: ModelInput,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
) -> pl.DataFrame:
    """Run every model; one row per (model, journey, touch), plus a `(none)` row with credit 1
    for each converted journey without touches (needs `inputs.journey_values`)."""
    registry = MODELS if models is None else models
    frames = [model(inputs, config).with_columns(model=pl.lit(name)) for name, model in registry.items()]
    if inputs.journey_values is not None:
        empty = inputs.journey_values.join(
            inputs.journey_touches.select(JOURNEY_KEY).unique(), on=list(JOURNEY_KEY), how="anti"
        )
        for name in registry:
            frames.append(
                empty.select(
                    pl.col("journey_kind").cast(pl.String),
                    pl.col("opportunity_id").cast(pl.String),
                    pl.lit(None, dtype=pl.String).alias("touchpoint_id"),
                    pl.lit(UNATTRIBUTED_CHANNEL).alias("channel"),
                    pl.lit(1.0).alias("credit"),
                    pl.lit(name).alias("model"),
                )
            )
    columns = ["model", *CREDIT_COLUMNS]
    if not frames:
        return pl.DataFrame(schema={c: pl.Float64 if c == "credit" else pl.String for c in columns})
    return pl.concat([f.select(columns) for f in frames])


def conservation_errors(credits: pl.DataFrame, tolerance: float = CREDIT_TOLERANCE) -> pl.DataFrame:
    """Journeys (per model) whose credits do not sum to 1 within `tolerance`; empty when all do."""
    return (
        credits.group_by("model", *JOURNEY_KEY)
        .agg(credit_sum=pl.col("credit").sum(), min_credit=pl.col("credit").min())
        .filter(((pl.col("credit_sum") - 1.0).abs() > tolerance) | (pl.col("min_credit") < 0))
        .sort("model", *JOURNEY_KEY)
    )
