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
import zlib
from collections.abc import Callable, Iterator

import duckdb
import numpy as np
import polars as pl

from attribution.config import JOURNEY_KINDS, AttributionConfig
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.engine import Engine, as_engine
from attribution.intervals_replicates import (
    IntervalInputs,
    incidence,
    markov_factors,
    poisson_blocks,
    shapley_amounts,
    weighted,
)
from attribution.models import MODEL_SPECS
from attribution.models.base import WIDE_KEY
from attribution.sql import read_sql

__all__ = ["INTERVAL_SCHEMA", "IntervalInputs", "bootstrap_intervals", "read_interval_inputs"]

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


def kind_index(journey_kind: str) -> int:
    """The journey kind's part of the replicate seed: its place in JOURNEY_KINDS, or for a
    milestone kind a stable number from its name (the same draws whatever else runs)."""
    if journey_kind in JOURNEY_KINDS:
        return JOURNEY_KINDS.index(journey_kind)
    return 1000 + zlib.crc32(journey_kind.encode("utf-8")) % 1_000_000


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


def _percentiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail], axis=1)
    return low, high


def _refit(
    refitted: np.ndarray,
    channel_names: list[str],
    resampling: str,
    factors: Callable[[], tuple[list[str], np.ndarray]],
    exact: Callable[[], dict[str, np.ndarray] | None],
) -> None:
    """A fitted model's replicate amounts per channel, in place: Markov's scaled by the
    replicate chain's removal-effect shares (`factors`), Shapley's refitted (`exact`)."""
    if resampling == "markov_removal_share":
        chain_channels, scale = factors()
        for i, channel in enumerate(chain_channels):
            if channel in channel_names:
                refitted[channel_names.index(channel)] *= scale[i]
    elif resampling == "shapley_refit":
        for channel, values in (exact() or {}).items():
            if channel in channel_names:
                refitted[channel_names.index(channel)] = values


def _conserved(
    refitted: np.ndarray, channel_amounts: np.ndarray, channel_names: list[str], totals: np.ndarray
) -> np.ndarray:
    """Each replicate's refitted amounts scaled so they attribute its whole value (the touched
    channels share what `(none)` leaves); the per-channel scale applied."""
    touched = np.array([c != UNATTRIBUTED_CHANNEL for c in channel_names])
    target = totals - channel_amounts[~touched].sum(axis=0)
    current = refitted[touched].sum(axis=0)
    refitted[touched] *= np.divide(target, current, out=np.ones_like(target), where=current > 0)
    scale: np.ndarray = np.divide(
        refitted, channel_amounts, out=np.ones_like(refitted), where=channel_amounts > 0
    )
    return scale


def _interval_rows(
    journey_kind: str,
    model: str,
    levels: list[tuple[str, list[tuple[str, str | None]], np.ndarray]],
    totals: np.ndarray,
    config: AttributionConfig,
) -> list[dict[str, object]]:
    """One row per channel and per campaign: the percentile interval of its amount and share."""
    rows: list[dict[str, object]] = []
    for level, names, values in levels:
        shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
        low, high = _percentiles(values, config.intervals.level)
        share_low, share_high = _percentiles(shares, config.intervals.level)
        for i, (channel, campaign) in enumerate(names):
            rows.append(
                {
                    "journey_kind": journey_kind,
                    "model": model,
                    "level": level,
                    "channel": channel,
                    "campaign": campaign,
                    "attributed_low": float(low[i]),
                    "attributed_high": float(high[i]),
                    "share_low": float(share_low[i]),
                    "share_high": float(share_high[i]),
                    "replicates": config.intervals.replicates,
                    "confidence_level": config.intervals.level,
                }
            )
    return rows


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
    blocks = poisson_blocks(seed, kind_index, len(ids), replicates)
    totals = np.zeros(replicates)
    for start, weights in blocks:
        totals += amounts[start : start + weights.shape[0]] @ weights.astype(np.float64)

    @functools.cache
    def factors() -> tuple[list[str], np.ndarray]:  # the Markov refit: once per journey kind
        return markov_factors(inputs, config, opportunity_index, blocks, seed, kind_index)

    def exact() -> dict[str, np.ndarray] | None:
        return shapley_amounts(inputs, opportunity_index, amounts, blocks, seed, kind_index, replicates)

    rows: list[dict[str, object]] = []
    for model, by_key in _model_credits(inputs, opportunities):
        if by_key.is_empty():
            continue
        # keys (channel, campaign) numbered in sorted order; credits of one (opportunity, key)
        # in several rows are summed by the sparse matrix
        keys = by_key.select("key", "channel", "campaign").unique("key").sort("key")
        campaign_amounts = weighted(
            incidence(
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
        if resampling != "exact":
            _refit(refitted, channel_names, resampling, factors, exact)
            campaign_amounts = (
                campaign_amounts
                * _conserved(refitted, channel_amounts, channel_names, totals)[channel_of_key]
            )
        levels = [
            ("channel", [(c, None) for c in channel_names], refitted),
            ("campaign", list(keys.select("channel", "campaign").iter_rows()), campaign_amounts),
        ]
        rows += _interval_rows(inputs.journey_kind, model, levels, totals, config)
    return rows


def bootstrap_intervals(inputs: list[IntervalInputs], config: AttributionConfig) -> pl.DataFrame:
    """Percentile intervals (level config.intervals.level, config.intervals.replicates Poisson
    replicates, seed config.intervals.seed) of every (journey kind, model, channel) and
    (journey kind, model, channel, campaign) attributed amount and share; empty when the
    replicates setting is 0."""
    rows: list[dict[str, object]] = []
    if config.intervals.replicates > 0:
        for item in inputs:
            rows.extend(_kind_intervals(item, config, kind_index(item.journey_kind)))
    return pl.DataFrame(rows, schema=INTERVAL_SCHEMA).sort(
        "journey_kind", "model", "level", "channel", "campaign"
    )
