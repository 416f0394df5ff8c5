"""Models group: the Markov chain (its own step), then every model's per-touch credits."""

import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution import describe
from attribution.checks import markov_gap_violations, markov_warnings
from attribution.glossary import GLOSSARY
from attribution.models import MODEL_DEFINITIONS, UnknownModelError, select_models
from attribution.pipeline import (
    ModelLimitError,
    mirror,
    run_credits,
    run_intervals,
    run_markov,
    run_order_selection,
    run_shapley,
)
from attribution.sql_graph import sql_reads
from attribution.steps import STEP_OUTPUTS
from dagster_defs.assets import DUCKDB_POOL, MODELS_GROUP, step_deps, step_on_engine
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings

_TRANSITIONS = dg.AssetSpec(
    "markov_transitions",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "networkx"},
    deps=step_deps("markov"),
    description="The Markov chain as an edge table: one row per (journey_kind, from_state, "
    "to_state) with counted transitions and probability; states are (start), channels (for "
    "order k: the last k channels joined by ' > '), (conversion), (null).",
)
_REMOVAL_EFFECTS = dg.AssetSpec(
    "mart_markov_removal_effects",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "networkx"},
    deps=step_deps("markov"),
    description="One row per (journey_kind, channel): Markov removal effect RE = 1 - P_without / "
    "P, share = RE / sum RE, canonical conversions (share x converting journeys) next to the "
    "conversions the per-journey credits reach (and the gap), canonical value (share x total "
    "value) next to the fitted value, which follows each journey's own amount (deal size). "
    "ChannelAttribution splits value by the last channel instead.",
)
_FRACTIONS = dg.AssetSpec(
    "int_markov_fractions",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "polars"},
    deps=step_deps("markov"),
    description="One row per (journey_kind, opportunity, channel) of the converting journeys: "
    "the channel's fitted share of the journey (Sinkhorn fit of removal effects to the "
    "canonical conversions) and its touch count; the Markov model splits it over the touches.",
)


@dg.multi_asset(specs=[_TRANSITIONS, _REMOVAL_EFFECTS, _FRACTIONS], pool=DUCKDB_POOL)
def markov_chain(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """Fit the chain of each journey kind once: transitions, removal effects, fractions."""
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, config)
        try:
            run_markov(runner, config)
        except ModelLimitError as exc:
            raise dg.Failure(description=f"Markov model: {exc}", allow_retries=False) from exc
        mirror(runner, conn, *STEP_OUTPUTS["markov"])
        effects = describe.removal_effects(conn)
        p_conversion = describe.p_conversion_by_kind(conn)
        warnings = markov_warnings(conn)
        yield dg.MaterializeResult(
            asset_key="markov_transitions", metadata=table_metadata(conn, "markov_transitions")
        )
        yield dg.MaterializeResult(
            asset_key="mart_markov_removal_effects",
            metadata={
                **table_metadata(conn, "mart_markov_removal_effects"),
                "removal_effects": dg.MetadataValue.md(
                    markdown_table(effects) if len(effects) else "no Markov chain fitted"
                ),
                "warnings": dg.MetadataValue.md(
                    "\n".join(f"- {w}" for w in warnings) if warnings else "none"
                ),
                "channels_with_conversion_gap_over_1pct": dg.MetadataValue.int(
                    len(markov_gap_violations(conn, 0.01))
                ),
                "markov_order": dg.MetadataValue.int(config.markov_order),
                "collapse_repeats": dg.MetadataValue.bool(config.collapse_repeats),
                **{
                    f"p_conversion_{kind}": dg.MetadataValue.float(float(p))
                    for kind, p in p_conversion.items()
                },
            },
        )
        yield dg.MaterializeResult(
            asset_key="int_markov_fractions", metadata=table_metadata(conn, "int_markov_fractions")
        )


_SHAPLEY_FRACTIONS = dg.AssetSpec(
    "int_shapley_fractions",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "polars"},
    deps=step_deps("shapley"),
    description="One row per (journey_kind, opportunity, channel) of the converting journeys: the "
    "channel's Shapley fraction of the journey (Shapley values on conversion rates of the "
    "journey's channel set; negative values count as 0) and its touch count.",
)
_SHAPLEY_CHANNELS = dg.AssetSpec(
    "mart_shapley_channel_values",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "polars"},
    deps=step_deps("shapley"),
    description="One row per (journey_kind, channel): Shapley conversions (sum of fractions), "
    "share and value (fraction x journey amount).",
)


@dg.multi_asset(specs=[_SHAPLEY_FRACTIONS, _SHAPLEY_CHANNELS], pool=DUCKDB_POOL)
def shapley_fit(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """The Shapley model's fractions, from the channel sets of every batch."""
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, settings.to_config(context))
        run_shapley(runner)
        mirror(runner, conn, *STEP_OUTPUTS["shapley"])
        values = describe.shapley_values(conn)
        yield dg.MaterializeResult(
            asset_key="int_shapley_fractions", metadata=table_metadata(conn, "int_shapley_fractions")
        )
        yield dg.MaterializeResult(
            asset_key="mart_shapley_channel_values",
            metadata={
                **table_metadata(conn, "mart_shapley_channel_values"),
                "values": dg.MetadataValue.md(
                    markdown_table(values) if len(values) else "no converting journey"
                ),
            },
        )


_INT_CREDITS = dg.AssetSpec(
    "int_attribution_credits",
    group_name=MODELS_GROUP,
    kinds={"duckdb", "polars"},
    # mart_markov_removal_effects: its blocking sanity check stops the credits (and every mart after
    # them) when the Markov fit is unsound, not only the exports
    # mart_experiment_results: the calibrated models (setting calibrated_models) read its lifts
    deps=step_deps("credits", "mart_markov_removal_effects", "mart_experiment_results"),
    description="One row per (journey_kind, opportunity, touch), wide: channel and one credit "
    "column per model run, named by the model (a `(none)` row with credit 1 for an empty "
    "journey); N models' credits in one row per touch.",
)
_CREDITS = dg.AssetSpec(
    "mart_attribution_credits",
    group_name=MODELS_GROUP,
    kinds={"duckdb"},
    deps=sorted(sql_reads("marts/mart_attribution_credits.sql")),  # the view's reads
    description="One row per (journey_kind, model, opportunity, touch): credit and attributed "
    "amount in the reporting currency (a view: the wide credits unpivoted, one row per model); "
    f"the source of truth of every mart. {GLOSSARY['credit']} "
    f"{GLOSSARY['unattributed']} Models (setting `models`, default all): "
    + "; ".join(f"{name}: {text}" for name, text in MODEL_DEFINITIONS.items()),
)


@dg.multi_asset(specs=[_INT_CREDITS, _CREDITS], pool=DUCKDB_POOL)
def attribution_credits(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """The selected models of the registry over every converted journey, batch by batch."""
    config = settings.to_config(context)
    try:
        selected = select_models(config)
    except UnknownModelError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, config)
        try:
            ratios = run_credits(conn, runner, config, selected)
        except UnknownModelError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        yield dg.MaterializeResult(
            asset_key="int_attribution_credits", metadata=table_metadata(conn, "int_attribution_credits")
        )
        yield dg.MaterializeResult(
            asset_key="mart_attribution_credits",
            metadata={
                **table_metadata(conn, "mart_attribution_credits"),
                "time_decay_half_life_days": dg.MetadataValue.float(config.time_decay_half_life_days),
                **(
                    {"calibration_ratios": dg.MetadataValue.md(markdown_table(ratios))}
                    if config.calibrated_models
                    else {}
                ),
            },
        )


@dg.asset(
    group_name=MODELS_GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb", "numpy"},
    # guards: the credits' and the Markov fit's blocking checks pass first
    deps=step_deps("intervals", "mart_attribution_credits", "mart_markov_removal_effects"),
    description="One row per (journey_kind, model, channel) and per (journey_kind, model, "
    "channel, campaign): the confidence interval of the attributed amount and share, from a "
    "seeded Poisson bootstrap over opportunities with their journeys (Markov and Shapley "
    "refitted per replicate with the non-converting paths). Settings interval_replicates "
    f"(0: off), interval_level, interval_seed. {GLOSSARY['confidence interval']}",
)
def int_attribution_intervals(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> dg.MaterializeResult[Any]:
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        started = time.perf_counter()
        runner = step_on_engine(conn, config)
        run_intervals(runner, config)
        mirror(runner, conn, *STEP_OUTPUTS["intervals"])
        seconds = time.perf_counter() - started
        widest = describe.widest_intervals(conn)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "int_attribution_intervals"),
                "replicates": dg.MetadataValue.int(config.intervals.replicates),
                "confidence_level": dg.MetadataValue.float(config.intervals.level),
                "seconds": dg.MetadataValue.float(round(seconds, 2)),
                "widest_share_intervals": dg.MetadataValue.md(
                    markdown_table(widest) if len(widest) else "intervals are off (interval_replicates = 0)"
                ),
            }
        )


@dg.asset(
    group_name=MODELS_GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb", "numpy"},
    deps=step_deps("order_selection"),
    description="One row per (journey_kind, Markov order 1-4): the chain fitted on four fifths "
    "of the accounts and scored on the held-out fifth (deterministic by account): mean held-out "
    "log-likelihood per path and per step (Laplace-smoothed) and the AUC of conversion; the "
    "recommended order (best held-out likelihood, the lowest within 0.1%) is flagged next to "
    "the configured one, which this asset never changes (like ChannelAttribution's choose_order).",
)
def mart_markov_order_selection(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> dg.MaterializeResult[Any]:
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, config)
        run_order_selection(runner, config)
        mirror(runner, conn, *STEP_OUTPUTS["order_selection"])
        scores = describe.order_scores(conn)
        recommended = describe.recommended_orders(conn)
        metadata: dict[str, dg.MetadataValue] = {
            **table_metadata(conn, "mart_markov_order_selection"),
            "scores": dg.MetadataValue.md(markdown_table(scores)),
            "configured_order": dg.MetadataValue.int(config.markov_order),
        }
        for kind, order in recommended.items():
            metadata[f"recommended_order_{kind}"] = dg.MetadataValue.int(order)
        return dg.MaterializeResult(metadata=metadata)
