"""Confidence intervals of attributed amounts and shares: a Poisson bootstrap over
opportunities with their journeys (and, for Markov and Shapley, the non-converting paths).

Replicate b gives each opportunity a weight w ~ Poisson(1) (Hanley & MacGibbon 2006: the
Poisson bootstrap, no resampling of rows; a unique path with n journeys or null paths then
weighs a sum of their weights, and a null path's weight is Poisson(n)), drawn from a seeded
generator per journey kind and block of opportunities, so a run is reproducible.

- Rule-based models (first/last touch, linear, time decay, position based, W-shaped, full
  path, custom): a journey's credits do not depend on other journeys, so a replicate's
  channel (campaign) amount is sum_o w_o x attributed_o, exactly.
- Shapley: every replicate refits the model on its reweighted channel-set counts (the
  conversion rates, then the Shapley fractions of each set), exactly.
- Markov: every replicate re-solves the chain on its reweighted transitions; the journeys'
  fitted fractions are then scaled per channel by the replicate's removal-effect share over
  the fitted share (the Sinkhorn fit is not rerun per replicate) and renormalized so the
  replicate still attributes its whole value.

Campaigns of Markov and Shapley follow their channel: a campaign's reweighted amount scaled
like its channel's. Every replicate conserves value; intervals are percentile intervals of
the replicates at the configured level. Costs: sparse products of (opportunities x
replicates) weights with the credits, one small chain solve and one vectorized Shapley pass
per replicate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
import scipy.sparse as sp

from attribution.config import JOURNEY_KINDS, AttributionConfig
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.engine import Engine, as_engine
from attribution.models import MODEL_SPECS
from attribution.models.base import WIDE_KEY
from attribution.models.markov_chain import (
    ChainCounts,
    pair_codes,
    pair_keys,
    replicate_removal_shares,
    transient_states,
    transition_rows,
)
from attribution.models.shapley import replicate_set_fractions
from attribution.sql import read_sql

__all__ = ["INTERVAL_SCHEMA", "IntervalInputs", "bootstrap_intervals", "read_interval_inputs"]

# a block of opportunities gets its own weights (bounded memory: block x replicates)
BLOCK_OPPORTUNITIES = 50_000
# the null paths' weights are drawn this many replicates at a time (bounded memory)
REPLICATE_BLOCK = 25
NO_CAMPAIGN = "(no campaign)"

INTERVAL_SCHEMA = {
    "journey_kind": pl.String,
    "model": pl.String,
    "level": pl.String,  # channel or campaign
    "channel": pl.String,
    "campaign": pl.String,
    "attributed_low": pl.Float64,
    "attributed_high": pl.Float64,
    "share_low": pl.Float64,
    "share_high": pl.Float64,
    "replicates": pl.Int64,
    "confidence_level": pl.Float64,
}


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


def read_interval_inputs(conn: duckdb.DuckDBPyConnection | Engine, journey_kind: str) -> IntervalInputs:
    """The inputs of one journey kind from the journeys, credits and null-path tables; the
    credits are read model by model when the bootstrap asks for them."""
    engine = as_engine(conn)
    params = {"journey_kind": journey_kind}
    engine.define_macros()  # the interval credits label campaigns as the marts do (campaign_label)
    has_credits = engine.frame(
        "select count(*) > 0 as has_credits from int_attribution_credits where journey_kind = $journey_kind",
        params,
    ).item()
    # the wide credits: every column beyond the touch's key is one model's credit
    models = tuple(
        sorted(c for c in engine.table_columns("int_attribution_credits") if c not in WIDE_KEY)
        if has_credits
        else ()
    )
    return IntervalInputs(
        journey_kind,
        engine.frame(read_sql("reads/interval_opportunities.sql"), params),
        None,
        engine.frame(read_sql("reads/interval_journey_paths.sql"), params),
        engine.frame(read_sql("reads/interval_null_paths.sql"), params),
        credits_of=_credits_reader(engine, journey_kind, models),
        models=models,
    )


def _credits_reader(
    engine: Engine, journey_kind: str, models: tuple[str, ...]
) -> Callable[[str], pl.DataFrame]:
    """A model's credits of one journey kind (opportunity, key, channel, campaign,
    attributed_amount), from one read of every model's (sql/reads/interval_credits.sql, on
    the first call)."""

    @functools.cache
    def every_model() -> pl.DataFrame:
        return engine.frame(
            read_sql("reads/interval_credits.sql"), {"journey_kind": journey_kind, "models": list(models)}
        )

    def credits_of(model: str) -> pl.DataFrame:
        return every_model().select("opportunity", "key", "channel", "campaign", attributed_amount=model)

    return credits_of


def _model_credits(inputs: IntervalInputs, opportunities: pl.DataFrame) -> Iterator[tuple[str, pl.DataFrame]]:
    """(model, its credits with `opportunity` and `key` indices), one model at a time."""
    if inputs.credits_of is not None:
        for model in inputs.models:
            yield model, inputs.credits_of(model)
        return
    if inputs.credits is None:
        return
    indexed = opportunities.select("opportunity_id").with_row_index("opportunity")
    credits = inputs.credits.join(indexed, on="opportunity_id", how="inner")
    for (model,), part in sorted(credits.partition_by("model", as_dict=True).items()):
        keys = part.select("channel", "campaign").unique().sort("channel", "campaign").with_row_index("key")
        yield str(model), part.join(keys, on=["channel", "campaign"], how="inner")


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


def _poisson_blocks(seed: int, kind_index: int, n: int, replicates: int) -> list[tuple[int, np.ndarray]]:
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


def _incidence(
    rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_array:
    data = np.ones(rows.size) if values is None else values
    return sp.csr_array((data, (rows, columns)), shape=shape)


def _weighted(matrix: sp.csr_array, blocks: list[tuple[int, np.ndarray]]) -> np.ndarray:
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


def _markov_factors(
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
    membership = _incidence(
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
    counts[:, :replicates] = _weighted(by_opportunity, blocks)
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


def _shapley_amounts(
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
    membership = _incidence(journey_set, journey_opp, (len(set_keys), len(opportunity_index)))
    valued = _incidence(
        journey_set, journey_opp, (len(set_keys), len(opportunity_index)), amounts[journey_opp]
    )
    conversions = _weighted(membership, blocks)
    set_amounts = _weighted(valued, blocks)
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


def _percentiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail], axis=1)
    return low, high


def _kind_intervals(
    inputs: IntervalInputs, config: AttributionConfig, kind_index: int
) -> list[dict[str, object]]:
    replicates, seed = config.intervals.replicates, config.intervals.seed
    opportunities = inputs.opportunities.sort("opportunity_id")
    if opportunities.is_empty() or (inputs.credits is not None and inputs.credits.is_empty()):
        return []
    ids = opportunities["opportunity_id"].to_list()
    opportunity_index = {o: i for i, o in enumerate(ids)}
    amounts = opportunities["journey_amount"].to_numpy().astype(np.float64)
    blocks = _poisson_blocks(seed, kind_index, len(ids), replicates)
    totals = np.zeros(replicates)
    for start, weights in blocks:
        totals += amounts[start : start + weights.shape[0]] @ weights.astype(np.float64)
    rows: list[dict[str, object]] = []
    markov_factors: tuple[list[str], np.ndarray] | None = None
    for model, by_key in _model_credits(inputs, opportunities):
        if by_key.is_empty():
            continue
        # keys (channel, campaign) numbered in sorted order; credits of one (opportunity, key)
        # in several rows are summed by the sparse matrix
        keys = by_key.select("key", "channel", "campaign").unique("key").sort("key")
        campaign_amounts = _weighted(
            _incidence(
                by_key["key"].to_numpy().astype(np.int64),
                by_key["opportunity"].to_numpy().astype(np.int64),
                (len(keys), len(ids)),
                by_key["attributed_amount"].to_numpy(),
            ),
            blocks,
        )
        channel_names = sorted(set(keys["channel"].to_list()))
        channel_of_key = np.array([channel_names.index(c) for c in keys["channel"].to_list()], dtype=np.int64)
        channel_amounts = np.zeros((len(channel_names), replicates))
        np.add.at(channel_amounts, channel_of_key, campaign_amounts)
        refitted = channel_amounts.copy()
        spec = MODEL_SPECS.get(model)
        resampling = spec.resampling if spec is not None else "exact"
        if resampling == "markov_removal_share":
            if markov_factors is None:
                markov_factors = _markov_factors(inputs, config, opportunity_index, blocks, seed, kind_index)
            chain_channels, factors = markov_factors
            for i, channel in enumerate(chain_channels):
                if channel in channel_names:
                    refitted[channel_names.index(channel)] *= factors[i]
        elif resampling == "shapley_refit":
            exact = _shapley_amounts(inputs, opportunity_index, amounts, blocks, seed, kind_index, replicates)
            for channel, values in (exact or {}).items():
                if channel in channel_names:
                    refitted[channel_names.index(channel)] = values
        if resampling != "exact":
            # conserve each replicate's value: the touched channels share what (none) leaves
            touched = np.array([c != UNATTRIBUTED_CHANNEL for c in channel_names])
            target = totals - channel_amounts[~touched].sum(axis=0)
            current = refitted[touched].sum(axis=0)
            refitted[touched] *= np.divide(target, current, out=np.ones_like(target), where=current > 0)
            scale = np.divide(
                refitted, channel_amounts, out=np.ones_like(refitted), where=channel_amounts > 0
            )
            campaign_amounts = campaign_amounts * scale[channel_of_key]
        for level, names, values in (
            ("channel", [(c, None) for c in channel_names], refitted),
            ("campaign", list(keys.select("channel", "campaign").iter_rows()), campaign_amounts),
        ):
            shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
            low, high = _percentiles(values, config.intervals.level)
            share_low, share_high = _percentiles(shares, config.intervals.level)
            for i, (channel, campaign) in enumerate(names):
                rows.append(
                    {
                        "journey_kind": inputs.journey_kind,
                        "model": model,
                        "level": level,
                        "channel": channel,
                        "campaign": campaign,
                        "attributed_low": float(low[i]),
                        "attributed_high": float(high[i]),
                        "share_low": float(share_low[i]),
                        "share_high": float(share_high[i]),
                        "replicates": replicates,
                        "confidence_level": config.intervals.level,
                    }
                )
    return rows


def bootstrap_intervals(inputs: list[IntervalInputs], config: AttributionConfig) -> pl.DataFrame:
    """Percentile intervals (level config.intervals.level, config.intervals.replicates Poisson
    replicates, seed config.intervals.seed) of every (journey kind, model, channel) and
    (journey kind, model, channel, campaign) attributed amount and share; empty when the
    replicates setting is 0."""
    rows: list[dict[str, object]] = []
    if config.intervals.replicates > 0:
        for item in inputs:
            rows.extend(_kind_intervals(item, config, JOURNEY_KINDS.index(item.journey_kind)))
    return pl.DataFrame(rows, schema=INTERVAL_SCHEMA).sort(
        "journey_kind", "model", "level", "channel", "campaign"
    )
