"""HubSpot's deal stage history in its wide shape (a "Date entered <stage>" column per stage, or
the API's hs_date_entered_<stage id>) read as the opportunity_history input.

Three deals in HubSpot's default pipeline (appointmentscheduled 1, qualifiedtobuy 2,
presentationscheduled 3, decisionmakerboughtin 4, contractsent 5, closedwon 6); every row
expected below is read by hand from the files written here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.checks import row_accounting_violations
from attribution.config import AttributionConfig
from attribution.ingest import InputFileError
from attribution.ingest.wide_history import entered_columns
from attribution.mapping import load_mapping
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

CONFIG = AttributionConfig.from_settings(
    as_of=datetime(2026, 6, 1),
    run_started_at=datetime(2026, 7, 1),
    interval_replicates=0,
    mapping=load_mapping(preset="hubspot"),
)
EXPORT_HEADER = [
    "Record ID",
    "Deal Name",
    "Associated Company IDs",
    "Create Date",
    "Close Date",
    "Deal Stage",
    "Amount",
    'Date entered "Appointment Scheduled (Sales Pipeline)"',
    'Date entered "Qualified To Buy (Sales Pipeline)"',
    'Date entered "Presentation Scheduled (Sales Pipeline)"',
    'Date entered "Closed Won (Sales Pipeline)"',
    'Date exited "Appointment Scheduled (Sales Pipeline)"',  # not a stage entry: ignored
    'Date entered "Legal Review (Sales Pipeline)"',  # a custom stage no stage map knows
]
EXPORT_ROWS = [
    # 101: appointment, qualified, won (skipped presentation)
    ("101", "Acme", "9001", "2026-01-05 10:00", "2026-02-20 12:00", "Closed Won", "1000",
     "2026-01-05 10:00", "2026-01-12 09:00", "", "2026-02-20 12:00", "2026-01-12 09:00", ""),
    # 102: qualified on 01-20, still open
    ("102", "Beta", "9002", "2026-01-10 10:00", "2026-03-01", "Qualified To Buy", "500",
     "2026-01-10 10:00", "2026-01-20 10:00", "", "", "2026-01-20 10:00", ""),
    # 103: no date at all: one row without a stage, quarantined (its deal falls back)
    ("103", "Gamma", "9003", "2026-01-15 10:00", "2026-02-01 10:00", "Closed Lost", "700",
     "", "", "", "", "", ""),
    # 104: its amount is a formula (the deal is quarantined, bad_amount), so its three dated
    # stages are of an unknown opportunity; its Legal Review date also names an unknown stage
    ("104", "Delta", "9004", "2026-01-20 10:00", "2026-04-01", "Presentation Scheduled", "=SUM(A1)",
     "2026-01-20 10:00", "2026-01-25 10:00", "", "", "", "2026-01-28 10:00"),
]  # fmt: skip


def _world(folder: Path) -> SourcePaths:
    write_csv(
        folder / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [("t1", "2026-01-01T00:00:00Z", "9001", "email"), ("t2", "2026-01-02T00:00:00Z", "9002", "ads")],
    )
    write_csv(folder / "deals.csv", EXPORT_HEADER, EXPORT_ROWS)
    # the deals export is also the history: its Date entered columns turned long
    return SourcePaths(folder / "touches.csv", folder / "deals.csv", opportunity_history=folder / "deals.csv")


def test_the_export_columns_name_their_stages():
    assert entered_columns(EXPORT_HEADER) == {
        EXPORT_HEADER[7]: "Appointment Scheduled",
        EXPORT_HEADER[8]: "Qualified To Buy",
        EXPORT_HEADER[9]: "Presentation Scheduled",
        EXPORT_HEADER[10]: "Closed Won",
        EXPORT_HEADER[12]: "Legal Review",
    }
    assert entered_columns(["hs_date_entered_qualifiedtobuy", "hs_date_exited_qualifiedtobuy", "Amount"]) == {
        "hs_date_entered_qualifiedtobuy": "qualifiedtobuy"
    }


def test_a_wide_export_is_read_long_and_every_row_is_accounted(tmp_path):
    conn = duckdb.connect()
    run_pipeline(conn, _world(tmp_path), CONFIG)
    rows = conn.sql(
        "select opportunity_id, changed_at, stage_label, stage_position from stg_opportunity_history order by all"
    ).fetchall()
    assert rows == [
        ("101", datetime(2026, 1, 5, 10), "Appointment Scheduled", 1),
        ("101", datetime(2026, 1, 12, 9), "Qualified To Buy", 2),
        ("101", datetime(2026, 2, 20, 12), "Closed Won", 6),
        ("102", datetime(2026, 1, 10, 10), "Appointment Scheduled", 1),
        ("102", datetime(2026, 1, 20, 10), "Qualified To Buy", 2),
    ]
    # five dated entries of 101 and 102, 103's undated row, 104's three: nine raw rows, numbered
    # in file order (101's three are rows 1-3); four quarantined, each once, its record naming
    # the deal's line in the file and the column
    audit = conn.sql(
        "select raw_rows, staged_rows, quarantined_rows from load_audit where source = 'opportunity_history'"
    ).fetchall()
    assert audit == [(9, 5, 4)]
    quarantined = conn.sql(
        "select reason, source_row, record from quarantine where source = 'opportunity_history' order by source_row"
    ).fetchall()
    assert [(reason, row) for reason, row, _ in quarantined] == [
        ("missing_required", 6),
        ("unknown_opportunity", 7),
        ("unknown_opportunity", 8),
        ("unknown_stage", 9),
    ]
    assert '"line":5' in quarantined[3][2] and "Legal Review" in quarantined[3][2]
    assert row_accounting_violations(conn, "opportunity_history").is_empty()
    # HubSpot's qualification stage is qualifiedtobuy: 101 and 102 are qualified pipeline
    qualified = dict(
        conn.sql(
            "select opportunity_id, qualified_at from stg_opportunities where qualified_at is not null"
        ).fetchall()
    )
    assert qualified == {"101": datetime(2026, 1, 12, 9), "102": datetime(2026, 1, 20, 10)}


def test_the_api_properties_read_the_same(tmp_path):
    write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [("t1", "2026-01-01T00:00:00Z", "9001", "email")],
    )
    write_csv(
        tmp_path / "deals.csv",
        ["hs_object_id", "associatedcompanyid", "createdate", "dealstage", "amount"],
        [("101", "9001", "2026-01-05T10:00:00.000Z", "qualifiedtobuy", "1000")],
    )
    write_csv(
        tmp_path / "history.csv",
        ["hs_object_id", "hs_date_entered_appointmentscheduled", "hs_date_entered_qualifiedtobuy"],
        [("101", "2026-01-05T10:00:00.000Z", "2026-01-12T09:00:00.000Z")],
    )
    conn = duckdb.connect()
    sources = SourcePaths(
        tmp_path / "touches.csv", tmp_path / "deals.csv", opportunity_history=tmp_path / "history.csv"
    )
    run_pipeline(conn, sources, CONFIG)
    assert conn.sql(
        "select stage_label, stage_position from stg_opportunity_history order by 2"
    ).fetchall() == [
        ("appointmentscheduled", 1),
        ("qualifiedtobuy", 2),
    ]


def test_a_wide_export_without_a_deal_id_or_mixed_with_a_long_one_is_a_clear_error(tmp_path):
    sources = _world(tmp_path)
    write_csv(tmp_path / "no_id.csv", EXPORT_HEADER[1:], [row[1:] for row in EXPORT_ROWS])
    with pytest.raises(InputFileError, match="without a deal id column: tried opportunity_id / Record ID"):
        run_pipeline(
            duckdb.connect(),
            SourcePaths(
                sources.touchpoints, sources.opportunities, opportunity_history=tmp_path / "no_id.csv"
            ),
            CONFIG,
        )
    write_csv(
        tmp_path / "long.csv", ["Record ID", "changed_at", "stage"], [("101", "2026-01-05", "closedwon")]
    )
    with pytest.raises(InputFileError, match="a long opportunity history among wide"):
        run_pipeline(
            duckdb.connect(),
            SourcePaths(
                sources.touchpoints,
                sources.opportunities,
                opportunity_history=[tmp_path / "deals.csv", tmp_path / "long.csv"],
            ),
            CONFIG,
        )
