"""Confidence intervals of the velocity figures (mart_channel_velocity): win rate, average won
deal size, sales cycle and pipeline velocity per (credited_by, channel), from the same seeded
Poisson(1) replicate weights of the pipeline journeys' opportunities as the credit intervals
(attribution.intervals), each deal's shares held as the models gave them."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from attribution.config import JOURNEY_KINDS, AttributionConfig
from attribution.engine import DuckDBEngine
from attribution.intervals_replicates import incidence, poisson_blocks, weighted
from attribution.sql import query_frame

__all__ = ["VELOCITY_FIGURES", "VELOCITY_INTERVAL_SCHEMA", "build_velocity_intervals", "velocity_intervals"]

VELOCITY_FIGURES: tuple[str, ...] = (
    "win_rate",
    "average_deal_size",
    "sales_cycle_days",
    "pipeline_velocity_per_day",
)
VELOCITY_INTERVAL_SCHEMA: dict[str, type[pl.DataType]] = {
    "credited_by": pl.String,
    "channel": pl.String,
    "figure": pl.String,
    "low": pl.Float64,
    "high": pl.Float64,
    "level": pl.Float64,
    "replicates": pl.Int64,
}
# the sums each figure is a ratio of (mart_channel_velocity's columns)
_SUMS = ("deals", "won_deals", "closed_deals", "won_amount", "won_cycle_days")


# int_deal_credits with every deal whole under '(all channels)', as integer codes and the five
# summed measures only (deals, won, closed, won amount, won cycle days): DuckDB joins the
# codes, so no string column of the deals x models x channels rows reaches Python (6 GiB of
# frames at 10M touches). `deal` numbers the opportunities in id order, `key` the
# (credited_by, channel) pairs in their order.
# the (credited_by, channel) pairs the bootstrap sums: every pair of a deal's credits and each
# model's '(all channels)'
_KEY_PAIRS = """
select distinct credited_by, channel from int_deal_credits
union
select distinct credited_by, '(all channels)' from int_deal_credits
"""
_DEAL_MEASURES = f"""
with credits as (
    select opportunity_id, credited_by, channel, share, stage, pipeline_amount, cycle_days
    from int_deal_credits
),
rows as (
    select * from credits
    union all
    select
        opportunity_id, credited_by, '(all channels)' as channel, 1.0 as share,
        any_value(stage), any_value(pipeline_amount), any_value(cycle_days)
    from credits
    group by opportunity_id, credited_by
),
deals as (
    select opportunity_id, row_number() over (order by opportunity_id) - 1 as deal
    from (select distinct opportunity_id from credits)
),
keys as (
    select credited_by, channel, row_number() over (order by credited_by, channel) - 1 as key
    from ({_KEY_PAIRS})
)
select
    deals.deal,
    keys.key,
    rows.share as deals,
    case when rows.stage = 'closed_won' then rows.share else 0.0 end as won_deals,
    case when rows.stage <> 'open' then rows.share else 0.0 end as closed_deals,
    case when rows.stage = 'closed_won' then rows.share * rows.pipeline_amount else 0.0 end as won_amount,
    case when rows.stage = 'closed_won' then rows.share * coalesce(rows.cycle_days, 0.0) else 0.0 end
        as won_cycle_days
from rows
inner join deals using (opportunity_id)
inner join keys using (credited_by, channel)
"""
_KEYS = f"select credited_by, channel from ({_KEY_PAIRS}) order by credited_by, channel"


def _figures(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The four figures from the five sums (keys x replicates); NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = sums["won_deals"] / sums["closed_deals"]
        size = sums["won_amount"] / sums["won_deals"]
        cycle = sums["won_cycle_days"] / sums["won_deals"]
        velocity = sums["deals"] * win_rate * size / cycle
    figures = {"win_rate": win_rate, "average_deal_size": size, "sales_cycle_days": cycle}
    figures["pipeline_velocity_per_day"] = velocity
    return {name: np.where(np.isfinite(values), values, np.nan) for name, values in figures.items()}


def _bounds(values: np.ndarray, level: float) -> tuple[list[float | None], list[float | None]]:
    """Per row, the level's percentile interval over the replicates where the figure is
    defined (None where it never is)."""
    tail = (1 - level) / 2
    low: list[float | None] = [None] * values.shape[0]
    high: list[float | None] = [None] * values.shape[0]
    defined = np.isfinite(values).any(axis=1)
    if defined.any():
        bounds = np.nanquantile(values[defined], [tail, 1 - tail], axis=1)
        for position, row in enumerate(np.flatnonzero(defined)):
            low[row], high[row] = float(bounds[0][position]), float(bounds[1][position])
    return low, high


def velocity_intervals(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> pl.DataFrame:
    """One row per (credited_by, channel, figure) of mart_channel_velocity's win rate, average
    deal size, sales cycle and velocity: the interval holding the figure in `level` of the
    replicates (interval_replicates, interval_seed; none without replicates or deals)."""
    replicates, level = config.intervals.replicates, config.intervals.level
    measures = query_frame(conn, _DEAL_MEASURES)
    if replicates == 0 or measures.is_empty():
        return pl.DataFrame(schema=VELOCITY_INTERVAL_SCHEMA)
    keys = query_frame(conn, _KEYS)
    deal, key = measures["deal"].to_numpy().astype(np.int64), measures["key"].to_numpy().astype(np.int64)
    deals = int(deal.max()) + 1
    # the pipeline credit intervals' weights: the same deal gets the same draws
    blocks = poisson_blocks(config.intervals.seed, JOURNEY_KINDS.index("pipeline"), deals, replicates)
    sums = {
        name: weighted(incidence(key, deal, (keys.height, deals), measures[name].to_numpy()), blocks)
        for name in _SUMS
    }
    frames = []
    for figure, values in _figures(sums).items():
        low, high = _bounds(values, level)
        frames.append(
            keys.select(
                "credited_by",
                "channel",
                figure=pl.lit(figure),
                low=pl.Series(low, dtype=pl.Float64),
                high=pl.Series(high, dtype=pl.Float64),
                level=pl.lit(level),
                replicates=pl.lit(replicates, dtype=pl.Int64),
            )
        )
    return pl.concat(frames).sort("credited_by", "channel", "figure")


def build_velocity_intervals(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Write `mart_velocity_intervals` (velocity_intervals); return its row count."""
    return DuckDBEngine(conn).write("mart_velocity_intervals", velocity_intervals(conn, config))
