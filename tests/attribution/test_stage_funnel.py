"""The opportunity history input and the stage funnel built from it (issue 26, first part).

A dozen deals, all created on 2026-03-01 (one cohort), funnel stages Discovery (1),
Qualified (2), Proposal (3), Closed Won (4) by the setting stage_order; every figure below is
counted by hand from the rows written here (the comments say which deals).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.checks import row_accounting_violations
from attribution.config import AttributionConfig
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

AS_OF = datetime(2026, 6, 1)
CONFIG = AttributionConfig.from_settings(
    as_of=AS_OF,
    run_started_at=datetime(2026, 7, 1),  # the run's clock: as-of is a month back
    interval_replicates=0,
    stage_order=("Discovery", "Qualified", "Proposal", "Closed Won"),
)
CREATED = "2026-03-01T00:00:00Z"
# (deal, sourced channel: its account's first touch, stage, closed_at); d1 also has an ads touch
DEALS = [
    ("d1", "email", "Closed Won", "2026-03-20T00:00:00Z"),
    ("d2", "email", "Closed Lost", "2026-03-15T00:00:00Z"),
    ("d3", "email", "Qualified", "2026-07-01"),
    ("d4", "email", "Closed Won", "2026-03-25T00:00:00Z"),
    ("d5", "email", "Qualified", "2026-07-01"),
    ("d6", "email", "Discovery", "2026-07-01"),
    ("d7", "ads", "Closed Won", "2026-03-04T00:00:00Z"),
    ("d8", "ads", "Discovery", "2026-07-01"),
    ("d9", "ads", "Qualified", "2026-07-01"),
    ("d10", "ads", "Closed Won", "2026-03-30T00:00:00Z"),
    ("d11", "ads", "Closed Lost", "2026-03-05T00:00:00Z"),
    ("d12", None, "Qualified", "2026-07-01"),
]
HISTORY = [
    # d1: every stage in order
    ("d1", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d1", "2026-03-05T00:00:00Z", "Qualified", "100"),
    ("d1", "2026-03-10T00:00:00Z", "Proposal", "100"),
    ("d1", "2026-03-20T00:00:00Z", "Closed Won", "100"),
    # d2: skips Qualified, then lost
    ("d2", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d2", "2026-03-06T00:00:00Z", "Proposal", "100"),
    ("d2", "2026-03-15T00:00:00Z", "Closed Lost", "100"),
    # d3: qualified, back to Discovery (a regression), qualified again
    ("d3", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d3", "2026-03-03T00:00:00Z", "Qualified", "100"),
    ("d3", "2026-03-04T00:00:00Z", "Discovery", "100"),
    ("d3", "2026-03-08T00:00:00Z", "Qualified", "100"),
    # d4: lost, reopened, won
    ("d4", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d4", "2026-03-09T00:00:00Z", "Closed Lost", "100"),
    ("d4", "2026-03-12T00:00:00Z", "Qualified", "100"),
    ("d4", "2026-03-25T00:00:00Z", "Closed Won", "100"),
    # d5: the amount changes after qualification (same stage: no new stay)
    ("d5", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d5", "2026-03-04T00:00:00Z", "Qualified", "100"),
    ("d5", "2026-03-06T00:00:00Z", "Qualified", "150"),
    # d6 and d10: no history (d6 open, d10 won: created and closed stand in)
    ("d7", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d7", "2026-03-02T00:00:00Z", "Qualified", "100"),
    ("d7", "2026-03-03T00:00:00Z", "Proposal", "100"),
    ("d7", "2026-03-04T00:00:00Z", "Closed Won", "100"),
    # d8: qualified only after as-of (counted, not staged): still in Discovery at as-of
    ("d8", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d8", "2026-06-15T00:00:00Z", "Qualified", "100"),
    ("d9", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d9", "2026-03-11T00:00:00Z", "Qualified", "100"),
    ("d11", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d11", "2026-03-05T00:00:00Z", "Closed Lost", "100"),
    ("d12", "2026-03-01T00:00:00Z", "Discovery", "100"),
    ("d12", "2026-03-02T00:00:00Z", "Qualified", "100"),
]
# the rows that contradict the deals or are unreadable, with the reason each gets
BAD_HISTORY = [
    (("d99", "2026-03-02T00:00:00Z", "Discovery", "100"), "unknown_opportunity"),
    (("d1", "2026-02-20T00:00:00Z", "Discovery", "100"), "changed_before_created"),
    (("d8", "2026-03-03T00:00:00Z", "Negotiation", "100"), "unknown_stage"),
    (("d9", "yesterday", "Discovery", "100"), "bad_timestamp"),
    (("d7", "2026-03-01T12:00:00Z", "Discovery", "-5"), "bad_amount"),
    (("d3", "2026-03-02T00:00:00Z", "", "100"), "missing_required"),
    (("d7", "2026-03-01T00:00:00Z", "Discovery", "100"), "duplicate_id"),
]


def _world(folder: Path) -> SourcePaths:
    accounts = {deal: f"acc-{deal}" for deal, *_ in DEALS}
    write_csv(
        folder / "touchpoints.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            *(
                (f"t-{deal}", "2026-02-25T00:00:00Z", accounts[deal], channel)
                for deal, channel, *_ in DEALS
                if channel
            ),
            # d1's account also clicked an ad after its email: first touch email, last touch ads
            ("t-d1-ads", "2026-02-27T00:00:00Z", accounts["d1"], "ads"),
        ],
    )
    write_csv(
        folder / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        # every deal is worth 100 but d5, whose amount went to 150 on 2026-03-06 (its history)
        [
            (deal, accounts[deal], CREATED, closed, stage, 150 if deal == "d5" else 100)
            for deal, _, stage, closed in DEALS
        ],
    )
    write_csv(
        folder / "history.csv",
        ["opportunity_id", "changed_at", "stage", "amount"],
        [*HISTORY, *(row for row, _ in BAD_HISTORY)],
    )
    return SourcePaths(
        folder / "touchpoints.csv", folder / "opportunities.csv", opportunity_history=folder / "history.csv"
    )


@pytest.fixture(scope="module")
def funnel_run(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path_factory.mktemp("funnel")), CONFIG)
    return conn


def test_history_rows_are_staged_quarantined_with_a_reason_or_counted(funnel_run):
    audit = funnel_run.sql(
        "select raw_rows, staged_rows, quarantined_rows, after_as_of_rows from load_audit "
        "where source = 'opportunity_history'"
    ).fetchall()
    # 31 good rows (one of them, d8's qualification, after as-of) and 7 bad ones
    assert audit == [(len(HISTORY) + len(BAD_HISTORY), len(HISTORY) - 1, len(BAD_HISTORY), 1)]
    reasons = funnel_run.sql(
        "select reason, count(*) from quarantine where source = 'opportunity_history' group by 1"
    ).fetchall()
    assert dict(reasons) == {reason: 1 for _, reason in BAD_HISTORY}
    assert row_accounting_violations(funnel_run, "opportunity_history").is_empty()


def _funnel(
    conn: duckdb.DuckDBPyConnection,
    channel: str,
    basis: str = "sourced",
    grain: str = "all",
    cohort: str = "(all)",
) -> list[tuple[object, ...]]:
    return conn.sql(
        "select stage_label, cohort_opportunities, reached_opportunities, "
        "round(cumulative_conversion, 6), round(next_step_conversion, 6) from mart_stage_funnel "
        "where cohort_grain = ? and cohort = ? and channel_basis = ? and channel = ? order by stage_position",
        params=[grain, cohort, basis, channel],
    ).fetchall()


def test_the_funnel_by_hand(funnel_run):
    # the furthest stage each deal entered by as-of: d1 4, d2 3 (skipped 2), d3 2 (a
    # regression does not undo a reach), d4 4 (reopened after a loss), d5 2, d6 1 (no history:
    # its creation), d7 4, d8 1 (qualified after as-of), d9 2, d10 4 (no history, won: its
    # close), d11 1, d12 2. Reached = entered the stage or a later one.
    assert _funnel(funnel_run, "(all channels)") == [
        ("Discovery", 12, 12, 1.0, None),
        ("Qualified", 12, 9, round(9 / 12, 6), round(9 / 12, 6)),
        ("Proposal", 12, 5, round(5 / 12, 6), round(5 / 9, 6)),
        ("Closed Won", 12, 4, round(4 / 12, 6), round(4 / 5, 6)),
    ]
    # by sourced channel (each account's one touch): email d1-d6 reach 4 3 2 4 2 1, ads d7-d11
    # 4 1 2 4 1, d12 has no touch: (none)
    assert [row[2] for row in _funnel(funnel_run, "email")] == [6, 5, 3, 2]
    assert [row[2] for row in _funnel(funnel_run, "ads")] == [5, 3, 2, 2]
    assert [row[2] for row in _funnel(funnel_run, "(none)")] == [1, 1, 0, 0]
    # one cohort: its month's and its fiscal quarter's rows are the all-months rows
    everything = _funnel(funnel_run, "(all channels)")
    assert _funnel(funnel_run, "(all channels)", grain="month", cohort="2026-03-01") == everything
    assert _funnel(funnel_run, "(all channels)", grain="fiscal_quarter", cohort="FY2026-Q1") == everything
    assert _funnel(funnel_run, "(all channels)", basis="influenced") == everything


def test_the_funnel_by_influencing_channel_by_hand(funnel_run):
    # a deal counts under every channel its pipeline journey touched: ads touched d1 (after
    # its email) and d7-d11, reaching 4 4 1 2 4 1; email d1-d6 as sourced; d12 none
    assert [row[2] for row in _funnel(funnel_run, "ads", basis="influenced")] == [6, 4, 3, 3]
    assert [row[2] for row in _funnel(funnel_run, "email", basis="influenced")] == [6, 5, 3, 2]
    assert [row[2] for row in _funnel(funnel_run, "(none)", basis="influenced")] == [1, 1, 0, 0]


def test_time_to_enter_and_time_in_stage_by_hand(funnel_run):
    days = dict(
        funnel_run.sql(
            "select stage_label, [median_days_to_enter, median_days_in_stage] from mart_stage_funnel "
            "where cohort_grain = 'all' and channel_basis = 'sourced' and channel = '(all channels)'"
        ).fetchall()
    )
    # days from creation to first entering Qualified: d1 4, d3 2, d4 11, d5 3, d7 1, d9 10,
    # d12 1 -> median 3 (d2 skipped it; d10's fallback has no Qualified entry)
    assert days["Qualified"][0] == pytest.approx(3.0)
    # days in Discovery over ended stays: d1 4, d2 5, d3 2 + 4, d4 8 (until its loss), d5 3,
    # d7 1, d9 10, d11 4, d12 1 -> median 4 (d8 is still there; d6, d10 have no history)
    assert days["Discovery"][1] == pytest.approx(4.0)
    # nobody leaves Closed Won
    assert days["Closed Won"][1] is None
    # p90 of the nine deals' days in Discovery (1 1 3 4 4 5 6 8 10; d3 6 over two stays): 0.9 x 8 = 7.2,
    # 8 + 0.2 x (10 - 8) = 8.4
    p90 = funnel_run.sql(
        "select p90_days_in_stage from mart_stage_funnel where cohort_grain = 'all' and channel_basis = 'sourced' "
        "and channel = '(all channels)' and stage_label = 'Discovery'"
    ).fetchall()
    assert p90 == [(pytest.approx(8.4),)]


def test_deals_without_history_fall_back_to_created_and_closed(funnel_run):
    rows = funnel_run.sql(
        "select opportunity_id, stage_label from int_stage_entries where not is_from_history order by all"
    ).fetchall()
    assert rows == [("d10", "Closed Won"), ("d10", "Discovery"), ("d6", "Discovery")]


def test_without_a_history_input_every_deal_falls_back(tmp_path):
    sources = _world(tmp_path)
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(sources.touchpoints, sources.opportunities), CONFIG)
    # each deal entered Discovery at creation; the four won ones (d1, d4, d7, d10) Closed Won
    assert [row[2] for row in _funnel(conn, "(all channels)")] == [12, 4, 4, 4]
    assert conn.sql("select count(*) from int_stage_entries where is_from_history").fetchall() == [(0,)]


def test_the_report_reads_the_funnel_in_one_sentence(funnel_run, tmp_path):
    from attribution.export import export_marts
    from attribution.html_report import write_report
    from attribution.restatements import build_restatements, take_snapshot

    take_snapshot(funnel_run, "run-1", CONFIG)  # the report shows the run history and manifest
    build_restatements(funnel_run)
    export_marts(funnel_run, tmp_path, CONFIG)
    html = write_report(funnel_run, tmp_path, CONFIG).path.read_text(encoding="utf-8")
    assert (tmp_path / "mart_stage_funnel.csv").exists()
    # 4 of 12 won (33%); next-step conversions 9/12, 5/9, 4/5: the fewest (56%) move on from
    # Qualified to Proposal; days to Closed Won: d7 3, d1 19, d4 24, d10 29 -> median 21.5
    assert (
        "Of 12 deals created, 33% reached Closed Won; the fewest move on from Qualified to Proposal "
        "(56%); a won deal took a median of 22 days from creation." in html
    )
    assert 'href="#funnel"' in html and "table-funnel-channels" in html and "table-velocity" in html


def _by_model(conn: duckdb.DuckDBPyConnection, credited_by: str, channel: str) -> list[tuple[object, ...]]:
    return conn.sql(
        "select stage_label, round(deals, 6), round(reached_deals, 6) from mart_stage_funnel_by_model "
        "where credited_by = ? and channel = ? order by stage_position",
        params=[credited_by, channel],
    ).fetchall()


def test_the_funnel_under_two_models_by_hand(funnel_run):
    # every account has one touch but d1's (email, then ads): linear gives d1 half to each,
    # last_touch all of d1 to ads. ads deals: d7 (reached 4), d8 (1), d9 (2), d10 (4), d11 (1)
    assert _by_model(funnel_run, "linear", "ads") == [
        ("Discovery", 5.5, 5.5),
        ("Qualified", 5.5, 3.5),  # d7, d9, d10 and half of d1
        ("Proposal", 5.5, 2.5),  # d7, d10, half of d1
        ("Closed Won", 5.5, 2.5),
    ]
    assert _by_model(funnel_run, "last_touch", "ads") == [
        ("Discovery", 6.0, 6.0),
        ("Qualified", 6.0, 4.0),
        ("Proposal", 6.0, 3.0),
        ("Closed Won", 6.0, 3.0),
    ]
    # email without d1 under last touch: d2 (3), d3 (2), d4 (4), d5 (2), d6 (1)
    assert _by_model(funnel_run, "last_touch", "email")[3] == ("Closed Won", 5.0, 1.0)
    # sourced: d1 is email's (its first touch), as under first_touch
    assert _by_model(funnel_run, "sourced", "email") == _by_model(funnel_run, "first_touch", "email")
    # per model the channels' reached worth sums to the deals that reached the stage
    totals = funnel_run.sql(
        "select credited_by, stage_position, round(sum(reached_deals), 6) from mart_stage_funnel_by_model "
        "group by all"
    ).fetchall()
    reached = dict(
        funnel_run.sql(
            "select stage_position, reached_opportunities from mart_stage_funnel "
            "where cohort_grain = 'all' and channel_basis = 'sourced' and channel = '(all channels)'"
        ).fetchall()
    )
    assert all(total == reached[position] for _, position, total in totals)


def test_win_rate_deal_size_cycle_and_velocity_by_hand(funnel_run):
    rows = funnel_run.sql(
        "select deals, won_deals, closed_deals, win_rate, average_deal_size, sales_cycle_days, "
        "pipeline_velocity_per_day from mart_channel_velocity where credited_by = 'linear' and channel = 'ads'"
    ).fetchall()
    # linear, ads: deals d7-d11 and half of d1 = 5.5; won d7, d10 and half of d1 = 2.5; closed
    # also d11 (lost) = 3.5; every deal is worth 100; cycles of the won: d7 3 days, d10 29,
    # d1 19 (half) -> (3 + 29 + 9.5) / 2.5 = 16.6 days
    deals, won, closed, win_rate, size, cycle, velocity = rows[0]
    assert (deals, won, closed) == pytest.approx((5.5, 2.5, 3.5))
    assert win_rate == pytest.approx(2.5 / 3.5)
    assert size == pytest.approx(100.0)
    assert cycle == pytest.approx(16.6)
    assert velocity == pytest.approx(5.5 * (2.5 / 3.5) * 100.0 / 16.6)
    # every credited_by weighs all twelve deals once
    sums = funnel_run.sql(
        "select credited_by, round(sum(deals), 9) from mart_channel_velocity where channel <> '(all channels)' "
        "group by 1"
    ).fetchall()
    assert {total for _, total in sums} == {12.0}


def test_a_past_as_of_takes_each_deal_as_it_stood_then(tmp_path):
    # a hand-made snapshot of 2026-03-10 noon from the history above: d4 had been lost on
    # 03-09 (won only on 03-25), d7 won on 03-04, d11 lost on 03-05; the rest open (d2 lost
    # only on 03-15, d10, without history, closed after the day); d5 worth 150 since 03-06
    sources = _world(tmp_path)
    conn = duckdb.connect()
    run_pipeline(conn, sources, CONFIG.with_settings(as_of=datetime(2026, 3, 10, 12)))
    stages = dict(conn.sql("select opportunity_id, stage from stg_opportunities").fetchall())
    closed = {deal: stage for deal, stage in stages.items() if stage != "open"}
    assert closed == {"d4": "closed_lost", "d7": "closed_won", "d11": "closed_lost"}
    assert len(stages) == 12
    when = dict(
        conn.sql("select opportunity_id, closed_at from stg_opportunities where stage <> 'open'").fetchall()
    )
    assert when["d4"] == datetime(2026, 3, 9)  # the history's loss, not the export's later win
    amounts = dict(conn.sql("select opportunity_id, pipeline_amount from stg_opportunities").fetchall())
    assert amounts["d5"] == 150
    # on 03-05 d5 was still worth 100: its change came later
    earlier = duckdb.connect()
    run_pipeline(earlier, sources, CONFIG.with_settings(as_of=datetime(2026, 3, 5, 12)))
    assert earlier.sql(
        "select pipeline_amount from stg_opportunities where opportunity_id = 'd5'"
    ).fetchall() == [(100,)]
    # today (as-of 06-01) the export and the history agree: d4 won, d5 at 150
    today = duckdb.connect()
    run_pipeline(today, sources, CONFIG)
    rows = dict(
        today.sql(
            "select opportunity_id, stage from stg_opportunities where opportunity_id in ('d4', 'd5')"
        ).fetchall()
    )
    assert rows == {"d4": "closed_won", "d5": "open"}
    # the revenue of the snapshot is the one deal won by then
    won = conn.sql("select sum(revenue_amount) from stg_opportunities where stage = 'closed_won'").fetchall()
    assert won == [(100,)]


def _qualified(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[object, ...]]:
    return {
        row[0]: row[1:]
        for row in conn.sql(
            "select opportunity_id, is_converted, event_at, journey_amount from int_journeys "
            "where journey_kind = 'qualified'"
        ).fetchall()
    }


def test_qualified_journeys_end_when_a_deal_reached_the_qualification_stage(funnel_run):
    # no preset and no qualified_stage: Salesforce's Needs Analysis is no stage here, so the
    # funnel's second stage, Qualified, qualifies. Qualified by as-of (entered Qualified or a
    # later stage): d1 03-05, d2 03-06 (skipped to Proposal), d3 03-03 (its first entry, not
    # the one after its regression), d4 03-12 (after its loss and reopening), d5 03-04, d7
    # 03-02, d9 03-11, d10 (no history, won: its close 03-30), d12 03-02. d6 (no history,
    # open) and d8 (qualified after as-of) are not qualified and open: no journey; d11 was
    # lost without qualifying: a null path up to its close.
    qualified = _qualified(funnel_run)
    converted = {deal: when for deal, (ok, when, _) in qualified.items() if ok}
    assert converted == {
        "d1": datetime(2026, 3, 5),
        "d2": datetime(2026, 3, 6),
        "d3": datetime(2026, 3, 3),
        "d4": datetime(2026, 3, 12),
        "d5": datetime(2026, 3, 4),
        "d7": datetime(2026, 3, 2),
        "d9": datetime(2026, 3, 11),
        "d10": datetime(2026, 3, 30),
        "d12": datetime(2026, 3, 2),
    }
    assert {deal for deal, (ok, *_) in qualified.items() if not ok} == {"d11"}
    # the same count as the funnel's reach of Qualified (9 of 12)
    assert len(converted) == 9


def test_qualified_pipeline_under_two_models_reconciles(funnel_run):
    from attribution.checks import credit_conservation_violations, unreconciled_cuts, unreconciled_rows
    from attribution.report import headline_totals

    # the nine qualified deals are worth 100 each but d5 (150): 950
    totals = headline_totals(funnel_run)
    assert (totals["qualified_pipeline"], totals["qualified_opportunities"]) == (950.0, 9.0)
    # influenced: every qualified deal but d12 (no touch)
    assert totals["influenced_qualified_pipeline"] == 850.0
    by_model = dict(
        funnel_run.sql(
            "select model || '/' || channel, attributed_amount from mart_channel_comparison "
            "where journey_kind = 'qualified' and model in ('last_touch', 'linear')"
        ).fetchall()
    )
    # last touch: ads holds d1 (its ads click came last), d7, d9, d10; email d2, d3, d4, d5
    # (150); d12 none. Linear: d1 halved between email and ads.
    assert by_model == pytest.approx(
        {
            "last_touch/ads": 400.0,
            "last_touch/email": 450.0,
            "last_touch/(none)": 100.0,
            "linear/ads": 350.0,
            "linear/email": 500.0,
            "linear/(none)": 100.0,
        }
    )
    assert credit_conservation_violations(funnel_run).is_empty()
    assert unreconciled_rows(funnel_run).is_empty()
    assert unreconciled_cuts(funnel_run).is_empty()
    kinds = funnel_run.sql(
        "select distinct journey_kind from mart_reconciliation where is_reconciled order by 1"
    ).fetchall()
    assert kinds == [("pipeline",), ("qualified",), ("revenue",)]


def test_qualified_at_a_past_as_of(tmp_path):
    # as-of 2026-03-10 noon: qualified then were d1, d2, d3, d5, d7, d12 (d4 only on 03-12,
    # d9 on 03-11, d10 closes on 03-30); d4 (lost 03-09) and d11 (lost 03-05) had been lost
    # without qualifying: null paths
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path), CONFIG.with_settings(as_of=datetime(2026, 3, 10, 12)))
    qualified = _qualified(conn)
    assert {deal for deal, (ok, *_) in qualified.items() if ok} == {"d1", "d2", "d3", "d5", "d7", "d12"}
    assert {deal for deal, (ok, *_) in qualified.items() if not ok} == {"d4", "d11"}


def test_without_history_or_when_left_out_there_are_no_qualified_journeys(tmp_path):
    sources = _world(tmp_path)
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(sources.touchpoints, sources.opportunities), CONFIG)
    assert _qualified(conn) == {}
    assert conn.sql("select count(*) from stg_opportunities where qualified_at is not null").fetchall() == [
        (0,)
    ]
    left_out = duckdb.connect()
    run_pipeline(left_out, sources, CONFIG.with_settings(journey_kinds=("pipeline", "revenue")))
    assert _qualified(left_out) == {}
    kinds = left_out.sql("select distinct journey_kind from int_attribution_credits order by 1").fetchall()
    assert kinds == [("pipeline",), ("revenue",)]


def test_a_qualified_stage_that_is_no_funnel_stage_is_a_clear_error():
    with pytest.raises(ValueError, match="qualified_stage 'SQL' is no stage of the funnel"):
        CONFIG.with_settings(qualified_stage="SQL")


def test_velocity_intervals_are_the_replicates_recomputed_by_hand(tmp_path):
    import numpy as np

    from attribution.config import JOURNEY_KINDS
    from attribution.intervals_replicates import poisson_blocks

    config = CONFIG.with_settings(interval_replicates=200, interval_seed=7)
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path), config)
    # the engine's replicate weights: seeded Poisson(1) draws per deal sorted by id, the same
    # draws the pipeline credit intervals use; recomputed here one replicate at a time with
    # plain sums over linear's ads shares of int_deal_credits
    deals = sorted(
        row[0] for row in conn.sql("select distinct opportunity_id from int_deal_credits").fetchall()
    )
    ((_, weights),) = poisson_blocks(7, JOURNEY_KINDS.index("pipeline"), len(deals), 200)
    shares = conn.sql(
        "select opportunity_id, share, stage from int_deal_credits where credited_by = 'linear' and channel = 'ads'"
    ).fetchall()
    win_rates = []
    for replicate in range(200):
        weight = {deal: float(weights[i, replicate]) for i, deal in enumerate(deals)}
        won = sum(weight[deal] * share for deal, share, stage in shares if stage == "closed_won")
        closed = sum(weight[deal] * share for deal, share, stage in shares if stage != "open")
        if closed > 0:
            win_rates.append(won / closed)
    expected = np.quantile(win_rates, [0.05, 0.95])
    low, high = conn.sql(
        "select low, high from mart_velocity_intervals where credited_by = 'linear' and channel = 'ads' "
        "and figure = 'win_rate'"
    ).fetchall()[0]
    assert (low, high) == pytest.approx(tuple(expected))
    # every defined figure lies within its interval; a channel without a closed deal has no
    # win rate in any replicate: sourced (none) is d12 alone, open
    outside = conn.sql(
        """
        select count(*) from mart_velocity_intervals as i
        inner join mart_channel_velocity as v using (credited_by, channel)
        where (i.figure = 'win_rate' and v.win_rate not between i.low - 1e-9 and i.high + 1e-9)
            or (i.figure = 'pipeline_velocity_per_day'
                and v.pipeline_velocity_per_day not between i.low - 1e-9 and i.high + 1e-9)
        """
    ).fetchall()
    assert outside == [(0,)]
    assert conn.sql(
        "select low from mart_velocity_intervals where credited_by = 'sourced' and channel = '(none)' "
        "and figure = 'win_rate'"
    ).fetchall() == [(None,)]


def test_a_close_is_dated_by_its_closing_row_and_excluded_deals_history_is_counted(tmp_path):
    # n1 was won on 03-20 and its amount changed on 03-25 (still won): at as-of 04-01, with the
    # export's close date after as-of, the close is the history's 03-20, not its last row's
    # 03-25, and the amount the last given in its currency (120). n2 is a renewal the type filter leaves out:
    # its two history rows are counted as excluded, not quarantined as unknown.
    write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [("t1", "2026-02-25T00:00:00Z", "acc-n1", "email")],
    )
    write_csv(
        tmp_path / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount", "type"],
        [
            ("n1", "acc-n1", CREATED, "2026-05-01T00:00:00Z", "Closed Won", 120, "New Business"),
            ("n2", "acc-n2", CREATED, "", "Qualified", 50, "Renewal"),
        ],
    )
    write_csv(
        tmp_path / "history.csv",
        ["opportunity_id", "changed_at", "stage", "amount", "currency"],
        [
            ("n1", "2026-03-01T00:00:00Z", "Discovery", "100", None),
            ("n1", "2026-03-20T00:00:00Z", "Closed Won", "100", None),
            ("n1", "2026-03-25T00:00:00Z", "Closed Won", "120", None),
            # a row in another currency than the deal's (USD): its amount is not the deal's
            ("n1", "2026-03-26T00:00:00Z", "Closed Won", "999", "EUR"),
            ("n2", "2026-03-01T00:00:00Z", "Discovery", "50", None),
            ("n2", "2026-03-05T00:00:00Z", "Qualified", "50", None),
        ],
    )
    conn = duckdb.connect()
    config = CONFIG.with_settings(as_of=datetime(2026, 4, 1), excluded_opportunity_types=("renewal",))
    sources = SourcePaths(
        tmp_path / "touches.csv", tmp_path / "opportunities.csv", opportunity_history=tmp_path / "history.csv"
    )
    run_pipeline(conn, sources, config)
    assert conn.sql("select opportunity_id, stage, closed_at, amount from stg_opportunities").fetchall() == [
        ("n1", "closed_won", datetime(2026, 3, 20), 120.0)
    ]
    audit = conn.sql(
        "select raw_rows, staged_rows, quarantined_rows, excluded_rows from load_audit "
        "where source = 'opportunity_history'"
    ).fetchall()
    assert audit == [(6, 4, 0, 2)]
    assert row_accounting_violations(conn, "opportunity_history").is_empty()


def test_the_report_says_what_changed_between_the_last_two_quarters():
    from attribution.report_sections.funnel import _quarter_change

    conn = duckdb.connect()
    conn.sql(
        "create table mart_stage_funnel as select * from (values "
        "('fiscal_quarter', 'FY2026-Q1', 'sourced', '(all channels)', 'Qualified', 0.75, 3.0), "
        "('fiscal_quarter', 'FY2026-Q2', 'sourced', '(all channels)', 'Qualified', 0.5, 6.0), "
        "('fiscal_quarter', 'FY2026-Q2', 'influenced', 'ads', 'Qualified', 0.1, 1.0), "
        "('all', '(all)', 'sourced', '(all channels)', 'Qualified', 0.6, 4.0)) "
        "as t (cohort_grain, cohort, channel_basis, channel, stage_label, cumulative_conversion, "
        "median_days_to_enter)"
    )
    assert _quarter_change(conn, "Qualified") == (
        " Deals created in FY2026-Q2 reached Qualified at 50% (FY2026-Q1: 75%), in a median of "
        "6 days (3); the newer cohort has had less time to get there."
    )
    # one quarter only: nothing to compare
    conn.sql("delete from mart_stage_funnel where cohort = 'FY2026-Q1'")
    assert _quarter_change(conn, "Qualified") == ""
