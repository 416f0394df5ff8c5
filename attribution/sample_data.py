"""Deterministic synthetic B2B world: accounts, touches, opportunities and fx rates.

Channels differ in how likely a touch is to create an opportunity, so the models have
something real to find. Generation is vectorized and chunked by account, so a large
scale streams to many part files instead of building one huge frame.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["CHANNELS", "SampleSpec", "generate_chunks", "main", "write_sample"]

# channel -> (share of touches, probability that one touch sparks an opportunity)
CHANNELS: dict[str, tuple[float, float]] = {
    "paid_search": (0.16, 0.030),
    "organic_search": (0.14, 0.025),
    "paid_social": (0.12, 0.008),
    "email": (0.18, 0.012),
    "webinar": (0.06, 0.060),
    "event": (0.04, 0.080),
    "content_syndication": (0.08, 0.015),
    "referral": (0.03, 0.110),
    "direct": (0.12, 0.020),
    "sdr_outreach": (0.07, 0.070),
}
TOUCH_TYPES: dict[str, str] = {
    "paid_search": "click",
    "organic_search": "visit",
    "paid_social": "click",
    "email": "email_click",
    "webinar": "attended",
    "event": "visit",
    "content_syndication": "form_fill",
    "referral": "form_fill",
    "direct": "visit",
    "sdr_outreach": "meeting",
}
CURRENCIES: dict[str, tuple[float, float]] = {"USD": (0.70, 1.0), "EUR": (0.20, 1.08), "GBP": (0.10, 1.27)}
WIN_RATE: dict[str, float] = {
    "paid_search": 0.30,
    "organic_search": 0.32,
    "paid_social": 0.20,
    "email": 0.25,
    "webinar": 0.40,
    "event": 0.45,
    "content_syndication": 0.22,
    "referral": 0.55,
    "direct": 0.30,
    "sdr_outreach": 0.35,
    "(sales)": 0.30,
}
# account segments as a CRM labels them: value -> share of accounts
SEGMENTS: dict[str, float] = {"Enterprise": 0.2, "Mid-Market": 0.35, "SMB": 0.45}
REGIONS: dict[str, float] = {"NA": 0.55, "EMEA": 0.3, "APAC": 0.15}
# an account's later deals: renewal or expansion (its first is new business)
LATER_DEAL_TYPES: dict[str, float] = {"Renewal": 0.6, "Expansion": 0.4}
# channel -> (cost per touch, spend currency, has campaigns): the monthly spend file (about a
# ninth of the pipeline it comes with, as B2B budgets run); direct
# costs nothing, organic search is a channel-level SEO budget, events are paid in EUR
SPEND: dict[str, tuple[float, str, bool]] = {
    "paid_search": (85.0, "USD", True),
    "organic_search": (18.0, "USD", False),
    "paid_social": (55.0, "USD", True),
    "email": (5.0, "USD", True),
    "webinar": (270.0, "USD", True),
    "event": (950.0, "EUR", True),
    "content_syndication": (330.0, "USD", True),
    "referral": (150.0, "USD", True),
    "sdr_outreach": (230.0, "USD", False),
}
_MICROS_PER_DAY = 86_400 * 1_000_000


@dataclass(frozen=True)
class SampleSpec:
    """Size and shape of the synthetic world; scale 1 is ~50k touches, ~1.5k opportunities."""

    scale: float = 1.0
    seed: int = 42
    start: datetime = datetime(2025, 10, 1)
    end: datetime = datetime(2026, 11, 1)
    accounts_per_scale: int = 3000
    touches_per_account: float = 17.0
    spark_scale: float = 1.0
    sales_sourced_share: float = 0.08
    accounts_per_chunk: int = 50_000

    @property
    def n_accounts(self) -> int:
        return max(1, round(self.accounts_per_scale * self.scale))


def _iso(col: pl.Expr) -> pl.Expr:
    return col.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunk(
    spec: SampleSpec, chunk_index: int, first_account: int, n_accounts: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng([spec.seed, chunk_index])
    start_us = int((spec.start - datetime(1970, 1, 1)).total_seconds() * 1e6)
    end_us = int((spec.end - datetime(1970, 1, 1)).total_seconds() * 1e6)
    span_us = end_us - start_us

    channel_names = list(CHANNELS)
    channel_mix = np.array([CHANNELS[c][0] for c in channel_names])
    channel_mix = channel_mix / channel_mix.sum()
    spark = np.array([CHANNELS[c][1] for c in channel_names])

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
    channel_idx = rng.choice(len(channel_names), size=total, p=channel_mix)
    contact_k = rng.integers(1, 5, size=total)
    campaign_k = rng.integers(1, 5, size=total)

    global_account = first_account + account_idx
    touch_seq = np.arange(total)
    touches = pl.DataFrame(
        {
            "account_n": global_account,
            "occurred_us": occurred,
            "channel_idx": channel_idx,
            "contact_k": contact_k,
            "campaign_k": campaign_k,
            "seq": touch_seq,
        }
    )

    # opportunities sparked by touches: at most one per account per 90-day bucket
    p_spark = np.clip(spark[channel_idx] * fit[account_idx] * spec.spark_scale, 0, 0.9)
    sparked = rng.random(total) < p_spark
    delay = (rng.exponential(6 * _MICROS_PER_DAY, size=total)).astype(np.int64) + 3_600_000_000
    created = occurred + delay
    cand = pl.DataFrame(
        {
            "account_n": global_account[sparked],
            "created_us": created[sparked],
            "source_channel_idx": channel_idx[sparked],
        }
    ).filter(pl.col("created_us") < end_us)
    n_sales = round(len(cand) * spec.sales_sourced_share / (1 - spec.sales_sourced_share))
    sales = pl.DataFrame(
        {
            "account_n": first_account + rng.integers(0, n_accounts, size=n_sales),
            "created_us": start_us + rng.integers(0, span_us, size=n_sales),
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
    win_rate = np.array([WIN_RATE[c] for c in channel_names] + [WIN_RATE["(sales)"]])
    src = opps["source_channel_idx"].to_numpy()
    p_win = win_rate[np.where(src < 0, len(channel_names), src)]
    cycle = rng.gamma(shape=2.0, scale=30 * _MICROS_PER_DAY, size=n_opps).astype(np.int64)
    closed = opps["created_us"].to_numpy() + cycle
    is_closed = closed < end_us
    won = rng.random(n_opps) < p_win
    currency_names = list(CURRENCIES)
    currency_p = np.array([CURRENCIES[c][0] for c in currency_names])
    currency_idx = rng.choice(len(currency_names), size=n_opps, p=currency_p)
    amount = np.round(rng.lognormal(mean=math.log(25_000), sigma=0.8, size=n_opps), 2)
    opps = opps.with_columns(
        pl.Series("closed_us", np.where(is_closed, closed, 0)),
        pl.Series("expected_close_us", closed),
        pl.Series("is_closed", is_closed),
        pl.Series("won", won),
        pl.Series("currency", np.array(currency_names)[currency_idx]),
        pl.Series("amount", amount),
    )
    return touches, opps


def _pick(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    p = np.array(list(shares.values()))
    return np.array(list(shares))[rng.choice(len(shares), size=size, p=p / p.sum())]


def _segments(spec: SampleSpec, chunk_index: int, opps: pl.DataFrame) -> pl.DataFrame:
    """segment and region per account, type per deal (first: New Business), from their own
    random stream so the rest of the world does not move."""
    rng = np.random.default_rng([spec.seed, 555_555, chunk_index])
    accounts = opps.select("account_n").unique(maintain_order=True)
    accounts = accounts.with_columns(
        pl.Series("segment", _pick(rng, SEGMENTS, len(accounts))),
        pl.Series("region", _pick(rng, REGIONS, len(accounts))),
    )
    later = pl.Series("later_type", _pick(rng, LATER_DEAL_TYPES, len(opps)))
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
            _iso(pl.from_epoch("occurred_us", time_unit="us")).alias("occurred_at"),
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
            _iso(pl.from_epoch("created_us", time_unit="us")).alias("created_at"),
            # an open deal's closed_at is its expected close date, a plain date as CRMs give it
            pl.when(pl.col("is_closed"))
            .then(_iso(pl.from_epoch("closed_us", time_unit="us")))
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
        "account_id", "contact_id", "milestone", occurred_at=_iso(pl.col("at"))
    )


def write_sample(out_dir: Path, spec: SampleSpec, file_format: str = "csv") -> dict[str, int]:
    """Write touchpoints/, opportunities/ part files, fx_rates, milestones and spend under
    out_dir; return row counts."""
    counts = {"touchpoints": 0, "opportunities": 0, "fx_rates": 0, "milestones": 0, "spend": 0}
    milestone_frames = []
    touch_months = []
    for sub in ("touchpoints", "opportunities"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
        for old in (out_dir / sub).glob("part-*"):
            old.unlink()
    for i, (touches, opps) in enumerate(generate_chunks(spec)):
        for name, frame in (("touchpoints", touches), ("opportunities", opps)):
            path = out_dir / name / f"part-{i:05d}.{file_format}"
            if file_format == "parquet":
                frame.write_parquet(path)
            else:
                frame.write_csv(path)
            counts[name] += len(frame)
        milestone_frames.append(milestones(touches, spec, i))
        touch_months.append(touch_counts(touches))
    rates = fx_rates(spec)
    if file_format == "parquet":
        rates.write_parquet(out_dir / "fx_rates.parquet")
    else:
        rates.write_csv(out_dir / "fx_rates.csv")
    counts["fx_rates"] = len(rates)
    funnel = pl.concat(milestone_frames)
    if file_format == "parquet":
        funnel.write_parquet(out_dir / "milestones.parquet")
    else:
        funnel.write_csv(out_dir / "milestones.csv")
    counts["milestones"] = len(funnel)
    budget = spend(pl.concat(touch_months))
    if file_format == "parquet":
        budget.write_parquet(out_dir / "spend.parquet")
    else:
        budget.write_csv(out_dir / "spend.csv")
    counts["spend"] = len(budget)
    return counts


def main(argv: list[str] | None = None) -> None:
    """CLI: write a deterministic sample world (`attribution-sample --scale 1 --out data/sample`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = ~50k touches")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--objects",
        choices=("salesforce", "hubspot"),
        help="also write the world as that CRM's object export, under OUT/<crm>_objects/",
    )
    args = parser.parse_args(argv)
    counts = write_sample(args.out, SampleSpec(scale=args.scale, seed=args.seed), args.format)
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    if args.objects:
        from attribution.crm.sample_objects import write_objects

        folder = args.out / f"{args.objects}_objects"
        objects = write_objects(args.out, folder, args.objects)
        print(f"wrote {folder}: " + ", ".join(f"{k}={v:,}" for k, v in objects.items()))


if __name__ == "__main__":
    main()
