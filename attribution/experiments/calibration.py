"""Calibrated models (opt-in, setting `calibrated_models`): `calibrated_<model>` is a model's
credits with each tested channel's (or campaign's) credit scaled by what its experiment
measured over what the model attributes to it on the treated units, the credit removed moved
to a `(baseline)` pseudo-channel, so every journey still sums to 1 and every reconciliation
holds. An estimate bounded by one experiment: the ratio of one test's window and treated
units is applied to every journey of every kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import polars as pl

from attribution.config import AttributionConfig
from attribution.engine import Engine, as_engine
from attribution.experiments.results import experiment_vs_attribution
from attribution.models import CALIBRATED_PREFIX, UnknownModelError
from attribution.models.base import JOURNEY_KEY
from attribution.sql import query_frame, read_sql, table_exists

__all__ = [
    "BASELINE_CHANNEL",
    "CALIBRATED_PREFIX",
    "RATIO_SCHEMA",
    "calibrate_wide",
    "calibration_ratios",
    "run_calibration",
]

BASELINE_CHANNEL = "(baseline)"
RATIO_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "model": pl.String,
    "calibrated_model": pl.String,
    "experiment_id": pl.String,
    "channel": pl.String,
    "campaign": pl.String,
    "window_end": pl.Datetime("us"),
    "attributed": pl.Float64,
    "measured_incremental": pl.Float64,
    "ratio": pl.Float64,
}


def calibration_ratios(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> pl.DataFrame:
    """One row per (calibrated model, tested channel or campaign): the latest-ending experiment
    with a measured interval on its primary metric, what the base model attributes to the
    target on its treated units over the window, the measured incremental total, and their
    ratio clipped at 0 (null where the model attributes nothing: that target is left as it
    is). Reads mart_experiment_results and the base models' credits."""
    if not config.calibrated_models or not table_exists(conn, "mart_experiment_results"):
        return pl.DataFrame(schema=RATIO_SCHEMA)
    results = query_frame(conn, "select * from mart_experiment_results")
    compared = experiment_vs_attribution(conn, results, config.calibrated_models)  # primary, measured
    if compared.is_empty():
        return pl.DataFrame(schema=RATIO_SCHEMA)
    tested = results.filter("is_primary").select("experiment_id", "channel", "campaign", "window_end")
    return (
        compared.join(tested, on="experiment_id", how="inner")
        .select(
            "model",
            calibrated_model=pl.lit(CALIBRATED_PREFIX) + pl.col("model"),
            experiment_id="experiment_id",
            channel="channel",
            campaign="campaign",
            window_end="window_end",
            attributed="attributed",
            measured_incremental="measured_incremental",
            ratio=pl.when(pl.col("attributed") > 0).then(pl.col("ratio").clip(lower_bound=0.0)),
        )
        # one experiment per target: the latest to end (then the first by id)
        .sort("window_end", "experiment_id", descending=[True, False])
        .unique(["model", "channel", "campaign"], keep="first", maintain_order=True)
        .sort("model", "experiment_id")
        .cast(RATIO_SCHEMA)  # type: ignore[arg-type]
    )


def _factor(ratios: pl.DataFrame, model: str) -> pl.Expr:
    """Each touch's scale under `model`: its campaign's ratio where an experiment tested the
    campaign, else its channel's, else 1."""
    rows = ratios.filter((pl.col("model") == model) & pl.col("ratio").is_not_null())
    by_campaign = {r["campaign"]: r["ratio"] for r in rows.iter_rows(named=True) if r["campaign"] is not None}
    by_channel = {
        r["channel"]: r["ratio"]
        for r in rows.iter_rows(named=True)
        if r["campaign"] is None and r["channel"] is not None
    }
    campaign = pl.col("campaign").replace_strict(by_campaign, default=None, return_dtype=pl.Float64)
    channel = pl.col("channel").replace_strict(by_channel, default=None, return_dtype=pl.Float64)
    return pl.coalesce(campaign, channel, pl.lit(1.0))


def calibrate_wide(wide: pl.DataFrame, ratios: pl.DataFrame, models: Sequence[str]) -> pl.DataFrame:
    """The wide credits of whole journeys with a `calibrated_<model>` column per model: credit
    x factor (the target's ratio, 1 elsewhere), divided by the journey's sum where that exceeds
    1 (a ratio above 1 takes from the other channels), and one `(baseline)` row per journey
    that gives some away, holding what the factors removed (sum of credit x (1 - factor), at
    least 0; the base models' credits null there). Every calibrated journey sums to 1."""
    # sums over a journey in one order whatever order the rows came in (another engine's
    # batches arrive shuffled): the same bits on every engine
    wide = wide.sort([*JOURNEY_KEY, "touchpoint_id"], nulls_last=True)
    scaled, removed = [], []
    for model in models:
        provisional = pl.col(model) * _factor(ratios, model)
        total = provisional.sum().over(JOURNEY_KEY)
        scaled.append((provisional / pl.max_horizontal(total, pl.lit(1.0))).alias(CALIBRATED_PREFIX + model))
        removed.append(
            pl.max_horizontal((pl.col(model) - provisional).sum().over(JOURNEY_KEY), pl.lit(0.0)).alias(
                CALIBRATED_PREFIX + model
            )
        )
    calibrated = wide.with_columns(scaled)
    names = [CALIBRATED_PREFIX + model for model in models]
    baseline = (
        wide.select(*JOURNEY_KEY, *removed)
        .unique(list(JOURNEY_KEY), keep="first")
        .filter(pl.any_horizontal(pl.col(name) > 0 for name in names))
    )
    if baseline.is_empty():
        return calibrated
    filler = {
        column: pl.lit(None, dtype)
        for column, dtype in calibrated.schema.items()
        if column not in (*JOURNEY_KEY, *names)
    }
    baseline = baseline.with_columns(**filler).with_columns(channel=pl.lit(BASELINE_CHANNEL))
    return pl.concat([calibrated, baseline.select(calibrated.columns)], how="vertical")


def run_calibration(
    conn: duckdb.DuckDBPyConnection,
    runner: duckdb.DuckDBPyConnection | Engine,
    config: AttributionConfig,
    batches: int,
) -> pl.DataFrame:
    """Add the calibrated models of `config.calibrated_models` to `int_attribution_credits` on
    `runner` (its wide credits rewritten account batch by account batch); the ratios from the
    DuckDB file `conn` (the experiment results and the base credits there); return them."""
    ratios = calibration_ratios(conn, config)
    if not config.calibrated_models:
        return ratios
    engine = as_engine(runner)
    models = list(config.calibrated_models)
    unknown = [m for m in models if m not in engine.table_columns("int_attribution_credits")]
    if unknown:
        raise UnknownModelError(
            f"calibrated_models names model(s) not run: {', '.join(unknown)} (setting models)"
        )
    engine.define_macros()
    query = {"credits": read_sql("reads/batch_calibration_credits.sql")}

    def calibrated(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        return calibrate_wide(frames["credits"].drop("account_id"), ratios, models)

    engine.apply_by_group("int_calibrated_credits", query, calibrated, batches, "account_id")
    engine.create("int_attribution_credits", "select * from int_calibrated_credits")
    engine.drop("int_calibrated_credits")
    return ratios
