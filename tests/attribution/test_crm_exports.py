"""Real CRM exports in, right numbers out (issue 9): Salesforce and HubSpot exports with stage
labels, expected close dates, date-only close dates, two years of history and cross rates.

Expected totals are computed independently here, in plain Python from the CSV files (csv,
datetime, bisect), not with the engine's SQL.
"""

from __future__ import annotations

import bisect
import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.ingest import InputFileError, load_fx_rates, load_opportunities
from attribution.mapping import MappingError, SourceMapping, load_mapping
from attribution.models import MODELS
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

CRM = Path(__file__).resolve().parent.parent / "fixtures" / "crm"
CLOCK = datetime(2026, 11, 25, 9, 0)
AS_OF = datetime(2026, 11, 20, 23, 59, 59)


def _instant(text: str) -> datetime:
    """A touch time as naive UTC (a plain date is the start of its day, UTC)."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rates() -> dict[str, tuple[list[date], list[float]]]:
    table: dict[str, tuple[list[date], list[float]]] = {}
    for row in sorted(_rows(CRM / "fx_rates.csv"), key=lambda r: (r["currency"], r["date"])):
        days, values = table.setdefault(row["currency"], ([], []))
        days.append(date.fromisoformat(row["date"]))
        values.append(float(row["rate_to_reporting"]))
    return table


def _to(currency: str, on: date, reporting: str = "USD") -> float:
    """Units of `reporting` per unit of `currency` on a day: both legs through USD."""
    rates = _rates()

    def to_usd(code: str) -> float:
        if code == "USD":
            return 1.0
        days, values = rates[code]
        return values[bisect.bisect_right(days, on) - 1]

    return to_usd(currency) / to_usd(reporting)


def _salesforce_truth(as_of: datetime, reporting: str = "USD") -> dict[str, float]:
    """Pipeline and won revenue at as-of from the Salesforce export, by hand."""
    pipeline = revenue = 0.0
    opportunities = won = 0
    for row in _rows(CRM / "salesforce" / "opportunities.csv"):
        created = datetime.fromisoformat(row["CreatedDate"].replace("+0000", "+00:00")).replace(tzinfo=None)
        if created > as_of:
            continue
        amount = float(row["Amount"])
        opportunities += 1
        pipeline += round(amount * _to(row["CurrencyIsoCode"], created.date(), reporting), 2)
        closed_on = date.fromisoformat(row["CloseDate"])
        # won at as-of: closed on a day that started on or before as-of
        if row["IsWon"] == "true" and datetime.combine(closed_on, datetime.min.time()) <= as_of:
            won += 1
            revenue += round(amount * _to(row["CurrencyIsoCode"], closed_on, reporting), 2)
    return {"pipeline": pipeline, "revenue": revenue, "opportunities": opportunities, "won": won}


def _run(tmp_path: Path, opportunities: Path, preset: str, **settings: object) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "crm.duckdb"))
    config = AttributionConfig.from_settings(
        as_of=settings.pop("as_of", AS_OF),
        run_started_at=CLOCK,
        mapping=SourceMapping(preset=preset),
        **settings,  # type: ignore[arg-type]
    )
    run_pipeline(conn, SourcePaths(CRM / "touchpoints.csv", opportunities, CRM / "fx_rates.csv"), config)
    return conn


def _totals(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], float]:
    return {
        (kind, model): amount
        for kind, model, amount in conn.sql(
            "select journey_kind, model, sum(attributed_amount) from mart_attribution_credits group by all"
        ).fetchall()
    }


def test_a_salesforce_export_stages_every_row_and_reconciles(tmp_path):
    conn = _run(tmp_path, CRM / "salesforce" / "opportunities.csv", "salesforce")
    audit = dict(
        (source, (raw, staged, quarantined, after))
        for source, raw, staged, quarantined, after in conn.sql(
            "select source, raw_rows, staged_rows, quarantined_rows, after_as_of_rows from load_audit"
        ).fetchall()
    )
    truth = _salesforce_truth(AS_OF)
    sf_rows = len(_rows(CRM / "salesforce" / "opportunities.csv"))
    # every opportunity and every touch of the two years is staged; nothing quarantined
    assert audit["opportunities"] == (sf_rows, sf_rows, 0, 0)
    assert (
        audit["touchpoints"][2] == 0
        and audit["touchpoints"][1] + audit["touchpoints"][3] == audit["touchpoints"][0]
    )
    assert audit["touchpoints"][3] == sum(
        1 for r in _rows(CRM / "touchpoints.csv") if _instant(r["occurred_at"]) > AS_OF
    )
    assert conn.sql("select count(*) from quarantine").fetchall() == [(0,)]
    assert truth["opportunities"] == sf_rows
    # in every model: pipeline = the sum of every opportunity's amount, won revenue = the sum
    # of the won amounts (each converted at its own day's rate)
    for (kind, model), amount in _totals(conn).items():
        assert amount == pytest.approx(truth[kind], abs=0.01), (kind, model)
    assert len(_totals(conn)) == 2 * len(MODELS)


def test_open_salesforce_deals_keep_their_expected_close_date(tmp_path):
    # Regression (issue 9, defect 2): every open Salesforce deal has a CloseDate, past
    # (slipped) or future; it is an expected close date, never a reason to quarantine.
    conn = _run(tmp_path, CRM / "salesforce" / "opportunities.csv", "salesforce")
    rows = _rows(CRM / "salesforce" / "opportunities.csv")
    open_rows = [r for r in rows if r["IsClosed"] == "false"]
    slipped = sum(
        1 for r in open_rows if r["CloseDate"] < r["CreatedDate"][:10] or r["CloseDate"] < "2026-11-20"
    )
    future = sum(1 for r in open_rows if r["CloseDate"] > "2026-11-26")
    assert slipped > 0 and future > 0
    staged = conn.sql(
        "select count(*), count(expected_close_at), count(closed_at) from stg_opportunities where stage = 'open'"
    ).fetchall()[0]
    assert staged == (len(open_rows), len(open_rows), 0)
    labels = dict(
        conn.sql("select stage_label, any_value(stage) from stg_opportunities group by 1").fetchall()
    )
    assert labels["Closed Won"] == "closed_won" and labels["Closed Lost"] == "closed_lost"
    assert {labels[r["StageName"]] for r in open_rows} == {"open"}


def test_same_day_touches_are_credited_for_a_date_only_close(tmp_path):
    # Regression (issue 9, defect 4): CloseDate 2026-03-15 covers that day: a touch at
    # 16:30 on the close day is in the revenue journey and gets credit in every model that
    # credits the last touch (last_touch, linear, time_decay: its position is last).
    conn = _run(tmp_path, CRM / "salesforce" / "opportunities.csv", "salesforce")
    won_same_day = conn.sql(
        """
        select o.opportunity_id, t.touchpoint_id
        from stg_opportunities o
        join stg_touchpoints t on t.account_id = o.account_id
            and t.touchpoint_id like '%close%' and cast(t.occurred_at as date) = cast(o.closed_at as date)
        where o.stage = 'closed_won' and o.is_closed_date_only
        """
    ).fetchall()
    assert won_same_day, "the corpus has won deals with a touch on their close day"
    for opportunity_id, touchpoint_id in won_same_day:
        credits = dict(
            conn.sql(
                "select model, credit from mart_attribution_credits where journey_kind = 'revenue' "
                "and opportunity_id = ? and touchpoint_id = ?",
                params=[opportunity_id, touchpoint_id],
            ).fetchall()
        )
        assert credits["linear"] > 0 and credits["time_decay"] > 0, opportunity_id
        # and it is not a non-converting Markov path
        assert conn.sql(
            "select count(*) from int_null_path_touches where touchpoint_id = ?", params=[touchpoint_id]
        ).fetchall() == [(0,)]


def test_a_hubspot_export_with_its_preset(tmp_path):
    conn = _run(tmp_path, CRM / "hubspot" / "deals.csv", "hubspot")
    rows = _rows(CRM / "hubspot" / "deals.csv")
    assert conn.sql("select count(*) from quarantine where source = 'opportunities'").fetchall() == [(0,)]
    stages = dict(
        conn.sql("select stage_label, any_value(stage) from stg_opportunities group by 1").fetchall()
    )
    for row in rows:
        expected = {"Closed Won": "closed_won", "Closed Lost": "closed_lost"}.get(row["Deal Stage"], "open")
        assert stages[row["Deal Stage"]] == expected
    pipeline = sum(
        round(float(r["Amount"]) * _to(r["Currency"], date.fromisoformat(r["Create Date"][:10])), 2)
        for r in rows
    )
    for (kind, model), amount in _totals(conn).items():
        if kind == "pipeline":
            assert amount == pytest.approx(pipeline, abs=0.01), model


def test_reporting_in_eur_crosses_through_the_usd_base(tmp_path):
    # Regression (issue 9, defect 9): rates are to USD; reporting in EUR must convert
    # GBP -> USD -> EUR (cross rate), not reuse the USD rates.
    conn = _run(tmp_path, CRM / "salesforce" / "opportunities.csv", "salesforce", reporting_currency="EUR")
    truth = _salesforce_truth(AS_OF, reporting="EUR")
    usd = _salesforce_truth(AS_OF)
    assert truth["pipeline"] < usd["pipeline"] * 0.95  # a euro is worth more than a dollar
    for (kind, model), amount in _totals(conn).items():
        assert amount == pytest.approx(truth[kind], abs=0.01), (kind, model)
    assert conn.sql("select distinct reporting_currency from stg_opportunities").fetchall() == [("EUR",)]


def test_as_of_the_end_of_last_quarter_reproduces_that_quarters_view(tmp_path):
    # Regression (issue 9, defect 3): the full export run as of 2026-09-30 equals a run on the
    # export as it stood that day (touches and deals after it removed, deals closed after it
    # still open with their stage before the close).
    quarter_end = datetime(2026, 9, 30, 23, 59, 59, 999999)
    snapshot = tmp_path / "snapshot"
    touches = [r for r in _rows(CRM / "touchpoints.csv") if _instant(r["occurred_at"]) <= quarter_end]
    write_csv(snapshot / "touchpoints.csv", list(touches[0]), [list(r.values()) for r in touches])
    opportunities = []
    for r in _rows(CRM / "salesforce" / "opportunities.csv"):
        if r["CreatedDate"][:19] > "2026-09-30T23:59:59":
            continue
        if r["IsClosed"] == "true" and r["CloseDate"] > "2026-09-30":
            r = {**r, "StageName": "Negotiation/Review", "IsClosed": "false", "IsWon": "false"}
        opportunities.append(r)
    write_csv(
        snapshot / "opportunities.csv", list(opportunities[0]), [list(r.values()) for r in opportunities]
    )
    config = AttributionConfig(
        as_of=quarter_end, run_started_at=CLOCK, mapping=SourceMapping(preset="salesforce")
    )
    with duckdb.connect() as full, duckdb.connect() as then:
        run_pipeline(
            full,
            SourcePaths(
                CRM / "touchpoints.csv", CRM / "salesforce" / "opportunities.csv", CRM / "fx_rates.csv"
            ),
            config,
        )
        run_pipeline(
            then,
            SourcePaths(snapshot / "touchpoints.csv", snapshot / "opportunities.csv", CRM / "fx_rates.csv"),
            config,
        )
        for table in (
            "mart_channel_comparison",
            "mart_period_totals",
            "mart_reconciliation",
            "mart_markov_removal_effects",
        ):
            assert (
                full.sql(f"select * from {table} order by all").fetchall()
                == then.sql(f"select * from {table} order by all").fetchall()
            ), table
        assert (
            full.sql("select count(*) from stg_opportunities where is_closed_after_as_of").fetchall()[0][0]
            > 0
        )
        truth = _salesforce_truth(quarter_end)
        assert full.sql(
            "select sum(total_amount) from mart_period_totals where journey_kind = 'pipeline'"
        ).fetchall()[0][0] == pytest.approx(truth["pipeline"], abs=0.01)


def test_stale_fx_rates_are_used_counted_and_flagged(tmp_path):
    # every rate is on the 1st of a month: with a 10-day limit, deals converted after the
    # 11th use a stale rate (still converted, flagged); the default 45 days flags none
    conn = _run(tmp_path, CRM / "salesforce" / "opportunities.csv", "salesforce", fx_max_age_days=10)
    stale, non_usd_late = conn.sql(
        "select count(*) filter (where is_fx_stale), count(*) filter (where currency <> 'USD' "
        "and (day(created_at) > 11 or (stage <> 'open' and day(closed_at) > 11))) from stg_opportunities"
    ).fetchall()[0]
    assert stale == non_usd_late > 0
    conn.close()
    (tmp_path / "default").mkdir()
    relaxed = _run(tmp_path / "default", CRM / "salesforce" / "opportunities.csv", "salesforce")
    assert relaxed.sql("select count(*) from stg_opportunities where is_fx_stale").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("label", "stage"),
    [
        ("Closed Won", "closed_won"),
        ("closedwon", "closed_won"),
        ("CLOSED-WON", "closed_won"),
        ("Closed Lost", "closed_lost"),
        ("closedlost", "closed_lost"),
        ("Prospecting", "open"),
        ("Negotiation/Review", "open"),
        ("appointmentscheduled", "open"),
        ("Decision Maker Bought-In", "open"),
        ("Some Custom Stage", "open"),  # as in Salesforce: any other label is open
    ],
)
def test_crm_stage_labels_map_to_stages(conn, tmp_path, label, stage):
    # Regression (issue 9, defect 6): these labels were bad_stage
    path = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        [["o", "a", "2026-01-01", "2026-02-01", label, "10"]],
    )
    config = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=CLOCK)
    load_fx_rates(conn, None, config)
    load_opportunities(conn, path, config)
    assert conn.sql("select stage, stage_label from stg_opportunities").fetchall() == [(stage, label)]


def test_a_mapping_file_renames_columns_and_adds_stage_labels(conn, tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'preset = "salesforce"\n[columns.opportunities]\namount = "ARR"\n'
        '[stages]\n"Signed" = "closed_won"\n"Disqualified" = "closed_lost"\n'
    )
    path = write_csv(
        tmp_path / "o.csv",
        ["Id", "AccountId", "CreatedDate", "CloseDate", "StageName", "ARR", "Amount"],
        [
            ["o1", "a", "2026-01-01", "2026-02-01", "Signed", "10", "999"],
            ["o2", "a", "2026-01-01", "2026-02-01", "Disqualified", "20", "999"],
        ],
    )
    config = AttributionConfig(
        as_of=datetime(2026, 6, 1), run_started_at=CLOCK, mapping=load_mapping(mapping)
    )
    load_fx_rates(conn, None, config)
    load_opportunities(conn, path, config)
    assert conn.sql("select opportunity_id, stage, amount from stg_opportunities order by 1").fetchall() == [
        ("o1", "closed_won", 10.0),
        ("o2", "closed_lost", 20.0),
    ]


def test_unknown_columns_and_bad_mappings_fail_clearly(conn, tmp_path):
    path = write_csv(
        tmp_path / "export.csv",
        ["Id", "Account", "Created", "Stage", "Amount"],
        [["o", "a", "2026-01-01", "x", "1"]],
    )
    config = AttributionConfig(
        as_of=datetime(2026, 6, 1), run_started_at=CLOCK, mapping=SourceMapping(preset="salesforce")
    )
    load_fx_rates(conn, None, config)
    with pytest.raises(InputFileError) as excinfo:
        load_opportunities(conn, path, config)
    message = str(excinfo.value)
    assert str(path) in message and "account_id" in message and "created_at" in message
    assert "AccountId" in message  # the names it tried
    bad = tmp_path / "bad.toml"
    bad.write_text('[stages]\n"Won it" = "victory"\n')
    with pytest.raises(MappingError, match=r"bad\.toml.*victory"):
        load_mapping(bad)
    bad.write_text("[columns.deals]\namount = 'x'\n")
    with pytest.raises(MappingError, match="unknown source"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="unknown column preset"):
        SourceMapping(preset="pipedrive")


def test_a_company_time_zone_moves_the_day_a_date_covers(conn, tmp_path):
    # 2026-03-15 in Los Angeles runs from 07:00 UTC on the 15th to 07:00 UTC on the 16th
    path = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"],
        [["o", "a", "2026-03-01", "2026-03-15", "Closed Won", "10"]],
    )
    config = AttributionConfig(
        as_of=datetime(2026, 6, 1), run_started_at=CLOCK, company_timezone="America/Los_Angeles"
    )
    load_fx_rates(conn, None, config)
    load_opportunities(conn, path, config)
    closed_at, closed_event_at = conn.sql(
        "select closed_at, closed_event_at from stg_opportunities"
    ).fetchall()[0]
    assert closed_at == datetime(2026, 3, 15, 7, 0)
    assert closed_event_at == datetime(2026, 3, 16, 6, 59, 59, 999999)
    assert closed_event_at - closed_at == timedelta(days=1, microseconds=-1)
