"""mart_experiment_results on a small world: the inputs staged and quarantined with reasons,
the lift of one experiment by hand, and the checks (contamination, sample ratio, a test that
starts after as-of), every figure counted from the rows written here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.checks import row_accounting_violations
from attribution.config import AttributionConfig
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

CONFIG = AttributionConfig.from_settings(
    as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 7, 1), interval_replicates=0
)
# (account, arm, pre-period deal amount, test-window deal amount and stage); e1 tests ads on
# accounts t1-t4 against controls c1-c4 from 03-01 to 03-31 with 30 days of follow-up: its
# window ends 04-30, the equal pre-period runs back to 12-30
ACCOUNTS = [
    ("t1", "treatment", 100, (100, "Closed Won")),
    ("t2", "treatment", None, (200, "Closed Lost")),
    ("t3", "treatment", None, None),
    ("t4", "treatment", 100, (300, "Open")),
    ("c1", "control", 100, (100, "Closed Won")),
    ("c2", "control", None, None),
    ("c3", "control", None, None),
    ("c4", "control", None, (100, "Closed Lost")),
]
# e5: 30 treated, 3 control, although half were meant to be control (a sample-ratio mismatch)
SRM_UNITS = [(f"s{i:02d}", "treatment" if i < 30 else "control") for i in range(33)]


def _world(folder: Path) -> SourcePaths:
    touches = [(f"t-{a}", "2026-01-05T00:00:00Z", a, "email") for a, *_ in ACCOUNTS]
    touches += [(f"t-{a}", "2026-01-05T00:00:00Z", a, "email") for a, _ in SRM_UNITS]
    touches.append(("t-c4-ads", "2026-03-10T00:00:00Z", "c4", "ads"))  # a control reached by ads
    touches.append(("t-t1-ads", "2026-03-10T00:00:00Z", "t1", "ads"))  # before t1's test deal
    write_csv(folder / "touches.csv", ["touchpoint_id", "occurred_at", "account_id", "channel"], touches)
    deals = []
    for account, _, pre, test in ACCOUNTS:
        if pre:
            deals.append(
                (f"pre-{account}", account, "2026-01-20T00:00:00Z", "2026-02-10T00:00:00Z", "Closed Won", pre)
            )
        if test:
            amount, stage = test
            closed = "" if stage == "Open" else "2026-04-20T00:00:00Z"
            deals.append((f"test-{account}", account, "2026-03-15T00:00:00Z", closed, stage, amount))
    write_csv(
        folder / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        deals,
    )
    write_csv(
        folder / "experiments.csv",
        ["experiment_id", "name", "channel", "start_at", "end_at", "follow_up_days", "primary_metric",
         "alpha", "control_share", "decision_threshold", "unit"],
        [
            ("e1", "ads holdout", "Ads", "2026-03-01", "2026-03-31", "30", "pipeline", "0.1", "0.5", "0", ""),
            ("e2", "later test", "ads", "2026-07-01", "2026-07-31", "0", "pipeline", "", "", "", ""),
            ("e3", "ends before it starts", "ads", "2026-03-10", "2026-03-01", "0", "", "", "", "", ""),
            ("e4", "by region", "ads", "2026-03-01", "2026-03-31", "0", "", "", "", "", "region"),
            ("e5", "lopsided", "ads", "2026-03-01", "2026-03-31", "0", "", "", "0.5", "", ""),
        ],
    )  # fmt: skip
    assignments = [("e1", a, arm) for a, arm, *_ in ACCOUNTS]
    assignments += [
        ("e1", "zz-nobody", "treatment"),  # unknown_unit
        ("e1", "c1", "holdout"),  # bad_arm
        ("e9", "t1", "treatment"),  # unknown_experiment
        ("e1", "t1", "treatment"),  # duplicate_id
        ("e2", "t1", "treatment"),
        ("e2", "c1", "control"),
    ]
    assignments += [("e5", a, arm) for a, arm in SRM_UNITS]
    write_csv(folder / "assignments.csv", ["experiment_id", "unit_id", "arm"], assignments)
    # ads spend: 600 in the pre-period, 1,000 + 500 in e1's window, 999 after it
    write_csv(
        folder / "spend.csv",
        ["date", "channel", "amount"],
        [
            ("2026-01-15", "ads", 600),
            ("2026-03-05", "ads", 1000),
            ("2026-04-10", "ads", 500),
            ("2026-05-15", "ads", 999),
        ],
    )
    return SourcePaths(
        folder / "touches.csv",
        folder / "opportunities.csv",
        spend=folder / "spend.csv",
        experiments=folder / "experiments.csv",
        experiment_assignments=folder / "assignments.csv",
    )


@pytest.fixture(scope="module")
def experiment_run(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path_factory.mktemp("experiments")), CONFIG)
    return conn


def _result(conn: duckdb.DuckDBPyConnection, experiment: str, metric: str) -> dict[str, object]:
    frame = conn.sql(
        "select * from mart_experiment_results where experiment_id = ? and metric = ?",
        params=[experiment, metric],
    ).pl()
    assert frame.height == 1
    return frame.row(0, named=True)


def test_the_inputs_are_staged_or_quarantined_with_a_reason(experiment_run):
    reasons = experiment_run.sql(
        "select source, reason, count(*) from quarantine where source like 'experiment%' group by all order by all"
    ).fetchall()
    assert reasons == [
        ("experiment_assignments", "bad_arm", 1),
        ("experiment_assignments", "duplicate_id", 1),
        ("experiment_assignments", "unknown_experiment", 1),
        ("experiment_assignments", "unknown_unit", 1),
        ("experiments", "bad_experiment", 1),  # e4's unit is no account or geo
        ("experiments", "bad_window", 1),  # e3 ends before it starts
    ]
    assert row_accounting_violations(experiment_run, "experiments").is_empty()
    assert row_accounting_violations(experiment_run, "experiment_assignments").is_empty()
    staged = experiment_run.sql("select experiment_id, channel from stg_experiments order by 1").fetchall()
    assert staged == [("e1", "ads"), ("e2", "ads"), ("e5", "ads")]


def test_the_lift_of_one_experiment_by_hand(experiment_run):
    result = _result(experiment_run, "e1", "pipeline")
    # test-window pipeline: treated 100 200 0 300 (mean 150), control 100 0 0 100 (mean 50)
    assert (result["treated_units"], result["control_units"]) == (4, 4)
    assert (result["treatment_mean"], result["control_mean"], result["lift"]) == (150.0, 50.0, 100.0)
    # pre-period: treated 100 0 0 100, control 100 0 0 0. Over all eight: mean y 100, mean x
    # 37.5; sum dy dx = 20,000, sum dx^2 = 18,750: theta 1.0667
    assert result["cuped_theta"] == pytest.approx(20_000 / 18_750)
    theta = 20_000 / 18_750
    treated = [100 - theta * 62.5, 200 + theta * 37.5, theta * 37.5, 300 - theta * 62.5]
    control = [100 - theta * 62.5, theta * 37.5, theta * 37.5, 100 + theta * 37.5]
    assert result["cuped_lift"] == pytest.approx(sum(treated) / 4 - sum(control) / 4)
    assert result["low"] < result["cuped_lift"] < result["high"]
    assert result["p_value_method"] == "permutation" and result["is_primary"]
    assert result["decision"] in ("scale", "inconclusive")
    assert result["total_incremental"] == pytest.approx(4 * result["cuped_lift"])
    # deals in the window: t1, t2, t4 (open), c1, c4: one of five still open
    assert result["open_share"] == pytest.approx(0.2)
    # c4 was reached by the tested channel during the test
    assert result["contaminated_control_units"] == 1
    assert "1 control unit(s) touched by the tested channel" in result["warnings"]
    counts = _result(experiment_run, "e1", "opportunities_created")
    assert (counts["treatment_mean"], counts["control_mean"]) == (0.75, 0.5)
    won = _result(experiment_run, "e1", "won_revenue")
    assert (won["treatment_mean"], won["control_mean"]) == (25.0, 25.0)
    assert not won["is_primary"]


def test_the_checks_that_protect_the_decision(experiment_run):
    later = _result(experiment_run, "e2", "pipeline")
    assert later["decision"] == "no_decision"
    assert "starts after as-of" in later["warnings"] and "too few units" in later["warnings"]
    lopsided = _result(experiment_run, "e5", "pipeline")
    # 30 vs 3 against a half: chi-square 2 x 13.5^2 / 16.5 = 22.1, p about 2.6e-6
    assert lopsided["sample_ratio_p"] == pytest.approx(2.6e-6, rel=0.1)
    assert "sample-ratio mismatch: 30 treated, 3 control" in lopsided["warnings"]
    # nobody in e5 has a deal: the metric does not vary
    assert "does not vary" in lopsided["warnings"]


def test_without_experiments_the_table_is_empty(tmp_path):
    sources = _world(tmp_path)
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(sources.touchpoints, sources.opportunities), CONFIG)
    assert conn.sql("select count(*) from mart_experiment_results").fetchall() == [(0,)]


def test_each_model_next_to_what_the_experiment_measured(experiment_run):
    rows = {
        model: (attributed, measured, low, high, ratio, outside)
        for model, attributed, measured, low, high, ratio, outside in experiment_run.sql(
            "select model, attributed, measured_incremental, measured_low, measured_high, ratio, "
            "is_outside_interval from mart_experiment_vs_attribution where experiment_id = 'e1'"
        ).fetchall()
    }
    result = _result(experiment_run, "e1", "pipeline")
    # of the treated units' test deals only t1's journey (email 01-05, ads 03-10; 100) touched
    # ads: last touch gives ads all of it, linear half, first touch none
    assert (rows["last_touch"][0], rows["linear"][0], rows["first_touch"][0]) == (100.0, 50.0, 0.0)
    measured, low, high = 4 * result["cuped_lift"], 4 * result["low"], 4 * result["high"]
    assert rows["last_touch"][1:4] == pytest.approx((measured, low, high))
    assert rows["last_touch"][4] == pytest.approx(measured / 100.0)
    assert rows["first_touch"][4] is None  # nothing attributed: no ratio
    for attributed, _, lo, hi, _, outside in rows.values():
        assert outside == (attributed < lo or attributed > hi)


def test_the_report_reads_each_experiment_in_one_sentence(experiment_run):
    from attribution.report_sections.experiments import _experiments

    section = _experiments(experiment_run)
    e1 = _result(experiment_run, "e1", "pipeline")
    outside = [
        model
        for (model,) in experiment_run.sql(
            "select model from mart_experiment_vs_attribution where experiment_id = 'e1' and is_outside_interval "
            "order by model"
        ).fetchall()
    ]
    reading = section["readings"][0]
    assert reading.startswith(f"e1 (ads): {e1['cuped_lift']:,.0f} pipeline per treated unit [")
    assert f"decision {e1['decision']}" in reading
    assert ("outside it: " + ", ".join(outside)) in reading if outside else "outside it" not in reading
    # e2 starts after as-of: no estimate, said so
    assert section["readings"][1].startswith("e2 (ads): no estimate (the test starts after as-of")


def test_the_non_blocking_check_lists_the_decisions_in_doubt(experiment_run):
    from attribution.checks import experiment_warnings

    doubted = experiment_warnings(experiment_run)
    # e1: a contaminated control; e2: after as-of; e5: the sample-ratio mismatch
    assert doubted["experiment_id"].to_list() == ["e1", "e2", "e5"]
    assert set(doubted["metric"]) == {"pipeline"}


def test_the_lifts_in_the_shapes_media_mix_tools_calibrate_with(experiment_run):
    from datetime import date

    from scipy import stats

    result = _result(experiment_run, "e1", "pipeline")
    pymc = (
        experiment_run.sql("select * from mart_lift_tests_pymc where experiment_id = 'e1'")
        .pl()
        .row(0, named=True)
    )
    sigma = (result["high"] - result["low"]) / 2 / stats.norm.ppf(0.95) * 4
    assert (pymc["channel"], pymc["x"], pymc["delta_x"]) == ("ads", 600.0, 900.0)
    assert (pymc["delta_y"], pymc["sigma"]) == pytest.approx((result["total_incremental"], sigma))
    robyn = (
        experiment_run.sql("select * from mart_lift_tests_robyn where experiment_id = 'e1'")
        .pl()
        .row(0, named=True)
    )
    assert (robyn["liftStartDate"], robyn["liftEndDate"]) == (date(2026, 3, 1), date(2026, 4, 30))
    assert (robyn["spend"], robyn["confidence"], robyn["metric"]) == (1500.0, pytest.approx(0.9), "pipeline")
    assert robyn["liftAbs"] == pytest.approx(result["total_incremental"])
    # e2 has no estimate (after as-of): in neither hand-off
    assert experiment_run.sql(
        "select distinct experiment_id from mart_lift_tests_robyn order by 1"
    ).fetchall() == [
        ("e1",),
        ("e5",),
    ]


def test_a_geo_experiment_and_one_whose_deals_are_all_open(tmp_path):
    # six regions (the opportunities' segment column region), three per arm; one deal per
    # region in the window: treated R1 R2 R3 worth 300 400 500, control R4 R5 R6 100 200 300;
    # every deal still open at as-of
    regions = [("R1", "treatment", 300), ("R2", "treatment", 400), ("R3", "treatment", 500)]
    regions += [("R4", "control", 100), ("R5", "control", 200), ("R6", "control", 300)]
    write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [(f"t-{r}", "2026-01-05T00:00:00Z", f"acc-{r}", "email") for r, *_ in regions],
    )
    write_csv(
        tmp_path / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount", "region"],
        [(f"o-{r}", f"acc-{r}", "2026-03-15T00:00:00Z", "", "Open", amount, r) for r, _, amount in regions],
    )
    write_csv(
        tmp_path / "experiments.csv",
        ["experiment_id", "channel", "unit", "geo_column", "start_at", "end_at"],
        [("g1", "ads", "geo", "region", "2026-03-01", "2026-03-31")],
    )
    write_csv(
        tmp_path / "assignments.csv",
        ["experiment_id", "unit_id", "arm"],
        [("g1", r, arm) for r, arm, _ in regions],
    )
    sources = SourcePaths(
        tmp_path / "touches.csv",
        tmp_path / "opportunities.csv",
        experiments=tmp_path / "experiments.csv",
        experiment_assignments=tmp_path / "assignments.csv",
    )
    conn = duckdb.connect()
    run_pipeline(conn, sources, CONFIG.with_settings(segment_columns=("region",)))
    result = _result(conn, "g1", "pipeline")
    # means 400 and 200 per region: lift 200; no pre-period pipeline, so theta 0
    assert (result["treatment_mean"], result["control_mean"], result["lift"]) == (400.0, 200.0, 200.0)
    assert result["cuped_lift"] == pytest.approx(200.0)
    assert result["open_share"] == 1.0
    assert "100% of the test's opportunities are still open at as-of" in result["warnings"]


def test_ratio_metrics_by_hand(experiment_run):
    # deals created in e1's window: treated t1 won (100), t2 lost, t4 open; control c1 won
    # (100), c4 lost: win rates 1/2 and 1/2, average won deal 100 and 100
    win = _result(experiment_run, "e1", "win_rate")
    assert (win["treatment_mean"], win["control_mean"], win["lift"]) == (0.5, 0.5, 0.0)
    # two closed deals per arm are too few for a ratio's bootstrap: no interval, no decision
    assert win["low"] is None and win["decision"] == "no_decision"
    assert "too few units in the denominator for an interval: 2 treated, 2 control" in win["warnings"]
    size = _result(experiment_run, "e1", "average_deal_size")
    assert (size["treatment_mean"], size["control_mean"], size["lift"]) == (100.0, 100.0, 0.0)
    # e5 has no deal at all: no ratio, said so
    none = _result(experiment_run, "e5", "win_rate")
    assert none["lift"] is None and none["decision"] == "no_decision" and "no ratio" in none["warnings"]
