"""Shapley-value attribution on conversion rates (Dalessandro et al. 2012; DP6's
`attribution_shapley` with value column `conv_rate`).

For each observed channel set T (the distinct channels of a converting journey), a game is
played among T's channels: the worth of a coalition S is the conversion *rate* of the paths
whose distinct channel set is exactly S, conversions / (conversions + non-converting paths),
over the same converting journeys and non-converting paths as the Markov chain (0 for a set
never seen, and for the empty set). Each channel's Shapley value phi_c in that game, by
exact subset enumeration, says how much it adds to T's conversion rate; a journey with set T
gives channel c the fraction phi_c / sum(phi) (negative values, where adding a channel
lowered the rate, count as 0), split equally among c's touches. Channel totals are then
sum over journeys of the fraction (conversions) and of fraction x amount (value): exact by
construction, no reconciliation needed.

Why rates: with the additive worth v(S) = conversions of every path whose set lies in S,
the Shapley value is linear attribution over distinct channels (tested), not a model of its
own. Above MAX_EXACT_CHANNELS channels in one set, the values are estimated from
SAMPLED_PERMUTATIONS seeded random orderings (documented, deterministic).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import (
    FRACTION_SCHEMA,
    JOURNEY_KEY,
    ModelInput,
    fitted_credits,
    journey_channels,
)
from attribution.models.spec import ModelSpec

__all__ = [
    "MAX_EXACT_CHANNELS",
    "SPECS",
    "ShapleyFit",
    "count_channel_sets",
    "fit_shapley",
    "replicate_set_fractions",
    "shapley",
    "shapley_attribution",
    "shapley_values",
]

MAX_EXACT_CHANNELS = 20
SAMPLED_PERMUTATIONS = 2_000
SAMPLING_SEED = 20_120_812  # Dalessandro et al., KDD 2012

SET_COUNT_SCHEMA = {
    "journey_kind": pl.String,
    "channel_set": pl.List(pl.String),
    "conversions": pl.Int64,
    "nulls": pl.Int64,
}
CHANNEL_SCHEMA = {
    "journey_kind": pl.String,
    "channel": pl.String,
    "shapley_conversions": pl.Float64,
    "share": pl.Float64,
    "fitted_value": pl.Float64,
}


def shapley_values(players: tuple[str, ...], worth: Callable[[frozenset[str]], float]) -> dict[str, float]:
    """The Shapley value of each player of a game with characteristic function `worth`:
    exact subset enumeration up to MAX_EXACT_CHANNELS players, else a seeded permutation
    estimate. phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S))."""
    n = len(players)
    if n == 0:
        return {}
    if n > MAX_EXACT_CHANNELS:
        return _sampled_values(players, worth)
    masks = np.arange(1 << n, dtype=np.int64)
    value = np.array(
        [worth(frozenset(p for i, p in enumerate(players) if mask >> i & 1)) for mask in range(1 << n)]
    )
    size = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        size += masks >> i & 1
    # weight of a coalition S (without i) of size s: s! (n - s - 1)! / n!
    weights = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    result = {}
    for i, player in enumerate(players):
        without = masks[(masks >> i & 1) == 0]
        result[player] = float(np.sum(weights[size[without]] * (value[without | 1 << i] - value[without])))
    return result


def _sampled_values(players: tuple[str, ...], worth: Callable[[frozenset[str]], float]) -> dict[str, float]:
    rng = np.random.default_rng(SAMPLING_SEED)
    totals = dict.fromkeys(players, 0.0)
    for _ in range(SAMPLED_PERMUTATIONS):
        coalition: frozenset[str] = frozenset()
        before = worth(coalition)
        for index in rng.permutation(len(players)):
            coalition = coalition | {players[index]}
            after = worth(coalition)
            totals[players[index]] += after - before
            before = after
    return {p: total / SAMPLED_PERMUTATIONS for p, total in totals.items()}


# above this many channels in one set the bootstrap keeps the set's fitted fractions
# (2^n coalitions x replicates would not fit in memory)
MAX_REPLICATED_CHANNELS = 12


@cache
def _coalition_matrix(n: int) -> np.ndarray:
    """The linear map from the worths of all 2^n coalitions (by bit mask) to the n Shapley
    values: phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S))."""
    masks = np.arange(1 << n, dtype=np.int64)
    size = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        size += masks >> i & 1
    weights = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)])
    matrix = np.zeros((n, 1 << n))
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        np.add.at(matrix[i], without | 1 << i, weights[size[without]])
        np.add.at(matrix[i], without, -weights[size[without]])
    return matrix


def replicate_set_fractions(
    channel_sets: Sequence[tuple[str, ...]], conversions: np.ndarray, nulls: np.ndarray
) -> list[np.ndarray]:
    """`_set_fractions` of every set at once for many replicates: `conversions` and `nulls`
    are (sets x replicates) counts; returns per set its channels' fractions (channels x
    replicates), negative Shapley values clipped, equal split when none is positive. Sets of
    more than MAX_REPLICATED_CHANNELS channels get an empty array (keep their fit)."""
    totals = conversions + nulls
    rates = np.divide(
        conversions,
        totals,
        out=np.zeros(conversions.shape, dtype=float),
        where=(conversions > 0) & (totals > 0),
    )
    index = {frozenset(s): i for i, s in enumerate(channel_sets)}
    replicates = conversions.shape[1]
    fractions = []
    for channel_set in channel_sets:
        n = len(channel_set)
        if n == 0 or n > MAX_REPLICATED_CHANNELS:
            fractions.append(np.zeros((0, replicates)))
            continue
        rows = np.array(
            [
                index.get(frozenset(c for i, c in enumerate(channel_set) if mask >> i & 1), -1)
                for mask in range(1 << n)
            ]
        )
        worth = np.where((rows >= 0)[:, None], rates[np.maximum(rows, 0)], 0.0)
        positive = np.maximum(_coalition_matrix(n) @ worth, 0.0)
        total = positive.sum(axis=0, keepdims=True)
        fractions.append(np.divide(positive, total, out=np.full(positive.shape, 1.0 / n), where=total > 0))
    return fractions


def count_channel_sets(inputs: ModelInput) -> pl.DataFrame:
    """Per journey kind and distinct channel set: converting journeys and non-converting paths
    (counts of batches add up)."""
    converting = (
        inputs.journey_touches.group_by(*JOURNEY_KEY)
        .agg(channel_set=pl.col("channel").unique().sort())
        .group_by("journey_kind", "channel_set")
        .agg(conversions=pl.len().cast(pl.Int64), nulls=pl.lit(0, dtype=pl.Int64))
    )
    frames = [converting]
    if inputs.null_path_touches is not None and len(inputs.null_path_touches):
        frames.append(
            inputs.null_path_touches.group_by("journey_kind", "path_id")
            .agg(channel_set=pl.col("channel").unique().sort())
            .group_by("journey_kind", "channel_set")
            .agg(conversions=pl.lit(0, dtype=pl.Int64), nulls=pl.len().cast(pl.Int64))
        )
    return pl.concat([f.select(list(SET_COUNT_SCHEMA)) for f in frames]).cast(SET_COUNT_SCHEMA)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ShapleyFit:
    """Per (journey_kind, journey, channel) fractions and per-channel Shapley totals."""

    fractions: pl.DataFrame
    channels: pl.DataFrame


def _set_fractions(rates: Mapping[frozenset[str], float], channel_set: tuple[str, ...]) -> dict[str, float]:
    """The fraction of a journey with this channel set each channel gets (see module doc)."""
    phi = shapley_values(channel_set, lambda s: rates.get(s, 0.0))
    positive = {c: max(v, 0.0) for c, v in phi.items()}
    total = sum(positive.values())
    if total <= 0:
        return {c: 1.0 / len(channel_set) for c in channel_set}
    return {c: v / total for c, v in positive.items()}


def _set_fraction_frame(set_counts: pl.DataFrame) -> pl.DataFrame:
    """(journey_kind, channel_set, channel, fraction): the Shapley fractions of every
    converting channel set of each journey kind, from the summed set counts."""
    totals = set_counts.group_by("journey_kind", "channel_set").agg(
        pl.col("conversions").sum(), pl.col("nulls").sum()
    )
    fraction_rows: list[tuple[str, tuple[str, ...], str, float]] = []
    for kind in sorted(set(totals["journey_kind"].to_list())):
        kind_totals = totals.filter(pl.col("journey_kind") == kind)
        rates = {
            frozenset(s): conv / (conv + nulls)
            for s, conv, nulls in kind_totals.select("channel_set", "conversions", "nulls").iter_rows()
            if conv > 0
        }
        for channel_set in sorted(
            tuple(s) for s in kind_totals.filter(pl.col("conversions") > 0)["channel_set"].to_list()
        ):
            for channel, fraction in _set_fractions(rates, channel_set).items():
                fraction_rows.append((kind, channel_set, channel, fraction))
    return pl.DataFrame(
        {
            "journey_kind": [k for k, _, _, _ in fraction_rows],
            "channel_set": pl.Series([list(s) for _, s, _, _ in fraction_rows], dtype=pl.List(pl.String)),
            "channel": [c for _, _, c, _ in fraction_rows],
            "fraction": [f for _, _, _, f in fraction_rows],
        },
        schema={
            "journey_kind": pl.String,
            "channel_set": pl.List(pl.String),
            "channel": pl.String,
            "fraction": pl.Float64,
        },
    )


def _channel_totals(set_fraction: pl.DataFrame, journeys: pl.DataFrame, n_sets: int) -> pl.DataFrame:
    """Per (journey_kind, channel): each set's fraction times its journeys (their count, their
    summed amount), summed in numpy over rows in a fixed order (identical floats on every
    rerun), and the channel's share of its kind."""
    set_of_journey = journeys["set_id"].to_numpy().astype(np.int64)
    journeys_in_set = np.bincount(set_of_journey, minlength=n_sets).astype(float)
    amount_in_set = np.bincount(
        set_of_journey, weights=journeys["journey_amount"].to_numpy().astype(float), minlength=n_sets
    )
    weighted = set_fraction.sort("journey_kind", "channel", "set_id")
    set_index = weighted["set_id"].to_numpy().astype(np.int64)
    set_fractions = weighted["fraction"].to_numpy()
    kinds, names = weighted["journey_kind"], weighted["channel"]
    group = np.cumsum(((kinds != kinds.shift(1)) | (names != names.shift(1))).fill_null(True).to_numpy()) - 1
    firsts = weighted.select("journey_kind", "channel").unique(maintain_order=True)
    return firsts.with_columns(
        shapley_conversions=pl.Series(
            np.bincount(group, weights=set_fractions * journeys_in_set[set_index], minlength=firsts.height)
        ),
        fitted_value=pl.Series(
            np.bincount(group, weights=set_fractions * amount_in_set[set_index], minlength=firsts.height)
        ),
    ).with_columns(
        share=pl.col("shapley_conversions") / pl.col("shapley_conversions").sum().over("journey_kind")
    )


def fit_shapley(set_counts: pl.DataFrame, per_channel: pl.DataFrame) -> ShapleyFit:
    """Shapley fractions of every converting journey (`per_channel`: one row per journey and
    channel with channel_touch_count and journey_amount) from the summed set counts."""
    set_fraction = _set_fraction_frame(set_counts)
    # the journeys in a fixed order (the sums below), each with its channel set; the distinct
    # (kind, set) numbered, so the 1M (journey, channel) rows join the set fractions on an
    # integer, not on a list column
    journeys = (
        per_channel.group_by(*JOURNEY_KEY)
        .agg(channel_set=pl.col("channel").unique().sort(), journey_amount=pl.col("journey_amount").first())
        .sort(*JOURNEY_KEY)
    )
    sets = (
        journeys.select("journey_kind", "channel_set")
        .unique()
        .sort("journey_kind", "channel_set")
        .with_row_index("set_id")
    )
    journeys = journeys.join(sets, on=["journey_kind", "channel_set"], maintain_order="left")
    set_fraction = set_fraction.join(sets, on=["journey_kind", "channel_set"])
    fractions = per_channel.join(journeys.select(*JOURNEY_KEY, "set_id"), on=list(JOURNEY_KEY)).join(
        set_fraction.select("set_id", "channel", "fraction"), on=["set_id", "channel"], how="left"
    )
    channels = _channel_totals(set_fraction, journeys, sets.height)
    return ShapleyFit(
        fractions.select([pl.col(c).cast(t) for c, t in FRACTION_SCHEMA.items()]),
        channels.select([pl.col(c).cast(t) for c, t in CHANNEL_SCHEMA.items()]),
    )


def shapley_attribution(paths: pl.DataFrame, clip_negative: bool = True) -> pl.DataFrame:
    """Aggregated paths in (`path` list[str], `conversions`, `nulls`); one row per channel out
    (`channel`, `attributed_conversions`, `share`): each distinct channel set's conversions
    split by its channels' Shapley values on conversion rates (negative values as 0 unless
    `clip_negative` is off, as DP6 keeps them)."""
    sets = (
        paths.with_columns(channel_set=pl.col("path").list.unique().list.sort())
        .group_by("channel_set")
        .agg(pl.col("conversions").sum(), pl.col("nulls").sum())
    )
    rates = {
        frozenset(s): c / (c + n)
        for s, c, n in sets.select("channel_set", "conversions", "nulls").iter_rows()
        if c > 0
    }
    totals: dict[str, float] = {}
    for channel_set, conversions, _ in sets.filter(pl.col("conversions") > 0).sort("channel_set").iter_rows():
        members = tuple(channel_set)
        if clip_negative:
            fractions = _set_fractions(rates, members)
        else:
            phi = shapley_values(members, lambda s: rates.get(s, 0.0))
            fractions = {c: v / sum(phi.values()) for c, v in phi.items()}
        for channel, fraction in fractions.items():
            totals[channel] = totals.get(channel, 0.0) + conversions * fraction
    frame = pl.DataFrame(
        {"channel": list(totals), "attributed_conversions": list(totals.values())},
        schema={"channel": pl.String, "attributed_conversions": pl.Float64},
    ).sort("channel")
    return frame.with_columns(share=pl.col("attributed_conversions") / pl.col("attributed_conversions").sum())


def shapley(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Shapley credits per touch: its channel's fraction of the journey (Shapley values on
    conversion rates), split equally among the channel's touches (the pipeline's fit, else
    one on these inputs)."""
    return fitted_credits(
        inputs, "shapley", lambda: fit_shapley(count_channel_sets(inputs), journey_channels(inputs)).fractions
    )


def _explain_shapley(config: AttributionConfig) -> pl.Expr:
    return pl.format(
        "{}: Shapley value {} of this journey's channel set (worth: the conversion rate of each "
        "sub-set), split over its {} touch(es)",
        pl.col("channel"),
        pl.col("channel_fraction").round(4),
        pl.col("channel_touch_count"),
    )


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "shapley",
        shapley,
        "Shapley values of the channels of each journey's channel set in a game whose worth is the "
        "conversion rate of each sub-set (converting and non-converting paths)",
        order=100,
        needs=("fitted_fractions",),
        fitted=True,
        contrast=True,
        resampling="shapley_refit",
        explain=_explain_shapley,
    ),
)
