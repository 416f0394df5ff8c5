"""What the world adds beyond touches and deals: fx rates, milestones and spend."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from attribution.sample_data.world import CURRENCIES, SPEND, SampleSpec, iso

__all__ = ["fx_rates", "milestones", "spend", "touch_counts"]


def fx_rates(spec: SampleSpec) -> pl.DataFrame:
    """Monthly rates to USD for every non-USD currency, from three months before the start."""
    rng = np.random.default_rng([spec.seed, 999_999])
    first_month = datetime(spec.start.year, spec.start.month, 1)
    months = pl.date_range(pl.lit(first_month).dt.offset_by("-3mo"), spec.end, interval="1mo", eager=True)
    frames = []
    for currency, (_, base) in CURRENCIES.items():
        if currency == "USD":
            continue
        walk = base * np.exp(np.cumsum(rng.normal(0, 0.01, size=len(months))))
        frames.append(
            pl.DataFrame({"currency": currency, "date": months, "rate_to_reporting": np.round(walk, 6)})
        )
    return pl.concat(frames).with_columns(pl.col("date").dt.strftime("%Y-%m-%d"))


def touch_counts(touches: pl.DataFrame) -> pl.DataFrame:
    """Touches per (month, channel, campaign): what the spend file is made from."""
    return touches.group_by(
        date=pl.col("occurred_at").str.slice(0, 7), channel="channel", campaign="campaign"
    ).agg(touches=pl.len())


def spend(counts: pl.DataFrame) -> pl.DataFrame:
    """Monthly spend per channel and campaign (channel-level lines for channels without
    campaigns): the month's touches (touch_counts, summed over chunks) x the channel's cost per
    touch (SPEND), in its currency."""
    costs = pl.DataFrame(
        {
            "channel": list(SPEND),
            "cost_per_touch": [cost for cost, _, _ in SPEND.values()],
            "currency": [currency for _, currency, _ in SPEND.values()],
            "has_campaigns": [campaigns for _, _, campaigns in SPEND.values()],
        }
    )
    return (
        counts.join(costs, on="channel", how="inner")
        .with_columns(campaign=pl.when("has_campaigns").then(pl.col("campaign")))
        .group_by("date", "channel", "campaign", "currency")
        .agg(amount=(pl.col("touches").sum() * pl.col("cost_per_touch").first()).round(2))
        .sort("date", "channel", "campaign", nulls_last=True)
        .select("date", "channel", "campaign", "amount", "currency")
    )


def milestones(touches: pl.DataFrame, spec: SampleSpec, chunk_index: int) -> pl.DataFrame:
    """Funnel milestones that follow the touches: an account becomes a lead an hour after its
    first form fill or attended webinar (by that touch's contact); 60% of leads become an MQL
    a few days later."""
    rng = np.random.default_rng([spec.seed, 777_777, chunk_index])
    leads = (
        touches.filter(pl.col("touch_type").is_in(["form_fill", "attended"]))
        .sort("account_id", "occurred_at", "touchpoint_id")
        .group_by("account_id", maintain_order=True)
        .first()
        .select(
            "account_id",
            "contact_id",
            lead_at=pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ") + pl.duration(hours=1),
        )
    )
    mql_delay = rng.exponential(6.0, size=len(leads))
    is_mql = rng.random(len(leads)) < 0.6
    lead_rows = leads.select(
        "account_id", "contact_id", milestone=pl.lit("lead_created"), at=pl.col("lead_at")
    )
    mql_rows = (
        leads.with_columns(delay=pl.Series(mql_delay), is_mql=pl.Series(is_mql))
        .filter("is_mql")
        .select(
            "account_id",
            "contact_id",
            milestone=pl.lit("mql"),
            at=pl.col("lead_at") + pl.duration(seconds=(pl.col("delay") * 86_400).cast(pl.Int64)),
        )
    )
    return pl.concat([lead_rows, mql_rows]).select(
        "account_id", "contact_id", "milestone", occurred_at=iso(pl.col("at"))
    )
