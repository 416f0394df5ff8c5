"""The measured lifts in the shapes media-mix tools calibrate with: PyMC-Marketing's lift-test
frame (`add_lift_test_measurements`: channel, x, delta_x, delta_y, sigma) and Robyn's
`calibration_input` (channel, liftStartDate, liftEndDate, liftAbs, spend, confidence, metric,
calibration_scope), one row per experiment with a channel and an estimate of its primary
metric."""

from __future__ import annotations

import duckdb
import polars as pl
from scipy import special

from attribution.config import AttributionConfig
from attribution.engine import DuckDBEngine
from attribution.sql import query_frame

__all__ = ["build_lift_tests_pymc", "build_lift_tests_robyn", "lift_tests"]

_WINDOW_SPEND = """
select
    r.experiment_id,
    r.channel,
    r.metric,
    r.window_start,
    r.window_end,
    r.total_incremental,
    r.low,
    r.high,
    r.level,
    r.treated_units,
    coalesce((select sum(s.spend_amount) from stg_spend as s where s.channel = r.channel
        and s.spend_date between cast(r.window_start as date) and cast(r.window_end as date)), 0)
        as window_spend,
    coalesce((select sum(s.spend_amount) from stg_spend as s where s.channel = r.channel
        and s.spend_date < cast(r.window_start as date)
        and s.spend_date >= cast(r.window_start - (r.window_end - r.window_start) as date)), 0)
        as pre_spend
from mart_experiment_results as r
where r.is_primary and r.low is not null and r.channel is not null
order by r.experiment_id
"""


def lift_tests(conn: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(PyMC-Marketing's lift-test frame, Robyn's calibration_input) of the experiments:
    x the channel's spend over the equal pre-period, delta_x the window's spend minus it,
    delta_y the measured incremental total (CUPED lift x treated units), sigma its standard
    error (the interval's half-width over z at its level, x treated units); Robyn's liftAbs
    the same total, spend the window's, confidence the interval's level."""
    rows = query_frame(conn, _WINDOW_SPEND)
    z = [float(special.ndtri(0.5 + level / 2)) for level in rows["level"].to_list()]
    pymc = rows.select(
        experiment_id="experiment_id",
        channel="channel",
        x=pl.col("pre_spend"),
        delta_x=pl.col("window_spend") - pl.col("pre_spend"),
        delta_y=pl.col("total_incremental"),
        sigma=(pl.col("high") - pl.col("low")) / 2 / pl.Series(z, dtype=pl.Float64) * pl.col("treated_units"),
    )
    robyn = rows.select(
        experiment_id="experiment_id",
        channel="channel",
        liftStartDate=pl.col("window_start").cast(pl.Date),
        liftEndDate=pl.col("window_end").cast(pl.Date),
        liftAbs=pl.col("total_incremental"),
        spend=pl.col("window_spend"),
        confidence=pl.col("level"),
        metric=pl.col("metric"),
        calibration_scope=pl.lit("immediate"),
    )
    return pymc, robyn


def build_lift_tests_pymc(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Write `mart_lift_tests_pymc` (lift_tests); return its row count."""
    del config  # the results table holds what the hand-off reads
    return DuckDBEngine(conn).write("mart_lift_tests_pymc", lift_tests(conn)[0])


def build_lift_tests_robyn(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Write `mart_lift_tests_robyn` (lift_tests); return its row count."""
    del config
    return DuckDBEngine(conn).write("mart_lift_tests_robyn", lift_tests(conn)[1])
