"""Markov credits for journeys (DESIGN §3): fit the chain on converting journeys and
non-converting paths, turn removal effects into per-journey channel fractions, and give each
touch its channel's fraction. The chain itself lives in `markov_chain` (aggregated paths).

The fit starts each journey from weight RE_c per distinct channel and rescales (Sinkhorn)
so that every journey's fractions sum to 1 and every channel's attributed *conversions*
equal its canonical share x converting journeys wherever reachable (a channel whose
single-channel journeys alone exceed that keeps them: its bound). Value then follows each
journey's own amount, so a channel seen only on small deals gets small value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import (
    FRACTION_SCHEMA,
    ModelInput,
    fitted_credits,
    journey_channels,
    journey_values,
)
from attribution.models.markov_chain import (
    ChainCounts,
    MarkovChain,
    count_transitions,
    markov_attribution,
    solve_chain,
)
from attribution.models.spec import ModelSpec

__all__ = [
    "REMOVAL_EFFECTS_SCHEMA",
    "SPECS",
    "MarkovFit",
    "count_journeys",
    "fit_markov",
    "markov",
    "markov_attribution",
]

SINKHORN_TOLERANCE = 1e-10
SINKHORN_MAX_ITERATIONS = 10_000

# mart_markov_removal_effects: one row per (journey_kind, channel)
REMOVAL_EFFECTS_SCHEMA = {
    "journey_kind": pl.String,
    "channel": pl.String,
    "removal_effect": pl.Float64,
    "share": pl.Float64,
    "canonical_conversions": pl.Float64,
    "fitted_conversions": pl.Float64,
    "conversion_gap": pl.Float64,
    "canonical_value": pl.Float64,
    "fitted_value": pl.Float64,
    "p_conversion": pl.Float64,
    "markov_order": pl.Int64,
    "converting_paths": pl.Float64,
}
TRANSITIONS_SCHEMA = {
    "journey_kind": pl.String,
    "from_state": pl.String,
    "to_state": pl.String,
    "transition_count": pl.Float64,
    "probability": pl.Float64,
}


def _paths(
    touches: pl.DataFrame, null_touches: pl.DataFrame | None, kind: str, values: pl.DataFrame
) -> pl.DataFrame:
    """Aggregated paths of one journey kind: converting journeys (value = journey amount)
    and non-converting paths, one row per path."""
    converting = (
        touches.filter(pl.col("journey_kind") == kind)
        .sort("opportunity_id", "position")
        .group_by("opportunity_id", maintain_order=True)
        .agg(path=pl.col("channel"))
        .join(values.filter(pl.col("journey_kind") == kind), on="opportunity_id", how="left")
        .select(
            "path",
            conversions=pl.lit(1, dtype=pl.Int64),
            nulls=pl.lit(0, dtype=pl.Int64),
            value=pl.col("journey_amount").fill_null(0.0),
        )
    )
    frames = [converting]
    if null_touches is not None and len(null_touches):
        frames.append(
            null_touches.filter(pl.col("journey_kind") == kind)
            .sort("path_id", "position")
            .group_by("path_id", maintain_order=True)
            .agg(path=pl.col("channel"))
            .select(
                "path",
                conversions=pl.lit(0, dtype=pl.Int64),
                nulls=pl.lit(1, dtype=pl.Int64),
                value=pl.lit(0.0),
            )
        )
    return pl.concat(frames)


def _channels(inputs: ModelInput) -> dict[str, tuple[str, ...]]:
    frames = [inputs.journey_touches.select("journey_kind", "channel")]
    if inputs.null_path_touches is not None:
        frames.append(inputs.null_path_touches.select("journey_kind", "channel"))
    pairs = pl.concat(frames).unique()
    return {
        kind: tuple(sorted(pairs.filter(pl.col("journey_kind") == kind)["channel"].to_list()))
        for kind in sorted(set(pairs["journey_kind"].to_list()))
    }


def count_journeys(
    inputs: ModelInput, config: AttributionConfig, channels: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, ChainCounts]:
    """Chain counts per journey kind of these journeys and null paths. Give every batch the
    same `channels` (per kind) and their counts add up exactly."""
    channels = channels if channels is not None else _channels(inputs)
    values = journey_values(inputs)
    return {
        kind: count_transitions(
            _paths(inputs.journey_touches, inputs.null_path_touches, kind, values),
            config.markov_order,
            config.collapse_repeats,
            channels=kind_channels,
        )
        for kind, kind_channels in channels.items()
    }


def _reachable_targets(targets: np.ndarray, forced: np.ndarray, total: float) -> np.ndarray:
    """Lift channels whose forced conversions (single-channel journeys) exceed their
    canonical target to that bound and scale the others to share the rest."""
    adjusted = targets.copy()
    bound = np.zeros(targets.size, dtype=bool)
    for _ in range(targets.size + 1):
        newly = (forced > adjusted + 1e-12) & ~bound
        if not newly.any():
            break
        bound |= newly
        adjusted[bound] = forced[bound]
        free = ~bound
        rest = total - adjusted[bound].sum()
        free_sum = targets[free].sum()
        adjusted[free] = targets[free] * (rest / free_sum) if free_sum > 0 else 0.0
    return adjusted


def _sinkhorn(start: np.ndarray, row_weight: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Row-stochastic X close to `start` (same zeros) with column totals X' row_weight ->
    targets; the last step always normalizes rows to exactly 1."""
    x = start / start.sum(axis=1, keepdims=True)
    scale = np.ones(start.shape[1])
    previous = np.inf
    for _ in range(SINKHORN_MAX_ITERATIONS):
        column = row_weight @ x
        ratio = np.divide(targets, column, out=np.ones_like(targets), where=column > 0)
        scale *= ratio
        weighted = start * scale
        sums = weighted.sum(axis=1, keepdims=True)
        x = np.divide(weighted, sums, out=start / start.sum(axis=1, keepdims=True), where=sums > 0)
        change = float(np.max(np.abs(row_weight @ x - targets)) / max(targets.sum(), 1e-300))
        if change < SINKHORN_TOLERANCE or abs(previous - change) < SINKHORN_TOLERANCE * 1e-3:
            break
        previous = change
    fitted: np.ndarray = x / x.sum(axis=1, keepdims=True)
    return fitted


def _journey_sets(
    per_channel: pl.DataFrame, channels: list[str], effect: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame, dict[int, tuple[str, ...]]]:
    """(per_channel with each journey's set id, touch total and whether every channel of it
    has removal effect 0; the journeys; set id -> its channels): each distinct channel set
    numbered in sorted (lexicographic) order, in polars (no list of every journey's channels
    through Python)."""
    per_channel = per_channel.with_columns(
        effect=pl.col("channel").replace_strict(
            dict(zip(channels, effect, strict=True)), default=0.0, return_dtype=pl.Float64
        )
    )
    journeys = (
        per_channel.group_by("opportunity_id")
        .agg(
            channel_set=pl.col("channel").sort(),
            touches_total=pl.col("channel_touch_count").sum(),
            journey_amount=pl.col("journey_amount").first(),
            is_all_zero=pl.col("effect").sum() <= 0,
        )
        .sort("opportunity_id")
    )
    journeys = journeys.with_columns(set_id=(pl.col("channel_set").rank("dense") - 1).cast(pl.Int64))
    members = {
        int(set_id): tuple(channel_set)
        for set_id, channel_set in journeys.unique("set_id").select("set_id", "channel_set").iter_rows()
    }
    journeys = journeys.drop("channel_set")
    per_channel = per_channel.join(
        journeys.select("opportunity_id", "set_id", "touches_total", "is_all_zero"), on="opportunity_id"
    )
    return per_channel, journeys, members


def _forced_totals(linear: pl.DataFrame, column: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per channel the conversions and value of the journeys kept linear (every channel at
    removal effect 0), summed in a fixed order."""
    if not len(linear):
        return np.zeros(len(column)), np.zeros(len(column))
    ordered = linear.sort("opportunity_id", "channel")
    index = ordered["channel"].replace_strict(column, return_dtype=pl.Int64).to_numpy()
    count = np.bincount(index, weights=ordered["fraction"].to_numpy(), minlength=len(column))
    value = np.bincount(
        index, weights=(ordered["fraction"] * ordered["journey_amount"]).to_numpy(), minlength=len(column)
    )
    return count, value


def _fit_set_fractions(
    fitted_journeys: pl.DataFrame,
    members: dict[int, tuple[str, ...]],
    column: dict[str, int],
    effects: pl.DataFrame,
) -> tuple[list[tuple[int, str, float]], np.ndarray, np.ndarray]:
    """(set id, channel, fraction) of every fitted channel set and the fitted conversions and
    value per channel: the sets' removal effects scaled (Sinkhorn) so the channels' totals
    meet their removal-effect shares. Sums in numpy over rows in a fixed order: a
    multi-threaded group-by sum may add in a different order each run, and byte-identical
    reruns need identical floats."""
    effect = effects["removal_effect"].to_numpy()
    journey_sets = fitted_journeys["set_id"].to_numpy()
    fit_set_ids = np.unique(journey_sets)
    fit_sets = [int(i) for i in fit_set_ids]
    if not fit_sets:
        return [], np.zeros(len(column)), np.zeros(len(column))
    row_of = {set_id: row for row, set_id in enumerate(fit_sets)}
    set_of_journey = np.searchsorted(fit_set_ids, journey_sets).astype(np.int64)
    row_count = np.bincount(set_of_journey, minlength=len(fit_sets)).astype(float)
    row_value = np.bincount(
        set_of_journey,
        weights=fitted_journeys["journey_amount"].to_numpy().astype(float),
        minlength=len(fit_sets),
    )
    start = np.zeros((len(fit_sets), len(column)))
    for set_id, row in row_of.items():
        for channel in members[set_id]:
            start[row, column[channel]] = effect[column[channel]]
    total = float(row_count.sum())
    single = np.zeros(len(column))
    for set_id, row in row_of.items():
        if len(members[set_id]) == 1:
            single[column[members[set_id][0]]] += row_count[row]
    targets = _reachable_targets(effects["share"].to_numpy() * total, single, total)
    x = _sinkhorn(start, row_count, targets)
    rows = [
        (set_id, channel, float(x[row, column[channel]]))
        for set_id, row in row_of.items()
        for channel in members[set_id]
    ]
    return rows, row_count @ x, row_value @ x


def _fractions(per_channel: pl.DataFrame, chain: MarkovChain) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per (journey, channel) fraction of the journey and per channel the fitted conversions
    and value, fitted on the distinct channel sets weighted by their journey counts."""
    effects = chain.removal_effects
    channels = effects["channel"].to_list()
    column = {c: i for i, c in enumerate(channels)}
    per_channel, journeys, members = _journey_sets(
        per_channel, channels, effects["removal_effect"].to_numpy()
    )
    # journeys whose channels all have RE 0 stay linear: they are forced onto those channels
    linear = per_channel.filter("is_all_zero").with_columns(
        fraction=pl.col("channel_touch_count") / pl.col("touches_total")
    )
    forced_count, forced_value = _forced_totals(linear, column)
    rows, set_count, set_value = _fit_set_fractions(
        journeys.filter(~pl.col("is_all_zero")), members, column, effects
    )
    fitted_count, fitted_value = forced_count.copy(), forced_value.copy()
    if rows:
        fitted_count += set_count
        fitted_value += set_value
    fitted = pl.DataFrame(
        rows, schema={"set_id": pl.Int64, "channel": pl.String, "fraction": pl.Float64}, orient="row"
    )
    fractions = pl.concat(
        [
            per_channel.filter(~pl.col("is_all_zero"))
            .join(fitted, on=["set_id", "channel"], how="left")
            .select("opportunity_id", "channel", "channel_touch_count", "fraction"),
            linear.select("opportunity_id", "channel", "channel_touch_count", "fraction"),
        ]
    )
    by_channel = pl.DataFrame(
        {"channel": channels, "fitted_conversions": fitted_count, "fitted_value": fitted_value},
        schema={"channel": pl.String, "fitted_conversions": pl.Float64, "fitted_value": pl.Float64},
    )
    return fractions, by_channel


@dataclass(frozen=True)
class MarkovFit:
    """The fitted chains of every journey kind: per (journey_kind, journey, channel)
    fractions, per-channel removal effects (canonical vs fitted) and the transitions."""

    fractions: pl.DataFrame
    removal_effects: pl.DataFrame
    transitions: pl.DataFrame


def fit_markov(
    counts: Mapping[str, ChainCounts], per_channel: pl.DataFrame, config: AttributionConfig
) -> MarkovFit:
    """Solve each journey kind's chain and fit its journeys' fractions (`per_channel`: rows of
    `journey_channels`). A kind without a converting journey with a touch has no chain."""
    fractions: list[pl.DataFrame] = []
    effects: list[pl.DataFrame] = []
    transitions: list[pl.DataFrame] = []
    for kind in sorted(counts):
        kind_channels = per_channel.filter(pl.col("journey_kind") == kind)
        if kind_channels.is_empty():
            continue
        chain = solve_chain(counts[kind])
        kind_fractions, by_channel = _fractions(kind_channels, chain)
        fractions.append(kind_fractions.with_columns(journey_kind=pl.lit(kind)))
        effects.append(
            chain.removal_effects.join(by_channel, on="channel", how="left").with_columns(
                journey_kind=pl.lit(kind),
                canonical_conversions=pl.col("attributed_conversions"),
                conversion_gap=pl.col("fitted_conversions") - pl.col("attributed_conversions"),
                canonical_value=pl.col("attributed_value"),
                p_conversion=pl.lit(chain.p_conversion),
                markov_order=pl.lit(config.markov_order),
                converting_paths=pl.lit(chain.total_conversions),
            )
        )
        transitions.append(chain.transitions.with_columns(journey_kind=pl.lit(kind)))

    def typed(frames: list[pl.DataFrame], schema: Mapping[str, Any]) -> pl.DataFrame:
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames).select([pl.col(c).cast(t) for c, t in schema.items()])

    return MarkovFit(
        typed(fractions, FRACTION_SCHEMA),
        typed(effects, REMOVAL_EFFECTS_SCHEMA),
        typed(transitions, TRANSITIONS_SCHEMA),
    )


def markov(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Markov credits per touch: its channel's fraction of the journey, split equally among
    the channel's touches (the pipeline's fitted chain, else the chain fitted on these inputs)."""
    return fitted_credits(
        inputs,
        "markov",
        lambda: fit_markov(count_journeys(inputs, config), journey_channels(inputs), config).fractions,
    )


def _explain_markov(config: AttributionConfig) -> pl.Expr:
    return pl.format(
        "{}: removal effect {} ({}% of all removal effects); the fitted chain gives the channel {} of "
        "this journey, split over its {} touch(es)",
        pl.col("channel"),
        pl.col("removal_effect").round(4),
        (pl.col("removal_share") * 100).round(1),
        pl.col("channel_fraction").round(4),
        pl.col("channel_touch_count"),
    )


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "markov",
        markov,
        "Markov-chain removal effects over converting and non-converting paths, fitted to the "
        "canonical conversions per channel; value follows each journey's amount",
        order=90,
        parameters=("markov_order", "collapse_repeats", "lookback_days", "markov_max_channels"),
        needs=("fitted_fractions",),
        fitted=True,
        contrast=True,
        resampling="markov_removal_share",
        explain=_explain_markov,
    ),
)
