"""The replicates of the Poisson bootstrap (attribution.intervals): seeded Poisson(1) weights
per block of opportunities, their products with a model's credits, and the refits of the
fitted models per replicate (the Markov chain re-solved on reweighted transitions, the
Shapley values refitted on reweighted channel-set counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from attribution.config import AttributionConfig
from attribution.models.markov_chain import (
    ChainCounts,
    pair_codes,
    pair_keys,
    replicate_removal_shares,
    transient_states,
    transition_rows,
)
from attribution.models.shapley import replicate_set_fractions

__all__ = [
    "BLOCK_OPPORTUNITIES",
    "IntervalInputs",
    "incidence",
    "markov_factors",
    "poisson_blocks",
    "shapley_amounts",
    "weighted",
]

# a block of opportunities gets its own weights (bounded memory: block x replicates)
BLOCK_OPPORTUNITIES = 50_000
# the null paths' weights are drawn this many replicates at a time (bounded memory)
REPLICATE_BLOCK = 25


@dataclass(frozen=True)
class IntervalInputs:
    """One journey kind's converted journeys and what the refitted models need.

    opportunities: opportunity_id, journey_amount (one row per converted journey).
    credits: model, opportunity_id, channel, campaign, attributed_amount (per journey), or
      None with `credits_of` instead: a model's credits as (opportunity: its 0-based row in
      the opportunities sorted by id, key: the 0-based rank of (channel, campaign), channel,
      campaign, attributed_amount), read one model at a time (memory: one model's rows).
    journey_paths: opportunity_id, path (list of channels in journey order).
    null_paths: path, nulls (unique non-converting paths and how many there are).
    """

    journey_kind: str
    opportunities: pl.DataFrame
    credits: pl.DataFrame | None
    journey_paths: pl.DataFrame
    null_paths: pl.DataFrame
    credits_of: Callable[[str], pl.DataFrame] | None = None
    models: tuple[str, ...] = ()


def _with_sets(paths: pl.DataFrame) -> pl.DataFrame:
    """Paths with their `channel_set` (distinct channels, sorted), unless the query gave it."""
    if "channel_set" in paths.columns:
        return paths
    return paths.with_columns(channel_set=pl.col("path").list.unique().list.sort())


def _ranked(paths: pl.DataFrame) -> pl.DataFrame:
    """Journey paths with `path_rank` (dense rank of the path, 0-based), unless given."""
    if "path_rank" in paths.columns:
        return paths
    key = pl.col("path").list.join("\x1f")
    return paths.with_columns(path_rank=key.rank("dense").cast(pl.Int64) - 1)


def poisson_blocks(seed: int, kind_index: int, n: int, replicates: int) -> list[tuple[int, np.ndarray]]:
    """(start, weights of the block: rows x replicates) for every block of n opportunities,
    kept as the smallest unsigned integers that hold them (Poisson(1) draws: one byte each,
    an eighth of float64; callers convert one block at a time)."""
    blocks = []
    for block, start in enumerate(range(0, n, BLOCK_OPPORTUNITIES)):
        rng = np.random.default_rng([seed, kind_index, block])
        size = min(BLOCK_OPPORTUNITIES, n - start)
        draws = rng.poisson(1.0, size=(size, replicates))
        blocks.append((start, draws.astype(np.min_scalar_type(int(draws.max(initial=0))))))
    return blocks


def incidence(
    rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_array:
    data = np.ones(rows.size) if values is None else values
    return sp.csr_array((data, (rows, columns)), shape=shape)


def weighted(matrix: sp.csr_array, blocks: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """matrix (keys x opportunities) times the weights (opportunities x replicates)."""
    replicates = blocks[0][1].shape[1] if blocks else 0
    out = np.zeros((matrix.shape[0], replicates))
    matrix = sp.csc_array(matrix)  # column blocks are cheap slices of a CSC matrix
    for start, weights in blocks:
        out += matrix[:, start : start + weights.shape[0]] @ weights.astype(np.float64)
    return out


# the transitions of this many paths are made at a time (bounded memory)
PATH_BLOCK = 500_000


def _path_incidence(
    paths: pl.DataFrame, n_converting: int, config: AttributionConfig, channels: tuple[str, ...]
) -> tuple[np.ndarray, sp.csr_array, sp.csr_array]:
    """The distinct (from, to) pair keys of the paths' transitions (sorted), and per pair how
    often each converting path (the first n_converting rows: its steps and its step into
    conversion) and each null path (its steps and its step into null) takes it. A block of
    paths at a time, twice (the keys seen, then the incidence): the uncounted transitions of
    every path are never in memory at once."""

    def block(start: int) -> tuple[np.ndarray, np.ndarray]:
        rows = transition_rows(
            paths.slice(start, PATH_BLOCK), config.markov_order, config.collapse_repeats, channels
        )
        local = rows.path_of.astype(np.int64)
        taken = np.where(local + start >= n_converting, rows.ending != 1, rows.ending != 2)
        return pair_keys(rows.from_code[taken], rows.to_code[taken], len(channels)), local[taken]

    starts = range(0, len(paths), PATH_BLOCK)
    seen = np.unique(np.concatenate([np.zeros(0, np.int64), *(np.unique(block(s)[0]) for s in starts)]))
    parts = [sp.csc_array((len(seen), 0))]
    for start in starts:
        keys, local = block(start)
        size = min(PATH_BLOCK, len(paths) - start)
        parts.append(
            sp.csc_array((np.ones(keys.size), (np.searchsorted(seen, keys), local)), shape=(len(seen), size))
        )
    whole = sp.hstack(parts, format="csc")
    return seen, sp.csr_array(whole[:, :n_converting]), sp.csr_array(whole[:, n_converting:])


def markov_factors(
    inputs: IntervalInputs,
    config: AttributionConfig,
    opportunity_index: dict[str, int],
    blocks: list[tuple[int, np.ndarray]],
    seed: int,
    kind_index: int,
) -> tuple[list[str], np.ndarray]:
    """Channels of the chain and, per channel and replicate, the replicate's removal-effect
    share over the fitted one (1 where the fitted share is 0)."""
    converting = _ranked(inputs.journey_paths).with_columns(path_id=pl.col("path_rank")).sort("path_id")
    unique_converting = converting.unique("path_id", keep="first", maintain_order=True).select("path")
    nulls = inputs.null_paths.sort(pl.col("path").list.join("\x1f"))  # the draws follow this order
    paths = pl.concat(
        [
            unique_converting.with_columns(origin=pl.lit(0)),
            nulls.select("path").with_columns(origin=pl.lit(1)),
        ]
    )
    channels = tuple(sorted(set(paths["path"].explode().drop_nulls().to_list())))
    replicates = config.intervals.replicates
    if not channels:
        return [], np.ones((0, replicates))
    n_converting = len(unique_converting)
    membership = incidence(
        converting["path_id"].to_numpy(),
        converting["opportunity_id"].replace_strict(opportunity_index, return_dtype=pl.Int64).to_numpy(),
        (n_converting, len(opportunity_index)),
    )
    null_counts = nulls["nulls"].to_numpy().astype(np.float64)
    # one sparse (pair x path) incidence per kind of path, built a block of paths at a time so
    # the uncounted transitions of every path are never in memory at once
    pair_keys_seen, converting_incidence, null_incidence = _path_incidence(
        paths.with_columns(conversions=pl.lit(1), nulls=pl.lit(0)), n_converting, config, channels
    )
    unique_pairs = np.stack(pair_codes(pair_keys_seen, len(channels), config.markov_order), axis=1)
    # per pair and replicate: a converting path weighs the summed weights of its journeys, so
    # (pair x path) @ (path x opportunity) @ weights; never a dense (path x replicate) matrix
    by_opportunity = (converting_incidence @ membership).tocsr()
    counts = np.empty((len(unique_pairs), replicates + 1))
    counts[:, :replicates] = weighted(by_opportunity, blocks)
    counts[:, replicates] = np.asarray(by_opportunity.sum(axis=1)).ravel() + null_incidence @ null_counts
    # the null paths' Poisson weights, drawn and applied a block of replicates at a time
    rng = np.random.default_rng([seed, kind_index, 1_000_003])
    for first in range(0, replicates, REPLICATE_BLOCK):
        last = min(first + REPLICATE_BLOCK, replicates)
        draws = rng.poisson(null_counts[:, None], size=(null_counts.size, last - first)).astype(np.float64)
        counts[:, first:last] += null_incidence @ draws
    like = ChainCounts(
        channels, config.markov_order, unique_pairs[:, 0], unique_pairs[:, 1], counts[:, -1], 0.0, 0
    )
    transient, _ = transient_states(like)
    shares = replicate_removal_shares(
        transient, unique_pairs[:, 0], unique_pairs[:, 1], counts, len(channels), config.markov_order
    )
    fitted = shares[:, -1:]
    factors = np.divide(shares[:, :-1], fitted, out=np.ones((len(channels), replicates)), where=fitted > 0)
    return list(channels), factors


def shapley_amounts(
    inputs: IntervalInputs,
    opportunity_index: dict[str, int],
    amounts: np.ndarray,
    blocks: list[tuple[int, np.ndarray]],
    seed: int,
    kind_index: int,
    replicates: int,
) -> dict[str, np.ndarray] | None:
    """Per channel, the refitted Shapley amount of every replicate (None when a set is too
    large to refit: the caller then keeps the fitted fractions)."""
    journeys = _with_sets(inputs.journey_paths)
    null_sets = (
        _with_sets(inputs.null_paths)
        .group_by("channel_set")
        .agg(pl.col("nulls").sum())
        .sort(pl.col("channel_set").list.join("\x1f"))  # the draws follow this order
    )
    set_keys = sorted(
        {tuple(s) for s in journeys["channel_set"].to_list()}
        | {tuple(s) for s in null_sets["channel_set"].to_list()}
    )
    set_index = {s: i for i, s in enumerate(set_keys)}
    journey_set = np.array([set_index[tuple(s)] for s in journeys["channel_set"].to_list()], dtype=np.int64)
    journey_opp = (
        journeys["opportunity_id"].replace_strict(opportunity_index, return_dtype=pl.Int64).to_numpy()
    )
    membership = incidence(journey_set, journey_opp, (len(set_keys), len(opportunity_index)))
    valued = incidence(
        journey_set, journey_opp, (len(set_keys), len(opportunity_index)), amounts[journey_opp]
    )
    conversions = weighted(membership, blocks)
    set_amounts = weighted(valued, blocks)
    nulls = np.zeros((len(set_keys), replicates))
    if len(null_sets):
        rng = np.random.default_rng([seed, kind_index, 2_000_003])
        counts = null_sets["nulls"].to_numpy().astype(np.float64)
        rows = np.array([set_index[tuple(s)] for s in null_sets["channel_set"].to_list()], dtype=np.int64)
        nulls[rows] = rng.poisson(counts[:, None], size=(counts.size, replicates))
    fractions = replicate_set_fractions(set_keys, conversions, nulls)
    out: dict[str, np.ndarray] = {}
    for channel_set, fraction, amount in zip(set_keys, fractions, set_amounts, strict=True):
        if not channel_set:
            continue
        if fraction.shape[0] == 0:
            return None
        for i, channel in enumerate(channel_set):
            out[channel] = out.get(channel, np.zeros(replicates)) + fraction[i] * amount
    return out
