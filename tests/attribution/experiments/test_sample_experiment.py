"""The sample world's planted holdout experiment: its lift interval holds the planted effect,
and with the effect set to zero the rule does not scale."""

from __future__ import annotations

from datetime import datetime

import duckdb

from attribution.config import AttributionConfig
from attribution.pipeline import SourcePaths, run_pipeline
from attribution.sample_data import SampleSpec, write_sample
from attribution.sample_data.experiment import EXPERIMENT_ID, MEAN_DEAL_AMOUNT

CONFIG = AttributionConfig.from_settings(
    as_of=datetime(2026, 11, 1), run_started_at=datetime(2026, 11, 1), interval_replicates=0
)


def _measured(folder, effect: float) -> dict[str, object]:
    write_sample(folder, SampleSpec(scale=0.5, seed=3, experiment_deals_per_account=effect))
    sources = SourcePaths(
        folder / "touchpoints" / "*.csv",
        folder / "opportunities" / "*.csv",
        folder / "fx_rates.csv",
        experiments=folder / "experiments.csv",
        experiment_assignments=folder / "experiment_assignments.csv",
    )
    conn = duckdb.connect()
    run_pipeline(conn, sources, CONFIG)
    frame = conn.sql(
        "select * from mart_experiment_results where experiment_id = ? and metric = 'pipeline'",
        params=[EXPERIMENT_ID],
    ).pl()
    return frame.row(0, named=True)


def test_the_planted_lift_is_measured_and_no_effect_is_not_scaled(tmp_path):
    # the base world's deals ignore the arms; each treated target opens Poisson(0.3) extra
    # deals of mean amount 25,000 x exp(0.32): the planted lift per treated account
    planted = _measured(tmp_path / "planted", 0.3)
    assert planted["low"] <= 0.3 * MEAN_DEAL_AMOUNT <= planted["high"]
    assert planted["decision"] == "scale" and planted["warnings"] is None
    assert planted["treated_units"] + planted["control_units"] > 400
    # the holdout removed the controls' paid social clicks in the window: none contaminated
    assert planted["contaminated_control_units"] == 0
    none = _measured(tmp_path / "none", 0.0)
    assert none["low"] <= 0.0 <= none["high"], (none["low"], none["high"])
    assert none["decision"] == "inconclusive"
    assert none["treated_units"] == planted["treated_units"]  # the same arms
    # the same base world: the planted deals are all of the difference between the two lifts
    assert planted["lift"] - none["lift"] > 0.5 * 0.3 * MEAN_DEAL_AMOUNT
