"""Which model to trust on data like this: every model's channel shares against each channel's
true incremental pipeline, on synthetic worlds whose channel effects are known.

`python -m bench.validate [--seeds 3] [--accounts 1500]`

The worlds use the sample generator's channel effects (`attribution.sample_data.CHANNELS`:
each touch of a channel sparks an opportunity with that channel's probability, scaled by the
account's fit; at most one opportunity per account per 90 days; sales-sourced deals besides).
Every random draw is tied to a touch (when it happens, whether it sparks, the deal's delay,
amount and fate) or to a sales-sourced deal, so a world can be redrawn without one channel
and everything else stays put. A channel's true incremental pipeline is the world's pipeline
minus the pipeline of the same world drawn without that channel's touches (same seeds): what
would not have been created without it, with the deals other touches would have sparked
instead counted as not lost. The models only ever see the full world.

Distance: total variation between a model's channel shares of attributed pipeline and the
true incremental shares (both over the marketing channels, `(none)` left out),
TV = 1/2 sum |model - truth|: the fraction of pipeline credit the model puts on the wrong
channels. Bounded in [0, 1], in the units finance thinks in, and not dominated by small
channels the way a log-ratio or KL divergence would be.

Worlds (what makes attribution hard):
- cluster: `direct` causes nothing, but two of its touches fall in the last three days
  before every opportunity is created (the demo-request visit that follows the decision);
- large_deals: `event` touches spark deals five times the usual size;
- no_effect: `paid_social` causes nothing but keeps its share of touches.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.models import MODELS
from attribution.pipeline import SourcePaths, run_pipeline
from attribution.sample_data import CHANNELS, TOUCH_TYPES

__all__ = ["WORLDS", "World", "attributed_shares", "draw_world", "main", "true_incremental", "validate"]

START = datetime(2025, 1, 1)
END = datetime(2026, 1, 1)
_DAY_US = 86_400 * 1_000_000
BUCKET_DAYS = 90


@dataclass(frozen=True)
class World:
    """A synthetic world: the sample's channels with some effects changed."""

    name: str
    description: str
    accounts: int = 1_500
    touches_per_account: float = 17.0
    spark_scale: float = 1.0
    spark: dict[str, float] = field(default_factory=dict)  # overrides of CHANNELS' spark probability
    echo_channel: str | None = None  # non-causal touches just before each opportunity
    echo_touches: int = 2
    large_deal_channel: str | None = None
    large_deal_multiplier: float = 5.0
    sales_sourced_per_account: float = 0.03

    def spark_of(self, channel: str) -> float:
        return self.spark.get(channel, CHANNELS[channel][1])


WORLDS: dict[str, World] = {
    "cluster": World(
        "cluster",
        "direct causes nothing; two of its touches fall in the 3 days before each opportunity",
        spark={"direct": 0.0},
        echo_channel="direct",
    ),
    "large_deals": World(
        "large_deals",
        "event touches spark deals five times the usual size",
        large_deal_channel="event",
    ),
    "no_effect": World(
        "no_effect", "paid_social causes nothing but keeps its share of touches", spark={"paid_social": 0.0}
    ),
}


def _iso(us: np.ndarray) -> list[str]:
    return [
        (datetime(1970, 1, 1) + (np.timedelta64(int(u), "us")).astype(object)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for u in us
    ]


def draw_world(world: World, seed: int, removed: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The world's touches and opportunities (contract columns), drawn without `removed`'s
    touches when given; every draw is tied to a touch or a sales-sourced deal, so the rest of
    the world is the same."""
    names = list(CHANNELS)
    rng = np.random.default_rng([seed, 1])
    start_us = int((START - datetime(1970, 1, 1)).total_seconds() * 1e6)
    span_us = int((END - START).total_seconds() * 1e6)
    n = world.accounts
    engagement = rng.gamma(1.2, 1 / 1.2, size=n)
    fit = rng.lognormal(0.0, 0.5, size=n)
    counts = rng.poisson(world.touches_per_account * engagement)
    account = np.repeat(np.arange(n), counts)
    total = int(counts.sum())
    centre = rng.integers(0, span_us, size=n)
    offset = (rng.standard_normal(total) * rng.exponential(45 * _DAY_US, size=total)).astype(np.int64)
    clustered = rng.random(total) < 0.7
    occurred = np.where(clustered, centre[account] + offset, rng.integers(0, span_us, size=total))
    occurred = np.clip(occurred, 0, span_us - 1) + start_us
    mix = np.array([CHANNELS[c][0] for c in names])
    channel = rng.choice(len(names), size=total, p=mix / mix.sum())
    # per-touch draws: whether it sparks, the deal's delay, amount, fate
    spark_u = rng.random(total)
    delay = rng.exponential(6 * _DAY_US, size=total).astype(np.int64) + 3_600_000_000
    amount = np.round(rng.lognormal(math.log(25_000), 0.8, size=total), 2)
    fate_u = rng.random(total)
    spark = np.array([world.spark_of(c) for c in names])
    keep = np.ones(total, dtype=bool) if removed is None else channel != names.index(removed)
    sparked = keep & (spark_u < np.clip(spark[channel] * fit[account] * world.spark_scale, 0, 0.9))
    if world.large_deal_channel is not None:
        amount = np.where(
            channel == names.index(world.large_deal_channel), amount * world.large_deal_multiplier, amount
        )
    # sales-sourced deals: their own stream, the same in every redraw
    sales_rng = np.random.default_rng([seed, 2])
    n_sales = int(sales_rng.poisson(world.sales_sourced_per_account * n))
    candidates = pl.concat(
        [
            pl.DataFrame(
                {
                    "account_n": account[sparked],
                    "created_us": occurred[sparked] + delay[sparked],
                    "amount": amount[sparked],
                    "fate": fate_u[sparked],
                    "order": np.flatnonzero(sparked),
                }
            ),
            pl.DataFrame(
                {
                    "account_n": sales_rng.integers(0, n, size=n_sales),
                    "created_us": start_us + sales_rng.integers(0, span_us, size=n_sales),
                    "amount": np.round(sales_rng.lognormal(math.log(25_000), 0.8, size=n_sales), 2),
                    "fate": sales_rng.random(n_sales),
                    "order": total + np.arange(n_sales),
                }
            ),
        ]
    ).filter(pl.col("created_us") < start_us + span_us)
    opportunities = (
        candidates.with_columns(bucket=pl.col("created_us") // (BUCKET_DAYS * _DAY_US))
        .sort("account_n", "created_us", "order")
        .unique(["account_n", "bucket"], keep="first", maintain_order=True)
    )
    touches = pl.DataFrame(
        {"account_n": account[keep], "occurred_us": occurred[keep], "channel": np.array(names)[channel[keep]]}
    )
    if world.echo_channel is not None and world.echo_channel != removed and len(opportunities):
        echo_rng = np.random.default_rng([seed, 3])
        repeated = (
            opportunities.select("account_n", "created_us").to_numpy().repeat(world.echo_touches, axis=0)
        )
        before = echo_rng.integers(60_000_000, 3 * _DAY_US, size=len(repeated))
        touches = pl.concat(
            [
                touches,
                pl.DataFrame(
                    {
                        "account_n": repeated[:, 0],
                        "occurred_us": repeated[:, 1] - before,
                        "channel": world.echo_channel,
                    }
                ),
            ]
        )
    touches = touches.sort("account_n", "occurred_us", "channel").with_row_index("seq")
    touch_frame = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i:08d}" for i in touches["seq"].to_list()],
            "occurred_at": _iso(touches["occurred_us"].to_numpy()),
            "account_id": [f"a{a:06d}" for a in touches["account_n"].to_list()],
            "channel": touches["channel"],
            "touch_type": [TOUCH_TYPES[c] for c in touches["channel"].to_list()],
        }
    )
    opportunity_frame = pl.DataFrame(
        {
            "opportunity_id": [f"o{int(o):09d}" for o in opportunities["order"].to_list()],
            "account_id": [f"a{a:06d}" for a in opportunities["account_n"].to_list()],
            "created_at": _iso(opportunities["created_us"].to_numpy()),
            "stage": np.where(opportunities["fate"].to_numpy() < 0.3, "closed_won", "open"),
            "closed_at": _iso(opportunities["created_us"].to_numpy() + 30 * _DAY_US),
            "amount": opportunities["amount"],
        }
    ).with_columns(closed_at=pl.when(pl.col("stage") == "open").then(None).otherwise(pl.col("closed_at")))
    return touch_frame, opportunity_frame


def _pipeline(opportunities: pl.DataFrame) -> float:
    return float(opportunities["amount"].sum()) if len(opportunities) else 0.0


def true_incremental(world: World, seed: int) -> dict[str, float]:
    """Each channel's true incremental pipeline: the world's pipeline minus the pipeline of
    the world drawn without that channel (same seed)."""
    everything = _pipeline(draw_world(world, seed)[1])
    return {c: everything - _pipeline(draw_world(world, seed, removed=c)[1]) for c in CHANNELS}


def _shares(values: dict[str, float]) -> dict[str, float]:
    positive = {c: max(v, 0.0) for c, v in values.items() if c != UNATTRIBUTED_CHANNEL}
    total = sum(positive.values())
    return {c: (v / total if total > 0 else 0.0) for c, v in positive.items()}


def attributed_shares(world: World, seed: int, workdir: Path) -> dict[str, dict[str, float]]:
    """Every model's pipeline shares by marketing channel on the full world (the pipeline run
    end to end on its CSV files, intervals off)."""
    touches, opportunities = draw_world(world, seed)
    folder = workdir / f"{world.name}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    touches.write_csv(folder / "touchpoints.csv")
    opportunities.write_csv(folder / "opportunities.csv")
    config = AttributionConfig.from_settings(as_of=END, run_started_at=END, interval_replicates=0)
    with duckdb.connect() as conn:
        run_pipeline(conn, SourcePaths(folder / "touchpoints.csv", folder / "opportunities.csv"), config)
        rows = conn.sql(
            "select model, channel, attributed_amount from mart_channel_comparison where journey_kind = 'pipeline'"
        ).fetchall()
    by_model: dict[str, dict[str, float]] = {}
    for model, channel, amount in rows:
        by_model.setdefault(model, {})[channel] = float(amount)
    return {model: _shares(values) for model, values in by_model.items()}


def total_variation(model: dict[str, float], truth: dict[str, float]) -> float:
    """1/2 sum |model share - true share| over the channels of either."""
    return 0.5 * sum(abs(model.get(c, 0.0) - truth.get(c, 0.0)) for c in set(model) | set(truth))


def validate(worlds: list[World], seeds: list[int], workdir: Path) -> pl.DataFrame:
    """One row per (world, seed, model): the total variation distance to the true shares."""
    rows = []
    for world in worlds:
        for seed in seeds:
            truth = _shares(true_incremental(world, seed))
            for model, shares in attributed_shares(world, seed, workdir).items():
                rows.append((world.name, seed, model, total_variation(shares, truth)))
    return pl.DataFrame(
        rows,
        schema={"world": pl.String, "seed": pl.Int64, "model": pl.String, "distance": pl.Float64},
        orient="row",
    )


def summary(distances: pl.DataFrame) -> pl.DataFrame:
    """Models down, worlds across: mean distance over seeds (and its standard deviation)."""
    means = distances.group_by("world", "model").agg(
        pl.format(
            "{} ± {}", pl.col("distance").mean().round(3), pl.col("distance").std().fill_null(0).round(3)
        ).alias("cell"),
        pl.col("distance").mean().alias("mean"),
    )
    table = means.pivot(on="world", index="model", values="cell")
    overall = means.group_by("model").agg(pl.col("mean").mean().round(3).alias("mean over worlds"))
    order = [m for m in MODELS if m in set(table["model"].to_list())]
    return (
        table.join(overall, on="model")
        .sort(pl.col("model").replace_strict({m: i for i, m in enumerate(order)}, default=len(order)))
        .sort("mean over worlds", maintain_order=True)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=1_500)
    parser.add_argument("--world", action="append", choices=list(WORLDS), help="repeatable; default all")
    args = parser.parse_args(argv)
    worlds = [
        World(**{**WORLDS[name].__dict__, "accounts": args.accounts}) for name in (args.world or list(WORLDS))
    ]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        distances = validate(worlds, list(range(1, args.seeds + 1)), Path(folder))
    table = summary(distances)
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_hide_dataframe_shape=True, tbl_formatting="MARKDOWN"):
        print(
            f"Total variation distance to the true incremental shares (mean ± sd over {args.seeds} seeds; lower is better)"
        )
        print(table)
    for world in worlds:
        print(f"- {world.name}: {world.description}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
