"""The lead-quality funnel from the milestones input (mart_lead_funnel, issue 26).

Eight accounts with the default steps lead_created (1), mql (2), sal (3), sql (4), then the
account's first opportunity (5) and first won deal (6); every figure below is counted by hand
from the rows written here (the comments say which accounts).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

CONFIG = AttributionConfig.from_settings(
    as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 7, 1), interval_replicates=0
)
MILESTONES = [
    # a1 goes the whole way: lead, MQL, accepted, qualified, then an opportunity it wins
    ("a1", "lead_created", "2026-01-01T00:00:00Z"),
    ("a1", "MQL", "2026-01-03T00:00:00Z"),  # labels are keyed: MQL is mql
    ("a1", "sal", "2026-01-04T00:00:00Z"),
    ("a1", "sql", "2026-01-10T00:00:00Z"),
    ("a2", "lead_created", "2026-01-02T00:00:00Z"),
    ("a2", "mql", "2026-01-05T00:00:00Z"),  # never accepted
    ("a3", "lead_created", "2026-01-03T00:00:00Z"),
    ("a3", "mql", "2026-01-04T00:00:00Z"),
    ("a3", "sal", "2026-01-06T00:00:00Z"),  # accepted, never qualified
    ("a4", "lead_created", "2026-01-05T00:00:00Z"),
    # a5 enters as an MQL (no lead_created row) and gets an opportunity without sal / sql
    ("a5", "mql", "2026-01-07T00:00:00Z"),
    # a7, in February, is qualified straight from the lead
    ("a7", "lead_created", "2026-02-03T00:00:00Z"),
    ("a7", "sql", "2026-02-10T00:00:00Z"),
    ("a8", "lead_created", "2026-01-08T00:00:00Z"),
    ("a8", "mql", "2026-06-15T00:00:00Z"),  # after as-of: counted, not staged
    ("a8", "webinar_registered", "2026-01-09T00:00:00Z"),  # no step of the funnel
]
TOUCHES = [
    ("t1", "2025-12-30T00:00:00Z", "a1", "email"),
    ("t2", "2026-01-01T00:00:00Z", "a2", "ads"),
    ("t3", "2026-01-02T00:00:00Z", "a3", "ads"),
    ("t4", "2026-01-04T00:00:00Z", "a4", "email"),
    ("t5", "2026-01-08T00:00:00Z", "a5", "email"),  # after a5 entered: a5 is (none)'s
    ("t7", "2026-02-01T00:00:00Z", "a7", "ads"),
    ("t6", "2026-01-09T00:00:00Z", "a6", "ads"),
]
OPPORTUNITIES = [
    ("o1", "a1", "2026-01-20T00:00:00Z", "2026-02-20T00:00:00Z", "closed_won", 100),
    ("o5", "a5", "2026-01-09T00:00:00Z", "2026-01-30T00:00:00Z", "closed_lost", 100),
    # a6 has a deal but no milestone: no lead
    ("o6", "a6", "2026-01-10T00:00:00Z", "", "open", 100),
]


def _world(folder: Path) -> SourcePaths:
    write_csv(folder / "touchpoints.csv", ["touchpoint_id", "occurred_at", "account_id", "channel"], TOUCHES)
    write_csv(
        folder / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        OPPORTUNITIES,
    )
    write_csv(folder / "milestones.csv", ["account_id", "milestone", "occurred_at"], MILESTONES)
    return SourcePaths(
        folder / "touchpoints.csv", folder / "opportunities.csv", milestones=folder / "milestones.csv"
    )


@pytest.fixture(scope="module")
def lead_run(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path_factory.mktemp("leads")), CONFIG)
    return conn


def _funnel(
    conn: duckdb.DuckDBPyConnection, channel: str, month: str | None = None
) -> list[tuple[object, ...]]:
    return conn.sql(
        "select step, cohort_leads, reached_leads, round(next_step_conversion, 6) from mart_lead_funnel "
        "where cohort_month is not distinct from ?::date and first_touch_channel = ? order by step_position",
        params=[month, channel],
    ).fetchall()


def test_the_lead_funnel_by_hand(lead_run):
    # the furthest step each lead reached by as-of: a1 6, a2 2, a3 3, a4 1, a5 5 (its
    # opportunity: it counts as accepted and qualified), a7 4 (skipped mql and sal), a8 1 (its
    # MQL came after as-of); a6 is no lead. Reached = the step or any later one.
    assert _funnel(lead_run, "(all channels)") == [
        ("lead_created", 7, 7, None),
        ("mql", 7, 5, round(5 / 7, 6)),
        ("sal", 7, 4, round(4 / 5, 6)),  # the sales acceptance rate: 80%
        ("sql", 7, 3, round(3 / 4, 6)),
        ("opportunity", 7, 2, round(2 / 3, 6)),
        ("closed_won", 7, 1, round(1 / 2, 6)),
    ]
    # by the first touch at or before the lead's first step: ads a2, a3, a7; email a1, a4;
    # (none) a5 (its touch came after) and a8 (no touch)
    assert [row[2] for row in _funnel(lead_run, "ads")] == [3, 3, 2, 1, 0, 0]
    assert [row[2] for row in _funnel(lead_run, "email")] == [2, 1, 1, 1, 1, 1]
    assert [row[2] for row in _funnel(lead_run, "(none)")] == [2, 1, 1, 1, 1, 0]
    # cohorts by the month of the first step: January a1-a5, a8; February a7
    assert [row[2] for row in _funnel(lead_run, "(all channels)", "2026-02-01")] == [1, 1, 1, 1, 0, 0]
    assert _funnel(lead_run, "(all channels)", "2026-01-01")[0][1] == 6


def test_time_to_qualification_by_hand(lead_run):
    days = dict(
        lead_run.sql(
            "select step, [median_days_to_reach, p90_days_to_reach] from mart_lead_funnel "
            "where cohort_month is null and first_touch_channel = '(all channels)'"
        ).fetchall()
    )
    # days from the first step to the sql milestone: a1 9 (01-01 to 01-10), a7 7 -> median 8;
    # p90 interpolates: 7 + 0.9 x 2 = 8.8 (a5 counts as qualified, but has no sql moment)
    assert days["sql"] == pytest.approx([8.0, 8.8])
    # to mql: a1 2, a2 3, a3 1, a5 0 (its first step) -> median 1.5
    assert days["mql"][0] == pytest.approx(1.5)
    # to the first opportunity: a1 19, a5 2 -> 10.5
    assert days["opportunity"][0] == pytest.approx(10.5)


def test_steps_follow_the_setting(tmp_path):
    conn = duckdb.connect()
    config = CONFIG.with_settings(lead_funnel_milestones=("lead_created", "sql"))
    run_pipeline(conn, _world(tmp_path), config)
    # steps lead_created, sql, opportunity, won; a5's only milestone (mql) is no step now, so
    # a5 is no lead: a1 reached 4, a7 2, a2, a3, a4 and a8 1
    assert [row[2] for row in _funnel(conn, "(all channels)")] == [6, 2, 1, 1]


def test_without_milestones_the_lead_funnel_is_empty(tmp_path):
    sources = _world(tmp_path)
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(sources.touchpoints, sources.opportunities), CONFIG)
    assert conn.sql("select count(*) from mart_lead_funnel").fetchall() == [(0,)]


def test_repeated_or_unknown_lead_funnel_steps_are_a_clear_error():
    with pytest.raises(ValueError, match="lead_funnel_milestones must name distinct milestones"):
        CONFIG.with_settings(lead_funnel_milestones=("mql", "MQL"))
    with pytest.raises(ValueError, match="opportunity and closed_won follow them"):
        CONFIG.with_settings(lead_funnel_milestones=("mql", "opportunity"))


def test_the_report_reads_the_lead_funnel_in_one_sentence(lead_run):
    from attribution.report_sections.funnel import _leads

    leads = _leads(lead_run)
    assert leads is not None
    # next-step conversions 5/7, 4/5, 3/4, 2/3, 1/2; median days to sql 8 (above)
    assert leads["reading"] == (
        "Of 7 leads, 71% reached mql, and of each step the next: 80% sal, 75% sql, "
        "67% an opportunity, 50% a won deal; reaching sql took a median of 8 days from the first step."
    )


def test_mql_is_a_journey_kind_every_model_runs_on(tmp_path):
    from attribution.checks import credit_conservation_violations, unreconciled_cuts, unreconciled_rows
    from attribution.report_sections.comparison import _milestone_gap

    conn = duckdb.connect()
    config = CONFIG.with_settings(journey_kinds=("pipeline", "revenue", "mql"))
    run_pipeline(conn, _world(tmp_path), config)
    journeys = conn.sql(
        "select opportunity_id, is_converted, touch_count from int_journeys where journey_kind = 'mql' order by all"
    ).fetchall()
    # MQLs by as-of: a1 (01-03), a2, a3, a5 (a8's came after as-of), each worth 1 with the
    # touches of the lookback before it (a5's only touch came after: none). Leads without an
    # MQL whose first step is over a lookback old are null paths up to a lookback after it:
    # a4 (its email touch), a7 (ads), a8 (no touch)
    assert journeys == [
        ("mql:a1", True, 1),
        ("mql:a2", True, 1),
        ("mql:a3", True, 1),
        ("mql:a4", False, 1),
        ("mql:a5", True, 0),
        ("mql:a7", False, 1),
        ("mql:a8", False, 0),
    ]
    credited = dict(
        conn.sql(
            "select model || '/' || channel, attributed_amount from mart_channel_comparison "
            "where journey_kind = 'mql' and model in ('linear', 'markov')"
        ).fetchall()
    )
    # linear: a1 email, a2 and a3 ads, a5 (none). Markov, order 1, by hand: paths email+, ads+,
    # ads+ converting, email-, ads- not; P(conversion) 3/5; without email 2/5 (removal effect
    # 1/3), without ads 1/5 (2/3): the three touched MQLs split 1 : 2
    assert credited == pytest.approx(
        {
            "linear/email": 1.0,
            "linear/ads": 2.0,
            "linear/(none)": 1.0,
            "markov/email": 1.0,
            "markov/ads": 2.0,
            "markov/(none)": 1.0,
        }
    )
    assert credit_conservation_violations(conn).is_empty()
    assert unreconciled_rows(conn).is_empty()
    assert unreconciled_cuts(conn).is_empty()
    # how far each channel's MQLs went under linear: a1 (email) reached 6, a2 (ads) 2, a3 (ads)
    # 3, a5 ((none)) 5; from mql (2) to closed_won (6)
    reach = conn.sql(
        "select channel, list(reached_milestones order by step_position) from mart_lead_funnel_by_model "
        "where journey_kind = 'mql' and credited_by = 'linear' group by channel"
    ).fetchall()
    assert dict(reach) == {
        "email": [1.0, 1.0, 1.0, 1.0, 1.0],
        "ads": [2.0, 1.0, 0.0, 0.0, 0.0],
        "(none)": [1.0, 1.0, 1.0, 1.0, 0.0],
    }
    # the won revenue is a1's, all email's: ads has half the MQLs and none of the revenue
    assert _milestone_gap(conn, ["pipeline", "revenue", "mql"]) == (
        "ads earns 50.0% of the mql milestones but 0.0% of the won revenue (linear): the channel "
        "that creates mqls most beyond what it wins."
    )


def test_a_journey_kind_named_after_a_funnel_step_that_is_no_milestone_is_an_error():
    with pytest.raises(ValueError, match="not opportunity or closed_won"):
        CONFIG.with_settings(journey_kinds=("pipeline", "revenue", "opportunity"))


def test_a_milestone_can_qualify_deals(tmp_path):
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path), CONFIG.with_settings(qualified_milestone="SQL"))
    qualified = conn.sql(
        "select opportunity_id, is_converted, event_at from int_journeys where journey_kind = 'qualified' order by 1"
    ).fetchall()
    # o1: a1's sql (01-10) came before the deal's creation (01-20): qualified at its creation;
    # o5 (a5, no sql) was lost unqualified: a null path to its close; o6 (a6) is open, no sql
    assert qualified == [
        ("o1", True, datetime(2026, 1, 20)),
        ("o5", False, datetime(2026, 1, 30)),
    ]
