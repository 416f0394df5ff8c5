"""The campaign and any-touch influence marts on a hand-built world; numbers worked out here."""

from __future__ import annotations

from datetime import datetime

import pytest

from attribution.config import AttributionConfig
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv


@pytest.fixture
def world(conn, tmp_path):
    # o1 (100): event (no campaign) on day 1, email campaign B day 2, email campaign A day 3;
    # o2 (50): email campaign A; o3 (10): no touch.
    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel", "campaign"],
        [
            ["e1", "2026-03-01T00:00:00Z", "acme", "event", None],
            ["b1", "2026-03-02T00:00:00Z", "acme", "email", "B"],
            ["a1", "2026-03-03T00:00:00Z", "acme", "email", "A"],
            ["a2", "2026-03-03T00:00:00Z", "globex", "email", "A"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [
            ["o1", "acme", "2026-03-10", "open", "100"],
            ["o2", "globex", "2026-03-10", "open", "50"],
            ["o3", "initech", "2026-03-10", "open", "10"],
        ],
    )
    config = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1))
    run_pipeline(conn, SourcePaths(touches, opportunities), config)
    return conn


def test_a_journey_touching_two_campaigns_of_one_channel(world):
    # linear: o1 gives a third of 100 to each touch; o2 gives 50 to email/A; o3's 10 to (none)
    rows = world.sql(
        "select channel, campaign, attributed_amount from mart_campaign_comparison "
        "where journey_kind = 'pipeline' and model = 'linear'"
    ).fetchall()
    got = {(channel, campaign): amount for channel, campaign, amount in rows}
    assert got == pytest.approx(
        {
            ("email", "A"): 100 / 3 + 50,
            ("email", "B"): 100 / 3,
            ("event", "(no campaign)"): 100 / 3,
            ("(none)", "(none)"): 10.0,
        }
    )
    # every model's campaign rows add up to the pipeline (160)
    totals = world.sql(
        "select model, sum(attributed_amount) from mart_campaign_comparison where journey_kind = 'pipeline' group by 1"
    ).fetchall()
    assert all(total == pytest.approx(160.0) for _, total in totals)


def test_campaign_influence_counts_each_touched_campaign_fully(world):
    # o1 (100) touched email/A, email/B and event without a campaign; o2 (50) email/A: A
    # influenced 150 over 2 opportunities, B and (no campaign) 100 each; not additive (350 > 150)
    rows = world.sql(
        "select channel, campaign, influenced_amount, influenced_opportunities from mart_campaign_influence "
        "where journey_kind = 'pipeline'"
    ).fetchall()
    assert {(c, k): (a, n) for c, k, a, n in rows} == {
        ("email", "A"): (150.0, 2),
        ("email", "B"): (100.0, 1),
        ("event", "(no campaign)"): (100.0, 1),
    }


def test_a_channel_that_touches_much_but_is_credited_little(world):
    # any-touch influence: email touched o1 and o2 (150, 2 opportunities), event o1 (100, 1);
    # the column is not additive: 250 > the 150 of touched pipeline. Last touch gives event 0.
    influence = dict(
        (channel, (amount, n))
        for channel, amount, n in world.sql(
            "select channel, influenced_amount, influenced_opportunities from mart_channel_influence "
            "where journey_kind = 'pipeline'"
        ).fetchall()
    )
    assert influence == {"email": (150.0, 2), "event": (100.0, 1)}
    last_touch = dict(
        world.sql(
            "select channel, attributed_amount from mart_channel_comparison "
            "where journey_kind = 'pipeline' and model = 'last_touch'"
        ).fetchall()
    )
    assert "event" not in last_touch or last_touch["event"] == 0
    assert last_touch["email"] == pytest.approx(150.0)


def test_sourced_is_the_first_touch_or_the_lead_source(conn, tmp_path):
    # o1 (100): first touch event, lead source 'Partner'; o2 (50): first touch email, no lead
    # source; o3 (10): no touch, lead source 'Web'.
    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["e1", "2026-03-01T00:00:00Z", "acme", "event"],
            ["a1", "2026-03-03T00:00:00Z", "acme", "email"],
            ["a2", "2026-03-03T00:00:00Z", "globex", "email"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount", "lead_source"],
        [
            ["o1", "acme", "2026-03-10", "open", "100", "Partner"],
            ["o2", "globex", "2026-03-10", "open", "50", ""],
            ["o3", "initech", "2026-03-10", "open", "10", "Web"],
        ],
    )

    def sourced(sourced_by: str) -> dict[str, tuple[float, int, float]]:
        config = AttributionConfig(
            as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1), sourced_by=sourced_by
        )
        run_pipeline(conn, SourcePaths(touches, opportunities), config)
        rows = conn.sql(
            "select channel, sourced_amount, sourced_opportunities, influenced_amount from mart_sourced_influenced "
            "where journey_kind = 'pipeline'"
        ).fetchall()
        return {channel: (amount, n, influenced) for channel, amount, n, influenced in rows}

    # first touch: event sourced o1 (100), email o2 (50), (none) o3 (10); influence: email
    # touched o1 and o2 (150), event o1 (100)
    assert sourced("first_touch") == {
        "event": (100.0, 1, 100.0),
        "email": (50.0, 1, 150.0),
        "(none)": (10.0, 1, 0.0),
    }
    # lead source: partner o1, web o3, (unknown) o2; the touched channels source nothing
    assert sourced("lead_source") == {
        "partner": (100.0, 1, 0.0),
        "web": (10.0, 1, 0.0),
        "(unknown)": (50.0, 1, 0.0),
        "event": (0.0, 0, 100.0),
        "email": (0.0, 0, 150.0),
        "(none)": (0.0, 0, 0.0),
    }


@pytest.mark.parametrize(
    ("start_month", "months", "expected"),
    [
        # calendar year: quarters of the year itself
        (
            1,
            ["2026-01-01", "2026-03-01", "2026-04-01", "2026-12-01"],
            ["FY2026-Q1", "FY2026-Q1", "FY2026-Q2", "FY2026-Q4"],
        ),
        # fiscal year from February, named by the year it ends in: January 2026 closes FY2026,
        # February 2026 opens FY2027; Q1 = Feb-Apr, Q4 = Nov-Jan
        (
            2,
            ["2026-01-01", "2026-02-01", "2026-04-01", "2026-05-01", "2026-11-01"],
            ["FY2026-Q4", "FY2027-Q1", "FY2027-Q1", "FY2027-Q2", "FY2027-Q4"],
        ),
        # from July: June 2026 is FY2026-Q4, July FY2027-Q1
        (7, ["2026-06-01", "2026-07-01", "2026-10-01"], ["FY2026-Q4", "FY2027-Q1", "FY2027-Q2"]),
    ],
)
def test_fiscal_quarters_cross_the_fiscal_year_start(conn, start_month, months, expected):
    from attribution.sql import define_macros

    define_macros(conn)
    got = [
        conn.sql("select fiscal_quarter(cast(? as date), ?)", params=[month, start_month]).fetchall()[0][0]
        for month in months
    ]
    assert got == expected


def test_period_totals_carry_the_fiscal_quarter(conn, tmp_path):
    # pipeline created in January (100) and February (50) 2026, fiscal year from February
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [["o1", "a", "2026-01-20", "open", "100"], ["o2", "b", "2026-02-03", "open", "50"]],
    )
    touches = write_csv(tmp_path / "t.csv", ["touchpoint_id", "occurred_at", "account_id", "channel"], [])
    config = AttributionConfig(
        as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1), fiscal_year_start_month=2
    )
    run_pipeline(conn, SourcePaths(touches, opportunities), config)
    rows = conn.sql(
        "select period_month, fiscal_quarter, total_amount from mart_period_totals where journey_kind = 'pipeline' order by 1"
    ).fetchall()
    assert [(str(m), q, a) for m, q, a in rows] == [
        ("2026-01-01", "FY2026-Q4", 100.0),
        ("2026-02-01", "FY2027-Q1", 50.0),
    ]


def test_the_campaign_wide_view_has_one_column_per_model(world):
    from attribution.models import MODELS

    columns = world.sql("select * from mart_campaign_comparison_wide limit 0").columns
    assert columns[:3] == ["journey_kind", "channel", "campaign"] and set(columns[3:]) == set(MODELS)
    # linear, worked out above: email / A = 100/3 + 50
    (amount,) = world.sql(
        "select linear from mart_campaign_comparison_wide where journey_kind = 'pipeline' "
        "and channel = 'email' and campaign = 'A'"
    ).fetchall()[0]
    assert amount == pytest.approx(100 / 3 + 50)
