"""Segments, the opportunity-type filter, spend and return, time to convert, quarters and the
reconciliation of every cut, on hand-built worlds; each number is worked out in the comments."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.checks import row_accounting_violations, unreconciled_cuts
from attribution.config import AttributionConfig
from attribution.ingest import InputFileError, load_source
from attribution.pipeline import SourcePaths, build_mart, run_pipeline
from tests.conftest import write_csv

AS_OF = datetime(2026, 6, 1)


def _config(**settings: object) -> AttributionConfig:
    return AttributionConfig.from_settings(settings, as_of=AS_OF, run_started_at=AS_OF)


@pytest.fixture
def segmented(tmp_path: Path) -> SourcePaths:
    # acme (Enterprise, EMEA): n1 new business 100 (one email touch) and r1 renewal 40 (the
    # same touch is in its window); globex (SMB, NA): x1 expansion 60 (event then email);
    # initech: b1 with a blank type, segment and region, 10, no touch.
    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["t1", "2026-03-01T00:00:00Z", "acme", "email"],
            ["t2", "2026-03-02T00:00:00Z", "globex", "event"],
            ["t3", "2026-03-04T00:00:00Z", "globex", "email"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["Opportunity_Id", "account_id", "created_at", "stage", "amount", "Segment", "Region", "Type"],
        [
            ["n1", "acme", "2026-03-10", "Prospecting", "100", "Enterprise", "EMEA", "New Business"],
            ["r1", "acme", "2026-03-12", "Prospecting", "40", "Enterprise", "EMEA", "Renewal"],
            ["x1", "globex", "2026-03-10", "Prospecting", "60", "SMB", "NA", "Expansion"],
            ["b1", "initech", "2026-03-10", "Prospecting", "10", "", " ", ""],
        ],
    )
    return SourcePaths(touches, opportunities)


def _pipeline_total(conn: duckdb.DuckDBPyConnection) -> float:
    return float(
        conn.sql("select sum(journey_amount) from int_journeys where journey_kind = 'pipeline'").fetchall()[
            0
        ][0]
    )


def test_a_renewal_excluded_by_the_filter_is_counted_not_pipeline(conn, segmented):
    # without a filter the pipeline is 100 + 40 + 60 + 10 = 210; excluding renewals: 170
    run_pipeline(conn, segmented, _config())
    assert _pipeline_total(conn) == pytest.approx(210.0)
    result = run_pipeline(conn, segmented, _config(excluded_opportunity_types=("Renewal",)))
    opportunities = result["opportunities"]
    assert (opportunities.raw_rows, opportunities.staged_rows, opportunities.excluded_rows) == (4, 3, 1)
    assert opportunities.balanced
    assert _pipeline_total(conn) == pytest.approx(170.0)
    assert conn.sql(
        "select count(*) from mart_attribution_credits where opportunity_id = 'r1'"
    ).fetchall() == [(0,)]
    assert conn.sql("select excluded_rows from load_audit where source = 'opportunities'").fetchall() == [
        (1,)
    ]
    assert row_accounting_violations(conn, "opportunities").is_empty()
    # the types staged, normalized like channels (a blank type is kept: only renewal is excluded)
    types = conn.sql("select opportunity_id, opportunity_type from stg_opportunities order by 1").fetchall()
    assert types == [("b1", None), ("n1", "new_business"), ("x1", "expansion")]
    # an include list keeps only its types; the blank type is then left out too: 100 remains
    result = run_pipeline(conn, segmented, _config(included_opportunity_types=("new business",)))
    assert result["opportunities"].excluded_rows == 3
    assert _pipeline_total(conn) == pytest.approx(100.0)


def test_segments_are_dimensions_that_reconcile(conn, segmented):
    run_pipeline(conn, segmented, _config(segment_columns=("segment", "region", "type")))
    # linear pipeline by segment: Enterprise = n1 100 + r1 40, all email; SMB = x1 60, split
    # event 30 / email 30; '(not set)' = b1 10, unattributed
    rows = conn.sql(
        "select dimension, segment_value, channel, attributed_amount from mart_segment_comparison "
        "where journey_kind = 'pipeline' and model = 'linear'"
    ).fetchall()
    got = {(d, v, c): a for d, v, c, a in rows}
    assert got[("segment", "Enterprise", "email")] == pytest.approx(140.0)
    assert got[("segment", "SMB", "event")] == pytest.approx(30.0)
    assert got[("segment", "SMB", "email")] == pytest.approx(30.0)
    assert got[("segment", "(not set)", "(none)")] == pytest.approx(10.0)
    assert got[("region", "(not set)", "(none)")] == pytest.approx(10.0)
    assert got[("type", "Renewal", "email")] == pytest.approx(40.0)
    # per dimension and model, the segments add up to the whole pipeline (210)
    sums = conn.sql(
        "select model, dimension, sum(attributed_amount) from mart_segment_comparison "
        "where journey_kind = 'pipeline' group by all"
    ).fetchall()
    assert len(sums) == 4 * 10  # segment, region, type and the deal motion, by ten models
    assert all(total == pytest.approx(210.0) for _, _, total in sums)
    # the reconciliation has a cell per segment value and model, all reconciled
    cells = conn.sql(
        "select cut, cut_value, expected_amount from mart_reconciliation_cuts "
        "where table_name = 'mart_segment_comparison' and journey_kind = 'pipeline' and model = 'markov'"
    ).fetchall()
    # the deal motion from the type column: Expansion, Renewal; New Business and the deal
    # without a type (its account won nothing before it) are new business
    assert sorted(cells) == [
        ("segment:deal_motion", "expansion", 60.0),
        ("segment:deal_motion", "new_business", 110.0),
        ("segment:deal_motion", "renewal", 40.0),
        ("segment:region", "(not set)", 10.0),
        ("segment:region", "EMEA", 140.0),
        ("segment:region", "NA", 60.0),
        ("segment:segment", "(not set)", 10.0),
        ("segment:segment", "Enterprise", 140.0),
        ("segment:segment", "SMB", 60.0),
        ("segment:type", "(not set)", 10.0),
        ("segment:type", "Expansion", 60.0),
        ("segment:type", "New Business", 100.0),
        ("segment:type", "Renewal", 40.0),
    ]
    assert unreconciled_cuts(conn).is_empty()


def test_an_unknown_segment_column_fails_naming_the_file(conn, segmented):
    with pytest.raises(InputFileError, match=r"o\.csv: no column 'tier' for the segment dimensions"):
        load_source(
            conn, "opportunities", segmented.opportunities, _config(segment_columns=("segment", "tier"))
        )


def test_the_type_filter_needs_a_type_column_in_every_file(conn, tmp_path):
    untyped = write_csv(
        tmp_path / "untyped.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [["o1", "acme", "2026-03-10", "open", "100"]],
    )
    with pytest.raises(InputFileError, match=r"untyped\.csv: missing required column\(s\) opportunity_type"):
        load_source(conn, "opportunities", untyped, _config(excluded_opportunity_types=("renewal",)))
    # without the filter the same file loads
    assert load_source(conn, "opportunities", untyped, _config()).staged_rows == 1


@pytest.fixture
def spend_world(tmp_path: Path) -> SourcePaths:
    # o1 (acme, 100 USD) created 2026-03-10, won 2026-04-20: event touch 03-01, email (campaign
    # A) touch 03-05. o2 (globex, 80 USD) created 2026-04-10 with one event touch on 04-02.
    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel", "campaign"],
        [
            ["t1", "2026-03-01T00:00:00Z", "acme", "event", "Expo"],
            ["t2", "2026-03-05T00:00:00Z", "acme", "email", "A"],
            ["t3", "2026-04-02T00:00:00Z", "globex", "event", "Expo"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        [
            ["o1", "acme", "2026-03-10T00:00:00Z", "2026-04-20T00:00:00Z", "closed_won", "100"],
            ["o2", "globex", "2026-04-10T00:00:00Z", "", "open", "80"],
        ],
    )
    # EUR -> USD 1.10 from March, 1.20 from April
    fx = write_csv(
        tmp_path / "fx.csv",
        ["currency", "date", "rate_to_reporting"],
        [["EUR", "2026-03-01", "1.10"], ["EUR", "2026-04-01", "1.20"]],
    )
    spend = write_csv(
        tmp_path / "spend.csv",
        ["date", "channel", "campaign", "amount", "currency"],
        [
            ["2026-03-15", "Event", "Expo", "1000", "EUR"],  # 1,100 USD at 1.10
            ["2026-04", "event", "Expo", "500", "EUR"],  # a month line: 04-01, 600 USD at 1.20
            ["2026-03-20", "email", "A", "300", "USD"],
            ["2026-03-20", "email", "", "20", "USD"],  # channel level
            ["2026-03-21", "email", "A", "-5", "USD"],  # bad_amount
            ["03/21/2026", "email", "A", "5", "USD"],  # bad_timestamp (ambiguous US date)
            ["2026-03-21", "email", "A", "5", "JPY"],  # unknown_currency (no JPY rate)
            ["2026-03-21", "", "A", "5", "USD"],  # missing_required
            ["2026-06-02", "email", "A", "5", "USD"],  # after as-of: counted, not staged
        ],
    )
    return SourcePaths(touches, opportunities, fx_rates=fx, spend=spend)


def test_spend_in_eur_on_a_usd_report(conn, spend_world):
    result = run_pipeline(conn, spend_world, _config(fiscal_year_start_month=4))
    spend = result["spend"]
    assert (spend.raw_rows, spend.staged_rows, spend.quarantined_rows, spend.after_as_of_rows) == (9, 4, 4, 1)
    reasons = conn.sql("select reason from quarantine where source = 'spend' order by source_row").fetchall()
    assert [r for (r,) in reasons] == ["bad_amount", "bad_timestamp", "unknown_currency", "missing_required"]
    assert row_accounting_violations(conn, "spend").is_empty()
    staged = conn.sql(
        "select spend_date, channel, spend_amount, reporting_currency from stg_spend "
        "where channel = 'event' order by 1"
    ).fetchall()
    assert staged == [
        (datetime(2026, 3, 15).date(), "event", 1100.0, "USD"),
        (datetime(2026, 4, 1).date(), "event", 600.0, "USD"),
    ]

    def row(grain: str, channel: str, period: str | None) -> tuple[float, float, float, float | None]:
        where = "period_start is null" if period is None else f"period_start = date '{period}'"
        return conn.sql(
            "select spend_amount, attributed_pipeline, attributed_revenue, cost_per_pipeline_dollar "
            f"from mart_spend_return where model = 'linear' and period_grain = ? and channel = ? and {where}",
            params=[grain, channel],
        ).fetchall()[0]

    # linear, March: o1's 100 split event 50 / email 50. event cost 1,100 -> 22 per pipeline dollar
    assert row("month", "event", "2026-03-01") == pytest.approx((1100.0, 50.0, 0.0, 22.0))
    # April: o2's 80 all to event; o1 won (100 revenue, revenue journey: event 50 / email 50)
    assert row("month", "event", "2026-04-01") == pytest.approx((600.0, 80.0, 50.0, 7.5))
    # fiscal year from April: March is FY2026-Q4, April FY2027-Q1 (the quarter starts 04-01)
    quarters = conn.sql(
        "select fiscal_quarter, period_start, spend_amount from mart_spend_return "
        "where model = 'linear' and period_grain = 'quarter' and channel = 'event' order by 1"
    ).fetchall()
    assert quarters == [
        ("FY2026-Q4", datetime(2026, 1, 1).date(), 1100.0),
        ("FY2027-Q1", datetime(2026, 4, 1).date(), 600.0),
    ]
    # all periods: event 1,700 spent, 130 pipeline, 50 revenue: 130 / 1,700 per dollar
    all_event = conn.sql(
        "select spend_amount, pipeline_per_spend_dollar, revenue_per_spend_dollar from mart_spend_return "
        "where model = 'linear' and period_grain = 'all' and channel = 'event'"
    ).fetchall()[0]
    assert all_event == pytest.approx((1700.0, 130 / 1700, 50 / 1700))
    # email: 320 spent (300 on campaign A, 20 channel level), 50 pipeline
    all_email = row("all", "email", None)
    assert all_email == pytest.approx((320.0, 50.0, 50.0, 6.4))
    # campaign level: A 300 spent and 50 attributed; the channel-level 20 on its own row
    campaigns = conn.sql(
        "select campaign, spend_amount, attributed_pipeline from mart_campaign_spend_return "
        "where model = 'linear' and period_grain = 'all' and channel = 'email' order by 1"
    ).fetchall()
    assert campaigns == [("(channel level)", 20.0, 0.0), ("A", 300.0, pytest.approx(50.0))]
    # spend is counted once per model: each model's rows of a grain hold the 2,020 spent
    spent = conn.sql(
        "select model, sum(spend_amount) from mart_spend_return where period_grain = 'month' group by 1"
    ).fetchall()
    assert len(spent) == 10 and all(total == pytest.approx(2020.0) for _, total in spent)
    assert unreconciled_cuts(conn).is_empty()


def test_time_to_convert_and_path_length(conn, spend_world):
    run_pipeline(conn, spend_world, _config())
    rows = conn.sql(
        "select channel, opportunities, median_days_to_opportunity, won_opportunities, median_days_to_won, "
        "median_touches_per_journey from mart_time_to_convert where period_month = date '2026-03-01'"
    ).fetchall()
    got = {channel: tuple(rest) for channel, *rest in rows}
    # o1 created 03-10, won 04-20 (41 days later); journey: event 03-01, email 03-05
    assert got == {
        "(all channels)": (1, 9.0, 1, 50.0, 2.0),
        "event": (1, 9.0, 1, 50.0, 2.0),
        "email": (1, 5.0, 1, 46.0, 2.0),
    }
    # April: o2, open, created 8 days after its only touch
    april = conn.sql(
        "select channel, median_days_to_opportunity, won_opportunities, median_days_to_won "
        "from mart_time_to_convert where period_month = date '2026-04-01' order by 1"
    ).fetchall()
    assert april == [("(all channels)", 8.0, 0, None), ("event", 8.0, 0, None)]


def test_quarter_totals_across_a_fiscal_year_start(conn, spend_world):
    run_pipeline(conn, spend_world, _config(fiscal_year_start_month=4))
    rows = conn.sql(
        "select fiscal_quarter, quarter_start, sum(attributed_amount), max(share_of_quarter) "
        "from mart_attributed_by_quarter where journey_kind = 'pipeline' and model = 'first_touch' "
        "group by 1, 2 order by 1"
    ).fetchall()
    # o1 (100, March) in FY2026-Q4; o2 (80, April) in FY2027-Q1; first touch: event both times
    assert rows == [
        ("FY2026-Q4", datetime(2026, 1, 1).date(), 100.0, 1.0),
        ("FY2027-Q1", datetime(2026, 4, 1).date(), 80.0, 1.0),
    ]


def test_the_cut_reconciliation_catches_a_table_that_does_not_add_up(conn, spend_world):
    config = _config(segment_columns=())
    run_pipeline(conn, spend_world, config)
    assert unreconciled_cuts(conn).is_empty()
    tables = {t for (t,) in conn.sql("select distinct table_name from mart_reconciliation_cuts").fetchall()}
    assert tables == {
        "int_attributed_by_month",
        "mart_attributed_by_quarter",
        "mart_channel_comparison",
        "mart_campaign_comparison",
        "mart_spend_return",
        "mart_campaign_spend_return",
        "mart_sourced_influenced",
        "mart_period_totals",
        "mart_segment_comparison",
    }  # no segment column set: the deal motion is mart_segment_comparison's one dimension
    # a quarter row that loses a dollar is found, in its quarter and model only
    conn.sql(
        "update mart_attributed_by_quarter set attributed_amount = attributed_amount - 1 "
        "where journey_kind = 'pipeline' and model = 'linear' and channel = 'event' and fiscal_quarter = 'FY2026-Q1'"
    )
    build_mart(conn, "mart_reconciliation_cuts", config)
    bad = unreconciled_cuts(conn)
    assert bad.select("table_name", "journey_kind", "model", "cut_value", "difference").rows() == [
        ("mart_attributed_by_quarter", "pipeline", "linear", "FY2026-Q1", -1.0)
    ]
