"""The sample world's holdout experiment: paid social held out from 30% of the target
accounts (40% of all, by hash) for two months, with a planted effect: each treated target
opens Poisson(spec.experiment_deals_per_account) extra deals in the window, each after a paid
social click (0 plants none). The base world's deals do not depend on the arms, so the
planted incremental pipeline per treated account is that rate x the mean deal amount."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from attribution.experiments.assign import unit_draw
from attribution.sample_data.world import WIN_RATE, SampleSpec

__all__ = [
    "CONTROL_SHARE",
    "EXPERIMENT_ID",
    "MEAN_DEAL_AMOUNT",
    "TESTED_CHANNEL",
    "experiment_row",
    "plant_experiment",
]

EXPERIMENT_ID = "paid-social-holdout"
TESTED_CHANNEL = "paid_social"
TARGET_SHARE = 0.4
CONTROL_SHARE = 0.3
FOLLOW_UP_DAYS = 30
_AMOUNT_SIGMA = 0.8
# the planted deals' amounts: lognormal(log 25,000, 0.8), mean 25,000 x exp(0.32), in USD
MEAN_DEAL_AMOUNT = 25_000 * math.exp(_AMOUNT_SIGMA**2 / 2)
_US = 1_000_000
_KEYS = {"account_id": pl.String, "k": pl.String}


def _micros(moment: datetime) -> int:
    """A naive UTC datetime in epoch microseconds (whatever the machine's time zone)."""
    return (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _iso(values: np.ndarray) -> pl.Series:
    """Epoch microseconds as the contract's UTC timestamps."""
    return pl.from_epoch(pl.Series(values, dtype=pl.Int64), time_unit="us").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(spec: SampleSpec) -> tuple[datetime, datetime]:
    """The test window [start, end): two months from five months into the world."""
    start = spec.start + timedelta(days=150)
    return start, start + timedelta(days=60)


def experiment_row(spec: SampleSpec) -> pl.DataFrame:
    """The experiments file's one row (the pre-registered design)."""
    start, end = _window(spec)
    return pl.select(
        experiment_id=pl.lit(EXPERIMENT_ID),
        name=pl.lit("Paid social holdout"),
        channel=pl.lit(TESTED_CHANNEL),
        start_at=pl.lit(f"{start:%Y-%m-%d}"),
        end_at=pl.lit(f"{end - timedelta(days=1):%Y-%m-%d}"),
        follow_up_days=pl.lit(FOLLOW_UP_DAYS),
        primary_metric=pl.lit("pipeline"),
        alpha=pl.lit(0.1),
        control_share=pl.lit(CONTROL_SHARE),
        decision_threshold=pl.lit(0.0),
    )


def _arms(accounts: list[str]) -> pl.DataFrame:
    """The chunk's target accounts and their arms (both by hash: reproducible per account)."""
    targets = [a for a in accounts if unit_draw("sample-targets", a) < TARGET_SHARE]
    arms = ["control" if unit_draw(EXPERIMENT_ID, a) < CONTROL_SHARE else "treatment" for a in targets]
    return pl.DataFrame({"unit_id": targets, "arm": arms}, schema={"unit_id": pl.String, "arm": pl.String})


def _planted(
    spec: SampleSpec, chunk_index: int, treated: list[str], opps: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(touches, deals) the effect adds: per treated account Poisson(rate) deals created in the
    window, each a day to a week after a paid social click of the account."""
    rng = np.random.default_rng([spec.seed, 888_888, chunk_index])
    start, end = (_micros(moment) for moment in _window(spec))
    counts = rng.poisson(spec.experiment_deals_per_account, size=len(treated))
    accounts = np.repeat(np.array(treated, dtype=object), counts)
    n = accounts.size
    created = rng.integers(start, end, size=n)
    clicked = created - rng.integers(_US * 86_400, _US * 7 * 86_400, size=n)
    closed = created + rng.gamma(2.0, 30 * 86_400 * _US, size=n).astype(np.int64)
    is_closed = closed < _micros(spec.end)
    won = rng.random(n) < WIN_RATE[TESTED_CHANNEL]
    amount = np.round(rng.lognormal(math.log(25_000), _AMOUNT_SIGMA, size=n), 2)
    ids = [f"{chunk_index:03d}-{k:06d}" for k in range(n)]
    touches = pl.DataFrame({"account_id": accounts.tolist(), "k": ids}, schema=_KEYS).select(
        touchpoint_id=pl.format("tp-exp-{}", "k"),
        occurred_at=_iso(clicked),
        account_id="account_id",
        contact_id=pl.format("{}-c1", "account_id"),
        channel=pl.lit(TESTED_CHANNEL),
        campaign=pl.lit(f"{TESTED_CHANNEL}-holdout"),
        touch_type=pl.lit("click"),
    )
    traits = opps.group_by("account_id").agg(pl.col("segment", "region").first())
    deals = (
        pl.DataFrame({"account_id": accounts.tolist(), "k": ids}, schema=_KEYS)
        .select(
            opportunity_id=pl.format("opp-exp-{}", "k"),
            account_id="account_id",
            created_at=_iso(created),
            closed_at=_iso(closed),
            stage=pl.Series(np.where(is_closed, np.where(won, "closed_won", "closed_lost"), "open")),
            amount=pl.Series(amount),
            currency=pl.lit("USD"),
        )
        .join(traits, on="account_id", how="left")
        .with_columns(type=pl.lit("Existing Customer - Upgrade"))
    )
    return touches, deals


def plant_experiment(
    touches: pl.DataFrame, opps: pl.DataFrame, spec: SampleSpec, chunk_index: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(touches, opportunities, assignments) of one chunk with the experiment: the control
    targets' paid social touches in the window removed (the holdout), the treated targets'
    planted deals and clicks added, and the chunk's assignment rows."""
    accounts = sorted(set(touches["account_id"].to_list()) | set(opps["account_id"].to_list()))
    arms = _arms(accounts)
    start, end = (_micros(moment) for moment in _window(spec))
    controls = arms.filter(pl.col("arm") == "control")["unit_id"].to_list()
    moment = pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").dt.epoch("us")
    held_out = pl.col("account_id").is_in(controls) & (pl.col("channel") == TESTED_CHANNEL)
    kept = touches.filter(~(held_out & moment.is_between(start, end, closed="left")))
    treated = arms.filter(pl.col("arm") == "treatment")["unit_id"].to_list()
    extra_touches, extra_deals = _planted(spec, chunk_index, treated, opps)
    assignments = arms.select(experiment_id=pl.lit(EXPERIMENT_ID), unit_id="unit_id", arm="arm")
    return (
        pl.concat([kept, extra_touches.select(touches.columns).cast(touches.schema)]),
        pl.concat([opps, extra_deals.select(opps.columns).cast(opps.schema)]),
        assignments,
    )
