"""Calibrated models: credits scaled by an experiment's measured / attributed ratio, the rest
to (baseline); every journey still sums to 1. Figures by hand in the comments."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.experiments.calibration import BASELINE_CHANNEL, RATIO_SCHEMA, calibrate_wide
from attribution.pipeline import SourcePaths, run_pipeline
from tests.attribution.experiments.test_results import CONFIG, _world


def _ratios(*rows: tuple[str, str | None, str | None, float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "model": model,
                "calibrated_model": f"calibrated_{model}",
                "experiment_id": "e",
                "channel": channel,
                "campaign": campaign,
                "window_end": datetime(2026, 1, 1),
                "attributed": 1.0,
                "measured_incremental": ratio,
                "ratio": ratio,
            }
            for model, channel, campaign, ratio in rows
        ],
        schema=RATIO_SCHEMA,
    )


# three pipeline journeys: A (ads 0.5, email 0.5), B (ads 1.0), C (email 1.0)
WIDE = pl.DataFrame(
    {
        "journey_kind": ["pipeline"] * 4,
        "opportunity_id": ["A", "A", "B", "C"],
        "touchpoint_id": ["a1", "a2", "b1", "c1"],
        "channel": ["ads", "email", "ads", "email"],
        "campaign": ["spring", None, "summer", None],
        "linear": [0.5, 0.5, 1.0, 1.0],
    }
)


def _credits(frame: pl.DataFrame, model: str) -> dict[tuple[str, str], float]:
    return {(o, c): v for o, c, v in frame.select("opportunity_id", "channel", model).iter_rows()}


def test_a_ratio_below_one_moves_what_it_removes_to_baseline():
    calibrated = calibrate_wide(WIDE, _ratios(("linear", "ads", None, 0.4)), ["linear"])
    credits = _credits(calibrated, "calibrated_linear")
    # A: ads 0.5 x 0.4 = 0.2, email 0.5 kept, baseline 0.5 - 0.2 = 0.3; B: ads 0.4, baseline
    # 0.6; C has no ads: unchanged, no baseline row
    assert credits[("A", "ads")] == pytest.approx(0.2)
    assert credits[("A", "email")] == pytest.approx(0.5)
    assert credits[("A", BASELINE_CHANNEL)] == pytest.approx(0.3)
    assert credits[("B", "ads")] == pytest.approx(0.4)
    assert credits[("B", BASELINE_CHANNEL)] == pytest.approx(0.6)
    assert ("C", BASELINE_CHANNEL) not in credits
    # the base model is untouched and has no credit on the baseline rows
    baseline = calibrated.filter(pl.col("channel") == BASELINE_CHANNEL)
    assert baseline["linear"].null_count() == baseline.height == 2
    assert (
        calibrated.filter(pl.col("channel") != BASELINE_CHANNEL)["linear"].to_list()
        == WIDE["linear"].to_list()
    )
    sums = calibrated.group_by("opportunity_id").agg(pl.col("calibrated_linear").sum())
    assert sums["calibrated_linear"].to_list() == pytest.approx([1.0] * 3)


def test_a_ratio_above_one_takes_from_the_other_touches():
    calibrated = calibrate_wide(WIDE, _ratios(("linear", "ads", None, 3.0)), ["linear"])
    credits = _credits(calibrated, "calibrated_linear")
    # A: ads 0.5 x 3 = 1.5, email 0.5: sum 2, so ads 0.75 and email 0.25; B: ads 3 / 3 = 1
    assert credits[("A", "ads")] == pytest.approx(0.75)
    assert credits[("A", "email")] == pytest.approx(0.25)
    assert credits[("B", "ads")] == pytest.approx(1.0)
    assert BASELINE_CHANNEL not in calibrated["channel"].to_list()


def test_a_campaign_ratio_wins_over_its_channels_and_no_ratio_changes_nothing():
    ratios = _ratios(("linear", "ads", None, 0.5), ("linear", None, "summer", 0.0))
    credits = _credits(calibrate_wide(WIDE, ratios, ["linear"]), "calibrated_linear")
    # A's ads touch is campaign spring: the channel's 0.5 -> 0.25; B's is summer: 0, all baseline
    assert credits[("A", "ads")] == pytest.approx(0.25)
    assert credits[("B", "ads")] == 0.0
    assert credits[("B", BASELINE_CHANNEL)] == pytest.approx(1.0)
    unchanged = calibrate_wide(WIDE, _ratios(("linear", "ads", None, None)), ["linear"])
    assert unchanged["calibrated_linear"].to_list() == WIDE["linear"].to_list()


@pytest.fixture(scope="module")
def calibrated_run(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    config = CONFIG.with_settings(calibrated_models=("linear", "last_touch", "first_touch"))
    run_pipeline(conn, _world(tmp_path_factory.mktemp("calibrated")), config)
    return conn


def test_calibrated_models_run_beside_their_base_and_reconcile(calibrated_run):
    models = {m for (m,) in calibrated_run.sql("select distinct model from mart_reconciliation").fetchall()}
    assert {"calibrated_linear", "calibrated_last_touch", "calibrated_first_touch", "linear"} <= models
    unreconciled = calibrated_run.sql(
        "select journey_kind, model from mart_reconciliation where not is_reconciled"
    ).fetchall()
    assert unreconciled == []
    # every journey of every calibrated model sums to 1
    worst = calibrated_run.sql(
        "select max(abs(total - 1)) from (select journey_kind, model, opportunity_id, sum(credit) as total "
        "from mart_attribution_credits where model like 'calibrated_%' group by all)"
    ).fetchall()[0][0]
    assert worst < 1e-9


def test_the_calibrated_credit_follows_what_the_experiment_measured(calibrated_run):
    vs = {
        model: (attributed, measured)
        for model, attributed, measured in calibrated_run.sql(
            "select model, attributed, measured_incremental from mart_experiment_vs_attribution "
            "where experiment_id = 'e1'"
        ).fetchall()
    }
    measured = vs["linear"][1]
    # test_results: only t1's test journey (email, then ads; 100) touched ads, so last_touch
    # attributes 100, linear 50 and first_touch 0; e1 measured more than 100 (ratio > 1)
    assert measured > 100
    r = measured / 50.0
    # linear: ads 0.5 r, email 0.5, renormalized: ads r / (r + 1) of the deal's 100
    assert vs["calibrated_linear"][0] == pytest.approx(100 * r / (r + 1))
    # last_touch gives ads the whole deal already: scaling up cannot give more than 100
    assert vs["calibrated_last_touch"][0] == pytest.approx(100.0)
    # first_touch attributes nothing to ads: no ratio, the model unchanged
    first = calibrated_run.sql(
        "select count(*) from int_attribution_credits where calibrated_first_touch is distinct from first_touch"
    ).fetchall()[0][0]
    assert first == 0


def test_a_model_not_run_cannot_be_calibrated():
    with pytest.raises(ValueError, match="calibrated_models names model"):
        AttributionConfig.from_settings(models=["linear"], calibrated_models=["markov"])


def test_no_planted_effect_moves_the_channel_s_credit_to_baseline(tmp_path):
    # a sample world whose holdout planted nothing: the measured lift of paid social is near
    # zero (clipped at 0 when negative), so calibrated_linear keeps r x its paid-social credit
    # and gives the rest to (baseline); totals still reconcile and every journey sums to 1
    from attribution.sample_data import write_sample
    from attribution.sample_data.world import SampleSpec

    sample = tmp_path / "sample"
    write_sample(sample, SampleSpec(scale=0.2, seed=7, experiment_deals_per_account=0.0))
    sources = SourcePaths(
        sample / "touchpoints" / "*.csv",
        sample / "opportunities" / "*.csv",
        sample / "fx_rates.csv",
        experiments=sample / "experiments.csv",
        experiment_assignments=sample / "experiment_assignments.csv",
    )
    config = AttributionConfig.from_settings(
        as_of=datetime(2026, 11, 30), interval_replicates=0, models=["linear"], calibrated_models=["linear"]
    )
    conn = duckdb.connect()
    run_pipeline(conn, sources, config)
    (ratio,) = conn.sql("select ratio from mart_experiment_vs_attribution where model = 'linear'").fetchall()[
        0
    ]
    assert ratio < 1  # nothing planted: the experiment measures less than linear attributes
    factor = max(ratio, 0.0)
    linear, calibrated = (
        conn.sql(
            "select coalesce(sum(attributed_amount), 0) from mart_attribution_credits "
            f"where journey_kind = 'pipeline' and model = '{model}' and channel = 'paid_social'"
        ).fetchall()[0][0]
        for model in ("linear", "calibrated_linear")
    )
    baseline = conn.sql(
        "select sum(attributed_amount) from mart_attribution_credits "
        "where journey_kind = 'pipeline' and model = 'calibrated_linear' and channel = '(baseline)'"
    ).fetchall()[0][0]
    # r < 1 takes from paid social only: what it loses is what (baseline) holds
    assert calibrated == pytest.approx(factor * linear, rel=1e-9)
    assert baseline == pytest.approx(linear - calibrated, rel=1e-9)
    assert conn.sql("select bool_and(is_reconciled) from mart_reconciliation").fetchall()[0][0]
    cuts = conn.sql("select count(*) from mart_reconciliation_cuts where not is_reconciled").fetchall()[0][0]
    assert cuts == 0
