"""The world's touches and opportunities, chunk by chunk of accounts (vectorized: a large scale
streams to many part files instead of building one huge frame)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import polars as pl

from attribution.sample_data.world import (
    _MICROS_PER_DAY,
    CHANNELS,
    CURRENCIES,
    LATER_DEAL_TYPES,
    REGIONS,
    SEGMENTS,
    TOUCH_TYPES,
    WIN_RATE,
    SampleSpec,
    iso,
    pick,
)

__all__ = ["generate_chunks"]


def _touches(
    rng: np.random.Generator, spec: SampleSpec, first_account: int, n_accounts: int
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """One chunk's touches (account, time, channel, contact and campaign numbers) and the
    arrays the opportunities are drawn from (the draws in the order the seed fixes)."""
    start_us = int((spec.start - datetime(1970, 1, 1)).total_seconds() * 1e6)
    end_us = int((spec.end - datetime(1970, 1, 1)).total_seconds() * 1e6)
    span_us = end_us - start_us
    channel_mix = np.array([share for share, _ in CHANNELS.values()])
    channel_mix = channel_mix / channel_mix.sum()

    engagement = rng.gamma(shape=1.2, scale=1 / 1.2, size=n_accounts)
    fit = rng.lognormal(mean=0.0, sigma=0.5, size=n_accounts)
    n_touches = rng.poisson(spec.touches_per_account * engagement)
    account_idx = np.repeat(np.arange(n_accounts), n_touches)
    total = int(n_touches.sum())

    # touches cluster around a few "buying moments" per account, the way real journeys do
    centre = rng.integers(0, span_us, size=n_accounts)
    spread = rng.exponential(45 * _MICROS_PER_DAY, size=total)
    offset = (rng.standard_normal(total) * spread).astype(np.int64)
    uniform = rng.integers(0, span_us, size=total)
    clustered = rng.random(total) < 0.7
    occurred = np.where(clustered, centre[account_idx] + offset, uniform)
    occurred = np.clip(occurred, 0, span_us - 1) + start_us
    channel_idx = rng.choice(len(CHANNELS), size=total, p=channel_mix)
    contact_k = rng.integers(1, 5, size=total)
    campaign_k = rng.integers(1, 5, size=total)

    global_account = first_account + account_idx
    touches = pl.DataFrame(
        {
            "account_n": global_account,
            "occurred_us": occurred,
            "channel_idx": channel_idx,
            "contact_k": contact_k,
            "campaign_k": campaign_k,
            "seq": np.arange(total),
        }
    )
    drawn = {
        "fit": fit[account_idx],
        "channel_idx": channel_idx,
        "account": global_account,
        "occurred": occurred,
    }
    return touches, drawn | {"start_us": np.array(start_us), "end_us": np.array(end_us)}


def _opportunities(
    rng: np.random.Generator,
    spec: SampleSpec,
    first_account: int,
    n_accounts: int,
    drawn: dict[str, np.ndarray],
) -> pl.DataFrame:
    """Opportunities sparked by the touches (at most one per account per 90-day bucket) and
    the sales-sourced ones, with their outcome, currency and amount."""
    start_us, end_us = int(drawn["start_us"]), int(drawn["end_us"])
    channel_idx, occurred = drawn["channel_idx"], drawn["occurred"]
    total = channel_idx.size
    spark = np.array([p for _, p in CHANNELS.values()])
    p_spark = np.clip(spark[channel_idx] * drawn["fit"] * spec.spark_scale, 0, 0.9)
    sparked = rng.random(total) < p_spark
    delay = (rng.exponential(6 * _MICROS_PER_DAY, size=total)).astype(np.int64) + 3_600_000_000
    created = occurred + delay
    cand = pl.DataFrame(
        {
            "account_n": drawn["account"][sparked],
            "created_us": created[sparked],
            "source_channel_idx": channel_idx[sparked],
        }
    ).filter(pl.col("created_us") < end_us)
    n_sales = round(len(cand) * spec.sales_sourced_share / (1 - spec.sales_sourced_share))
    sales = pl.DataFrame(
        {
            "account_n": first_account + rng.integers(0, n_accounts, size=n_sales),
            "created_us": start_us + rng.integers(0, end_us - start_us, size=n_sales),
            "source_channel_idx": np.full(n_sales, -1),
        }
    )
    cand = pl.concat([cand, sales]).with_columns(
        (pl.col("created_us") // (90 * _MICROS_PER_DAY)).alias("bucket")
    )
    opps = cand.sort("account_n", "created_us").unique(
        ["account_n", "bucket"], keep="first", maintain_order=True
    )
    n_opps = len(opps)
    win_rate = np.array([WIN_RATE[c] for c in CHANNELS] + [WIN_RATE["(sales)"]])
    src = opps["source_channel_idx"].to_numpy()
    p_win = win_rate[np.where(src < 0, len(CHANNELS), src)]
    cycle = rng.gamma(shape=2.0, scale=30 * _MICROS_PER_DAY, size=n_opps).astype(np.int64)
    closed = opps["created_us"].to_numpy() + cycle
    is_closed = closed < end_us
    won = rng.random(n_opps) < p_win
    currency_names = list(CURRENCIES)
    currency_p = np.array([CURRENCIES[c][0] for c in currency_names])
    currency_idx = rng.choice(len(currency_names), size=n_opps, p=currency_p)
    amount = np.round(rng.lognormal(mean=math.log(25_000), sigma=0.8, size=n_opps), 2)
    return opps.with_columns(
        pl.Series("closed_us", np.where(is_closed, closed, 0)),
        pl.Series("expected_close_us", closed),
        pl.Series("is_closed", is_closed),
        pl.Series("won", won),
        pl.Series("currency", np.array(currency_names)[currency_idx]),
        pl.Series("amount", amount),
    )


def _chunk(
    spec: SampleSpec, chunk_index: int, first_account: int, n_accounts: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng([spec.seed, chunk_index])
    touches, drawn = _touches(rng, spec, first_account, n_accounts)
    return touches, _opportunities(rng, spec, first_account, n_accounts, drawn)


def _segments(spec: SampleSpec, chunk_index: int, opps: pl.DataFrame) -> pl.DataFrame:
    """segment and region per account, type per deal (first: New Business), from their own
    random stream so the rest of the world does not move."""
    rng = np.random.default_rng([spec.seed, 555_555, chunk_index])
    accounts = opps.select("account_n").unique(maintain_order=True)
    accounts = accounts.with_columns(
        pl.Series("segment", pick(rng, SEGMENTS, len(accounts))),
        pl.Series("region", pick(rng, REGIONS, len(accounts))),
    )
    later = pl.Series("later_type", pick(rng, LATER_DEAL_TYPES, len(opps)))
    return (
        opps.with_columns(later)
        .join(accounts, on="account_n", how="left", maintain_order="left")
        .with_columns(
            type=pl.when(pl.col("account_n").cum_count().over("account_n") == 1)
            .then(pl.lit("New Business"))
            .otherwise(pl.col("later_type"))
        )
    )


def generate_chunks(spec: SampleSpec) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield (touchpoints, opportunities) frames in the input contract, one chunk of accounts each."""
    channel_names = list(CHANNELS)
    touch_types = [TOUCH_TYPES[c] for c in CHANNELS]
    codes = list(range(len(channel_names)))
    touch_offset = 0
    opp_offset = 0
    n_chunks = math.ceil(spec.n_accounts / spec.accounts_per_chunk)
    for chunk_index in range(n_chunks):
        first = chunk_index * spec.accounts_per_chunk
        n = min(spec.accounts_per_chunk, spec.n_accounts - first)
        raw_touches, raw_opps = _chunk(spec, chunk_index, first, n)
        raw_opps = _segments(spec, chunk_index, raw_opps)
        account = pl.format("acc-{}", pl.col("account_n").cast(pl.String).str.zfill(7))
        channel = pl.col("channel_idx").replace_strict(codes, channel_names, return_dtype=pl.String)
        touches = raw_touches.select(
            pl.format("tp-{}", (pl.col("seq") + touch_offset).cast(pl.String).str.zfill(10)).alias(
                "touchpoint_id"
            ),
            iso(pl.from_epoch("occurred_us", time_unit="us")).alias("occurred_at"),
            account.alias("account_id"),
            pl.format("{}-c{}", account, pl.col("contact_k")).alias("contact_id"),
            channel.alias("channel"),
            pl.format("{}-{}", channel, pl.col("campaign_k")).alias("campaign"),
            pl.col("channel_idx")
            .replace_strict(codes, touch_types, return_dtype=pl.String)
            .alias("touch_type"),
        )
        opps = raw_opps.with_row_index("seq").select(
            pl.format("opp-{}", (pl.col("seq") + opp_offset).cast(pl.String).str.zfill(8)).alias(
                "opportunity_id"
            ),
            account.alias("account_id"),
            iso(pl.from_epoch("created_us", time_unit="us")).alias("created_at"),
            # an open deal's closed_at is its expected close date, a plain date as CRMs give it
            pl.when(pl.col("is_closed"))
            .then(iso(pl.from_epoch("closed_us", time_unit="us")))
            .otherwise(pl.from_epoch("expected_close_us", time_unit="us").dt.strftime("%Y-%m-%d"))
            .alias("closed_at"),
            pl.when(~pl.col("is_closed"))
            .then(pl.lit("open"))
            .when(pl.col("won"))
            .then(pl.lit("closed_won"))
            .otherwise(pl.lit("closed_lost"))
            .alias("stage"),
            pl.col("amount"),
            pl.col("currency"),
            pl.col("segment"),
            pl.col("region"),
            pl.col("type"),
        )
        touch_offset += len(touches)
        opp_offset += len(opps)
        yield touches, opps
