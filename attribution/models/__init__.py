"""Attribution models: one signature, one registry of specs, one place that adds the `(none)`
bucket. A model is a module of this package with a `SPECS` tuple (attribution.models.spec):
the registry finds it, and every table, chart, check, export and explanation follows."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

import polars as pl

from attribution.config import AttributionConfig
from attribution.contracts import CREDIT_TOLERANCE, UNATTRIBUTED_CHANNEL
from attribution.models.base import CREDIT_COLUMNS, JOURNEY_KEY, WIDE_KEY, AttributionModel, ModelInput
from attribution.models.spec import ModelSpec

__all__ = [
    "CALIBRATED_PREFIX",
    "CREDIT_COLUMNS",
    "MERGEABLE_MODELS",
    "MODELS",
    "MODEL_DEFINITIONS",
    "MODEL_SPECS",
    "AttributionModel",
    "ModelInput",
    "ModelSpec",
    "UnknownModelError",
    "attribute",
    "attribute_wide",
    "conservation_errors",
    "merged_repeats",
    "model_names",
    "select_models",
]


def _discover() -> dict[str, ModelSpec]:
    """Every spec of every module of this package, in spec order (a name twice is an error)."""
    specs: list[ModelSpec] = []
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        specs.extend(getattr(importlib.import_module(f"{__name__}.{module}"), "SPECS", ()))
    registry = {spec.name: spec for spec in sorted(specs, key=lambda spec: (spec.order, spec.name))}
    if len(registry) != len(specs):
        raise ValueError(f"two models share a name: {sorted(spec.name for spec in specs)}")
    return registry


MODEL_SPECS: dict[str, ModelSpec] = _discover()
MODELS: dict[str, AttributionModel] = {name: spec.function for name, spec in MODEL_SPECS.items()}
MODEL_DEFINITIONS: dict[str, str] = {name: spec.definition for name, spec in MODEL_SPECS.items()}
# the models that can merge consecutive repeats of one channel (merge_repeated_channels)
MERGEABLE_MODELS: tuple[str, ...] = tuple(name for name, spec in MODEL_SPECS.items() if spec.mergeable)


def merged_repeats(inputs: ModelInput) -> ModelInput:
    """The journeys with each run of consecutive touches of one channel merged into its first
    touch (Snowplow's convention): positions and touch counts over the runs; the run's other
    touches are left out (attribute_wide gives them credit 0)."""
    touches = inputs.journey_touches.sort(*JOURNEY_KEY, "position")
    starts = touches.filter(
        (pl.col("channel") != pl.col("channel").shift(1).over(list(JOURNEY_KEY))).fill_null(True)
    )
    starts = starts.with_columns(
        position=pl.int_range(1, pl.len() + 1).over(list(JOURNEY_KEY)).cast(touches.schema["position"]),
        touch_count=pl.len().over(list(JOURNEY_KEY)).cast(touches.schema["touch_count"]),
    )
    return ModelInput(journey_touches=starts, journey_values=inputs.journey_values)


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


# a calibrated model's name: this before its model's (attribution.experiments.calibration)
CALIBRATED_PREFIX = "calibrated_"


def model_names(config: AttributionConfig) -> list[str]:
    """The models a run writes credits for: `config.models` (every registered model when
    empty), then calibrated_<model> for each of `config.calibrated_models`."""
    return [*select_models(config), *(CALIBRATED_PREFIX + m for m in config.calibrated_models)]


def attribute_wide(
    inputs: ModelInput,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
) -> pl.DataFrame:
    """Run every model; one row per journey touch (journey_kind, opportunity_id, touchpoint_id,
    channel, campaign: null when the touches carry none) with one credit column per model,
    named by the model, plus a `(none)` row with credit 1 for each converted journey without
    touches (needs `inputs.journey_values`).

    The wide layout holds N models' credits in one row per touch: N times fewer rows than
    the long layout, which is what makes the credit tables cheap at scale.
    """
    registry = MODELS if models is None else models
    key = [*JOURNEY_KEY, "touchpoint_id"]
    touches = inputs.journey_touches.select(
        pl.col(c).cast(pl.String) if c in inputs.journey_touches.columns else pl.lit(None, pl.String).alias(c)
        for c in WIDE_KEY
    )
    columns: list[pl.Series] = []
    merging = set(config.merged_models) & set(registry)
    merged = merged_repeats(inputs) if merging else inputs
    for name, model in registry.items():
        if name in merging:  # the run's first touch holds the step's credit, the others 0
            step_credits = model(merged, config).select(*key, "credit")
            credits = touches.select(key).join(step_credits, on=key, how="left", maintain_order="left")
            credits = credits.with_columns(pl.col("credit").fill_null(0.0))
        else:
            credits = model(inputs, config).select(*key, "credit")
        if credits.height != touches.height:
            raise ValueError(
                f"model {name!r} returned {credits.height:,} credit rows for "
                f"{touches.height:,} journey touches: a model gives every touch one row"
            )
        if not credits.select(key).equals(touches.select(key)):  # another order: align by key
            credits = touches.select(key).join(credits, on=key, how="left", maintain_order="left")
        columns.append(credits["credit"].cast(pl.Float64).alias(name))
    wide = touches.with_columns(columns) if columns else touches
    if inputs.journey_values is not None:
        empty = inputs.journey_values.select(pl.col(c).cast(pl.String) for c in JOURNEY_KEY).join(
            touches.select(JOURNEY_KEY).unique(), on=list(JOURNEY_KEY), how="anti"
        )
        wide = pl.concat(
            [
                wide,
                empty.with_columns(
                    touchpoint_id=pl.lit(None, dtype=pl.String),
                    channel=pl.lit(UNATTRIBUTED_CHANNEL),
                    campaign=pl.lit(None, dtype=pl.String),
                    **{name: pl.lit(1.0) for name in registry},
                ),
            ]
        )
    return wide


def attribute(
    inputs: ModelInput,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
) -> pl.DataFrame:
    """Run every model; one row per (model, journey, touch), plus a `(none)` row with credit 1
    for each converted journey without touches (needs `inputs.journey_values`): the long
    layout of `attribute_wide`."""
    registry = MODELS if models is None else models
    columns = ["model", *CREDIT_COLUMNS]
    if not registry:
        return pl.DataFrame(schema={c: pl.Float64 if c == "credit" else pl.String for c in columns})
    wide = attribute_wide(inputs, config, registry)
    return wide.unpivot(
        on=list(registry), index=list(WIDE_KEY), variable_name="model", value_name="credit"
    ).select(columns)


def conservation_errors(credits: pl.DataFrame, tolerance: float = CREDIT_TOLERANCE) -> pl.DataFrame:
    """Journeys (per model) whose credits do not sum to 1 within `tolerance`; empty when all do."""
    return (
        credits.group_by("model", *JOURNEY_KEY)
        .agg(credit_sum=pl.col("credit").sum(), min_credit=pl.col("credit").min())
        .filter(((pl.col("credit_sum") - 1.0).abs() > tolerance) | (pl.col("min_credit") < 0))
        .sort("model", *JOURNEY_KEY)
    )
