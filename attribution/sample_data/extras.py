"""What the world adds beyond touches and deals: fx rates, milestones and spend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from attribution.sample_data.world import CURRENCIES, SPEND, SampleSpec, iso

__all__ = ["fx_rates", "milestones", "opportunity_history", "spend", "touch_counts"]


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
    a few days later; sales accepts and qualifies some of those (sal, sql)."""
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
    return pl.concat([lead_rows, mql_rows, *_accepted_and_qualified(mql_rows, spec, chunk_index)]).select(
        "account_id", "contact_id", "milestone", occurred_at=iso(pl.col("at"))
    )


def _accepted_and_qualified(mql_rows: pl.DataFrame, spec: SampleSpec, chunk_index: int) -> list[pl.DataFrame]:
    """Sales accepts 70% of MQLs (sal) about two days later and qualifies 60% of those (sql)
    about five days after that (a generator of its own: the leads and MQLs stay as they were)."""
    rng = np.random.default_rng([spec.seed, 777_778, chunk_index])
    accept_delay = rng.exponential(2.0, size=len(mql_rows))
    is_accepted = rng.random(len(mql_rows)) < 0.7
    qualify_delay = rng.exponential(5.0, size=len(mql_rows))
    is_qualified = is_accepted & (rng.random(len(mql_rows)) < 0.6)
    later = mql_rows.with_columns(
        accept_seconds=pl.Series((accept_delay * 86_400).astype(np.int64)),
        is_accepted=pl.Series(is_accepted),
        is_qualified=pl.Series(is_qualified),
        qualify_seconds=pl.Series((qualify_delay * 86_400).astype(np.int64)),
    ).with_columns(sal_at=pl.col("at") + pl.duration(seconds=pl.col("accept_seconds")))
    sal_rows = later.filter("is_accepted").select(
        "account_id", "contact_id", milestone=pl.lit("sal"), at=pl.col("sal_at")
    )
    sql_rows = later.filter("is_qualified").select(
        "account_id",
        "contact_id",
        milestone=pl.lit("sql"),
        at=pl.col("sal_at") + pl.duration(seconds=pl.col("qualify_seconds")),
    )
    return [sal_rows, sql_rows]


# Salesforce's default open stages in order, their probability and forecast category; a deal
# starts at the first and moves forward one stage, or two (a skip), at a time
_SF_STAGES: tuple[tuple[str, int, str], ...] = (
    ("Prospecting", 10, "Pipeline"),
    ("Qualification", 10, "Pipeline"),
    ("Needs Analysis", 20, "Pipeline"),
    ("Value Proposition", 50, "Pipeline"),
    ("Id. Decision Makers", 60, "Pipeline"),
    ("Perception Analysis", 70, "Best Case"),
    ("Proposal/Price Quote", 75, "Best Case"),
    ("Negotiation/Review", 90, "Commit"),
)


def _stage_path(rng: np.random.Generator, outcome: str) -> list[int]:
    """The open stages (0-based) a deal enters in order: forward one or two at a time, now and
    then back one (a regression); a won deal gets to Proposal at least, a lost or open one
    stops anywhere."""
    last = len(_SF_STAGES) - 1
    target = int(rng.integers(5, last + 1)) if outcome == "closed_won" else int(rng.integers(0, last + 1))
    path, position, regressed = [0], 0, False
    while position < target:
        position = min(target, position + (2 if rng.random() < 0.25 else 1))
        path.append(position)
        if not regressed and position > 1 and rng.random() < 0.08:
            regressed = True
            path.append(position - 1)
            position -= 1
    return path


def opportunity_history(opps: pl.DataFrame, spec: SampleSpec, chunk_index: int) -> pl.DataFrame:
    """Every change of each deal, as Salesforce's OpportunityHistory tells it (contract column
    names, Salesforce's stage labels): stages entered in order from Prospecting at creation,
    some skipped, some regressions, closed won / lost at the close; a third of the deals change
    amount once along the way (the last row has the deal's amount). Its own random stream: the
    rest of the world does not move."""
    rng = np.random.default_rng([spec.seed, 888_888, chunk_index])
    rows: list[tuple[str, str, str, float, str, int, str, str]] = []
    for deal in opps.iter_rows(named=True):
        rows.extend(_deal_history(rng, deal, spec.end))
    return pl.DataFrame(
        rows,
        schema={
            "opportunity_id": pl.String,
            "changed_at": pl.String,
            "stage": pl.String,
            "amount": pl.Float64,
            "close_date": pl.String,
            "probability": pl.Int64,
            "forecast_category": pl.String,
            "currency": pl.String,
        },
        orient="row",
    )


def _deal_history(
    rng: np.random.Generator, deal: dict[str, Any], horizon: datetime
) -> list[tuple[str, str, str, float, str, int, str, str]]:
    """One deal's history rows: its open stages at times spread from its creation to its
    close (or the world's end), then its close; the amount of the first rows may differ."""
    created = datetime.strptime(deal["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    closing = deal["closed_at"]
    closed = datetime.strptime(closing, "%Y-%m-%dT%H:%M:%SZ") if len(closing) > 10 else None
    close_date = closing[:10]
    end = closed if closed is not None else min(horizon, datetime.strptime(close_date, "%Y-%m-%d"))
    path = _stage_path(rng, deal["stage"])
    steps = len(path) + (1 if closed is not None else 0)
    span = max((end - created).total_seconds(), 60.0 * steps)
    moments = sorted(rng.uniform(0, 1, size=steps - 1) * span * 0.95) if steps > 1 else []
    times = [created] + [created + timedelta(seconds=float(m) + 60) for m in moments]
    amount = float(deal["amount"])
    changes = rng.random() < 1 / 3
    early = round(amount * float(rng.uniform(0.6, 1.2)), 2)
    switch = int(rng.integers(1, len(path) + 1))
    key, currency = deal["opportunity_id"], deal["currency"]
    rows = []
    for i, position in enumerate(path):
        label, probability, forecast = _SF_STAGES[position]
        value = early if changes and i < switch else amount
        rows.append((key, _stamp(times[i]), label, value, close_date, probability, forecast, currency))
    if closed is not None:
        won = deal["stage"] == "closed_won"
        label, probability, forecast = ("Closed Won", 100, "Closed") if won else ("Closed Lost", 0, "Omitted")
        rows.append((key, _stamp(closed), label, amount, close_date, probability, forecast, currency))
    return rows


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
