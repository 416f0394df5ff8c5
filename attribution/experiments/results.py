"""mart_experiment_results: per staged experiment and metric, the units and means per arm, the
lift (CUPED-adjusted, with its interval and p), the pre-registered rule's decision and the
checks that protect it (sample ratio, contamination, open deals, minimum detectable effect),
from the run's opportunities at as-of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.engine import DuckDBEngine
from attribution.experiments.estimate import (
    ArmOutcomes,
    DecisionRule,
    estimate_lift,
    estimate_ratio_lift,
    minimum_detectable_effect,
    sample_ratio_p,
)
from attribution.models.base import WIDE_KEY
from attribution.sql import define_macros, query_frame

__all__ = [
    "EXPERIMENT_METRICS",
    "RESULT_SCHEMA",
    "VS_ATTRIBUTION_SCHEMA",
    "build_experiment_results",
    "build_experiment_vs_attribution",
    "experiment_results",
    "experiment_vs_attribution",
]

# metric -> what one unit's outcome is, over the opportunities of the unit created in the
# window (qualified_pipeline: qualified in it); won revenue: of those created, won by as-of
EXPERIMENT_METRICS: dict[str, str] = {
    "opportunities_created": "count(*)",
    "pipeline": "sum(pipeline_amount)",
    "won_revenue": "sum(revenue_amount) filter (where stage = 'closed_won')",
    "qualified_pipeline": "sum(pipeline_amount) filter (where qualified_at is not null)",
}
# ratio metrics: (numerator, denominator) per unit over the deals created in the window
RATIO_METRICS: dict[str, tuple[str, str]] = {
    "win_rate": ("count(*) filter (where stage = 'closed_won')", "count(*) filter (where stage <> 'open')"),
    "average_deal_size": (
        "sum(revenue_amount) filter (where stage = 'closed_won')",
        "count(*) filter (where stage = 'closed_won')",
    ),
}
SRM_P = 0.001  # a sample-ratio p below this is a mismatch
_FLOAT_FIELDS = (
    "treatment_mean", "control_mean", "lift", "lift_pct", "cuped_theta", "cuped_lift",
    "variance_reduction", "low", "high", "bootstrap_low", "bootstrap_high", "p_value",
    "total_incremental",
)  # fmt: skip
RESULT_SCHEMA: dict[str, Any] = {
    "experiment_id": pl.String,
    "name": pl.String,
    "channel": pl.String,
    "campaign": pl.String,
    "metric": pl.String,
    "is_primary": pl.Boolean,
    "window_start": pl.Datetime("us"),
    "window_end": pl.Datetime("us"),
    "treated_units": pl.Int64,
    "control_units": pl.Int64,
    **dict.fromkeys(_FLOAT_FIELDS, pl.Float64),
    "p_value_method": pl.String,
    "level": pl.Float64,
    "decision_threshold": pl.Float64,
    "decision": pl.String,
    "sample_ratio_p": pl.Float64,
    "contaminated_control_units": pl.Int64,
    "open_share": pl.Float64,
    "minimum_detectable_effect": pl.Float64,
    "warnings": pl.String,
}


def _unit_outcomes(
    conn: duckdb.DuckDBPyConnection, experiment: dict[str, Any], start: datetime, end: datetime, metric: str
) -> pl.DataFrame:
    """(unit_id, arm, outcome, denominator): every assigned unit's metric over [start, end] (0
    without a deal; a ratio metric's numerator, with its denominator), its deals those of its
    account (or, for a geo, of the segment column's value)."""
    unit = "account_id" if experiment["unit"] == "account" else "segments[$geo_column]"
    moment = "qualified_at" if metric == "qualified_pipeline" else "created_at"
    numerator, denominator = RATIO_METRICS.get(metric, (EXPERIMENT_METRICS.get(metric, "0"), "count(*)"))
    frame: pl.DataFrame = conn.sql(
        f"""
        with deals as (
            select {unit} as unit_id, * from stg_opportunities
            where {moment} between $start and $end
        ),
        outcomes as (
            select unit_id, {numerator} as outcome, {denominator} as denominator from deals group by unit_id
        )
        select a.unit_id, a.arm, coalesce(o.outcome, 0)::double as outcome,
            coalesce(o.denominator, 0)::double as denominator
        from stg_experiment_assignments as a
        left join outcomes as o using (unit_id)
        where a.experiment_id = $experiment_id
        order by a.unit_id
        """,
        params={
            "start": start,
            "end": end,
            "experiment_id": experiment["experiment_id"],
            **({"geo_column": experiment["geo_column"]} if experiment["unit"] == "geo" else {}),
        },
    ).pl()
    return frame


def _checks(
    conn: duckdb.DuckDBPyConnection, experiment: dict[str, Any], start: datetime, end: datetime
) -> tuple[int, float | None]:
    """(control units touched by the tested channel or campaign in the test window: account
    units only, touches have no geo; the share of the window's deals of assigned units still
    open at as-of)."""
    params = {"experiment_id": experiment["experiment_id"], "start": start, "end": end}
    contaminated = conn.execute(
        """
        select count(distinct a.unit_id) from stg_experiment_assignments as a
        inner join stg_experiments as e using (experiment_id)
        inner join stg_touchpoints as t on t.account_id = a.unit_id
        where a.experiment_id = $experiment_id and a.arm = 'control' and e.unit = 'account'
            and t.occurred_at between e.start_at and e.end_at
            and (t.channel = e.channel or t.campaign = e.campaign)
        """,
        {"experiment_id": experiment["experiment_id"]},
    ).fetchall()[0][0]
    unit = "o.account_id" if experiment["unit"] == "account" else "o.segments[$geo_column]"
    open_share = conn.execute(
        f"""
        select avg(case when o.stage = 'open' then 1.0 else 0.0 end) from stg_opportunities as o
        inner join stg_experiment_assignments as a on a.unit_id = {unit}
        where a.experiment_id = $experiment_id and o.created_at between $start and $end
        """,
        {**params, **({"geo_column": experiment["geo_column"]} if experiment["unit"] == "geo" else {})},
    ).fetchall()[0][0]
    return int(contaminated), (None if open_share is None else float(open_share))


def _window(experiment: dict[str, Any]) -> tuple[datetime, datetime]:
    """The experiment's outcome window: [start, end + follow-up days]."""
    return experiment["start_at"], experiment["end_at"] + timedelta(days=int(experiment["follow_up_days"]))


def _arm(units: pl.DataFrame, arm: str, column: str) -> np.ndarray:
    """One column of one arm's units, as floats."""
    return units.filter(pl.col("arm") == arm)[column].to_numpy().astype(float)


def _row(
    conn: duckdb.DuckDBPyConnection, experiment: dict[str, Any], metric: str, config: AttributionConfig
) -> dict[str, Any]:
    """One experiment x metric of mart_experiment_results."""
    start, end = _window(experiment)
    warnings: list[str] = []
    if start > config.as_of:
        warnings.append("the test starts after as-of: no outcome yet")
    elif end > config.as_of:
        warnings.append("the window (with follow-up) runs past as-of: outcomes so far")
    observed_end = min(end, config.as_of)
    length = observed_end - start if observed_end > start else timedelta(0)
    now = _unit_outcomes(conn, experiment, start, observed_end, metric)
    before = _unit_outcomes(conn, experiment, start - length, start - timedelta(microseconds=1), metric)
    arms = now.join(before.select("unit_id", pre="outcome"), on="unit_id", how="left").fill_null(0.0)

    outcomes = ArmOutcomes(
        _arm(arms, "treatment", "outcome"),
        _arm(arms, "control", "outcome"),
        _arm(arms, "treatment", "pre"),
        _arm(arms, "control", "pre"),
    )
    primary = metric == experiment["primary_metric"]
    rule = DecisionRule(threshold=float(experiment["decision_threshold"]) if primary else 0.0)
    seed = config.intervals.seed
    estimate = estimate_lift(
        outcomes, rule, float(experiment["alpha"]), max(config.intervals.replicates, 200), seed
    )
    if start > config.as_of:
        estimate = replace(estimate, decision="no_decision")
    warnings.extend(estimate.warnings)
    srm = None
    if experiment["control_share"] is not None:
        srm = sample_ratio_p(
            estimate.treated_units, estimate.control_units, float(experiment["control_share"])
        )
        if srm < SRM_P:
            warnings.append(
                f"sample-ratio mismatch: {estimate.treated_units} treated, {estimate.control_units} control (p {srm:.2g})"
            )
    contaminated, open_share = _checks(conn, experiment, start, observed_end)
    if contaminated:
        warnings.append(
            f"{contaminated} control unit(s) touched by the tested channel or campaign during the test"
        )
    if open_share is not None and open_share >= 0.5:
        warnings.append(f"{open_share:.0%} of the test's opportunities are still open at as-of")
    mde = minimum_detectable_effect(
        np.concatenate([outcomes.treatment_pre, outcomes.control_pre]),
        estimate.treated_units, estimate.control_units, float(experiment["alpha"]),
    )  # fmt: skip
    if primary and mde is not None and rule.threshold > 0 and mde > rule.threshold:
        warnings.append(f"too few units: the minimum detectable effect ({mde:,.0f}) exceeds the threshold")
    values = asdict(estimate)
    return {
        **{k: experiment[k] for k in ("experiment_id", "name", "channel", "campaign")},
        "metric": metric,
        "is_primary": primary,
        "window_start": start,
        "window_end": end,
        "treated_units": estimate.treated_units,
        "control_units": estimate.control_units,
        **{k: values[k] for k in _FLOAT_FIELDS},
        "p_value_method": estimate.p_value_method,
        "level": 1 - float(experiment["alpha"]),
        "decision_threshold": rule.threshold,
        "decision": estimate.decision,
        "sample_ratio_p": srm,
        "contaminated_control_units": contaminated,
        "open_share": open_share,
        "minimum_detectable_effect": mde,
        "warnings": "; ".join(warnings) or None,
    }


def _ratio_row(
    conn: duckdb.DuckDBPyConnection, experiment: dict[str, Any], metric: str, config: AttributionConfig
) -> dict[str, Any]:
    """One ratio metric (win rate, average won deal size) of an experiment: each arm's ratio,
    the difference and its bootstrap interval over units, decided against zero."""
    start, end = _window(experiment)
    units = _unit_outcomes(conn, experiment, start, min(end, config.as_of), metric)
    estimate = estimate_ratio_lift(
        (_arm(units, "treatment", "outcome"), _arm(units, "control", "outcome")),
        (_arm(units, "treatment", "denominator"), _arm(units, "control", "denominator")),
        DecisionRule(),
        float(experiment["alpha"]),
        max(config.intervals.replicates, 200),
        config.intervals.seed,
    )
    empty = dict.fromkeys(RESULT_SCHEMA)
    return {
        **empty,
        **{k: experiment[k] for k in ("experiment_id", "name", "channel", "campaign")},
        "metric": metric,
        "is_primary": False,
        "window_start": start,
        "window_end": end,
        "treated_units": int((units["arm"] == "treatment").sum()),
        "control_units": int((units["arm"] == "control").sum()),
        "treatment_mean": estimate.treatment_ratio,
        "control_mean": estimate.control_ratio,
        "lift": estimate.lift,
        "low": estimate.low,
        "high": estimate.high,
        "bootstrap_low": estimate.low,
        "bootstrap_high": estimate.high,
        "p_value_method": None,
        "level": 1 - float(experiment["alpha"]),
        "decision_threshold": 0.0,
        "decision": estimate.decision,
        "warnings": estimate.warning,
    }


def experiment_results(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> pl.DataFrame:
    """One row per (staged experiment, metric): opportunities_created, pipeline, won_revenue,
    qualified_pipeline when the run builds qualified journeys, and the ratio metrics win_rate
    and average_deal_size (bootstrap over units); the primary metric's row decides by the
    experiment's threshold, the others against zero."""
    experiments = query_frame(conn, "select * from stg_experiments order by experiment_id")
    metrics = [m for m in EXPERIMENT_METRICS if m != "qualified_pipeline" or config.builds_qualified_journeys]
    rows = [
        (_ratio_row if metric in RATIO_METRICS else _row)(conn, experiment, metric, config)
        for experiment in experiments.iter_rows(named=True)
        for metric in (*metrics, *RATIO_METRICS)
    ]
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)


def build_experiment_results(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Write `mart_experiment_results` (experiment_results); return its row count."""
    return DuckDBEngine(conn).write("mart_experiment_results", experiment_results(conn, config))


# metric -> the journey kind whose credits attribute it, and whether a credit counts a deal
# (opportunities_created) or its amount
_ATTRIBUTED_KIND: dict[str, tuple[str, bool]] = {
    "opportunities_created": ("pipeline", True),
    "pipeline": ("pipeline", False),
    "won_revenue": ("revenue", False),
    "qualified_pipeline": ("qualified", False),
}
VS_ATTRIBUTION_SCHEMA: dict[str, Any] = {
    "experiment_id": pl.String,
    "metric": pl.String,
    "model": pl.String,
    "attributed": pl.Float64,
    "measured_incremental": pl.Float64,
    "measured_low": pl.Float64,
    "measured_high": pl.Float64,
    "ratio": pl.Float64,
    "ratio_low": pl.Float64,
    "ratio_high": pl.Float64,
    "is_outside_interval": pl.Boolean,
}


def experiment_vs_attribution(
    conn: duckdb.DuckDBPyConnection,
    results: pl.DataFrame | None = None,
    models: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One row per (experiment, model) of the primary metric: what the model attributes to the
    tested channel (or campaign) on the treated units' deals of the window, next to the
    measured incremental total (cuped lift x treated units) and its interval; the ratio
    measured / attributed with the interval's ratios, and whether the attributed figure lies
    outside the measured interval. Reads the primary rows with an interval of `results`
    (default: mart_experiment_results) and mart_attribution_credits, for `models` (default:
    every model run, the wide credits' model columns)."""
    if results is None:
        results = query_frame(conn, "select * from mart_experiment_results")
    results = results.filter(pl.col("is_primary") & pl.col("low").is_not_null()).sort("experiment_id")
    if models is None:
        models = [c for c in conn.table("int_attribution_credits").columns if c not in WIDE_KEY]
    run = pl.DataFrame({"model": list(models)}, schema={"model": pl.String})
    define_macros(conn)  # summed exactly (to_picos): the same figure whatever the rows' order
    frames = []
    for row in results.iter_rows(named=True):
        kind, counts = _ATTRIBUTED_KIND[row["metric"]]
        attributed = conn.sql(
            f"""
            select c.model,
                coalesce(from_picos(sum(to_picos({"c.credit" if counts else "c.attributed_amount"}))), 0)
                    as attributed
            from mart_attribution_credits as c
            inner join stg_experiment_assignments as a
                on a.unit_id = c.account_id and a.experiment_id = $experiment_id and a.arm = 'treatment'
            inner join stg_experiments as e on e.experiment_id = a.experiment_id
            where c.journey_kind = $kind and c.event_at between $start and $end
                and (c.channel = e.channel or c.campaign = e.campaign)
                and list_contains($models, c.model)
            group by c.model
            """,
            params={
                "experiment_id": row["experiment_id"],
                "kind": kind,
                "start": row["window_start"],
                "end": row["window_end"],
                "models": list(models),
            },
        ).pl()
        attributed = run.join(attributed, on="model", how="left").fill_null(0.0)
        n = row["treated_units"]
        measured, low, high = row["cuped_lift"] * n, row["low"] * n, row["high"] * n
        frames.append(
            attributed.select(
                experiment_id=pl.lit(row["experiment_id"]),
                metric=pl.lit(row["metric"]),
                model="model",
                attributed="attributed",
                measured_incremental=pl.lit(measured),
                measured_low=pl.lit(low),
                measured_high=pl.lit(high),
                ratio=pl.when(pl.col("attributed") != 0).then(measured / pl.col("attributed")),
                ratio_low=pl.when(pl.col("attributed") != 0).then(low / pl.col("attributed")),
                ratio_high=pl.when(pl.col("attributed") != 0).then(high / pl.col("attributed")),
                is_outside_interval=(pl.col("attributed") < low) | (pl.col("attributed") > high),
            )
        )
    if not frames:
        return pl.DataFrame(schema=VS_ATTRIBUTION_SCHEMA)
    return pl.concat(frames).sort("experiment_id", "model")


def build_experiment_vs_attribution(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Write `mart_experiment_vs_attribution` (experiment_vs_attribution); return its row count."""
    del config  # the results table holds what the comparison reads
    return DuckDBEngine(conn).write("mart_experiment_vs_attribution", experiment_vs_attribution(conn))
