"""Ingest: every reason code, row accounting, idempotence, clear errors for unreadable files."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.contracts import QuarantineReason
from attribution.ingest import (
    InputFileError,
    load_fx_rates,
    load_opportunities,
    load_source,
    load_touchpoints,
    resolve_paths,
)
from attribution.mapping import SourceMapping
from tests.conftest import DIRTY_DIR, write_csv


def _load_dirty(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    load_fx_rates(conn, DIRTY_DIR / "fx_rates.csv", config)
    load_opportunities(conn, DIRTY_DIR / "opportunities.csv", config)
    load_touchpoints(conn, DIRTY_DIR / "touchpoints.csv", config)
    load_source(conn, "opportunity_history", DIRTY_DIR / "opportunity_history.csv", config)
    load_source(conn, "experiments", DIRTY_DIR / "experiments.csv", config)
    load_source(conn, "experiment_assignments", DIRTY_DIR / "experiment_assignments.csv", config)


def _quarantined(conn: duckdb.DuckDBPyConnection, source: str) -> dict[int, str]:
    rows = conn.sql(
        "select source_row, reason from quarantine where source = ? order by source_row",
        params=[source],
    ).fetchall()
    return {int(r): str(reason) for r, reason in rows}


def test_dirty_touchpoints_each_row_has_its_expected_outcome(conn, config):
    _load_dirty(conn, config)
    # Row numbers are 1-based data rows of data/dirty/touchpoints.csv, read by eye.
    assert _quarantined(conn, "touchpoints") == {
        3: "missing_required",  # no touchpoint_id
        4: "missing_required",  # no occurred_at
        5: "missing_required",  # no channel
        6: "bad_timestamp",  # not-a-date
        7: "bad_timestamp",  # 12/01/2026 is not ISO-8601
        8: "future_timestamp",  # 2099, after the as-of time
        9: "duplicate_id",  # t1 again; the first t1 is kept
    }
    staged = conn.sql(
        "select touchpoint_id, occurred_at, channel from stg_touchpoints order by touchpoint_id"
    ).fetchall()
    assert staged == [
        ("t1", datetime(2026, 1, 10, 10, 0), "paid_search"),  # 'Paid Search' normalized
        ("t2", datetime(2026, 1, 11, 8, 0), "email"),  # +02:00 normalized to UTC
        ("t9", datetime(2026, 2, 1, 9, 30), "webinar"),  # '  Webinar ' trimmed, lower case
    ]


def test_dirty_opportunities_each_row_has_its_expected_outcome(conn, config):
    _load_dirty(conn, config)
    assert _quarantined(conn, "opportunities") == {
        3: "missing_required",
        4: "bad_timestamp",
        5: "bad_stage",  # is_closed 'maybe' is not a boolean ('pending' alone would be open)
        6: "bad_amount",
        7: "bad_amount",
        8: "missing_closed_at",
        9: "closed_before_created",
        10: "future_timestamp",  # 2099: after the run's wall clock, not only after as-of
        11: "unknown_currency",
        12: "duplicate_id",
        13: "missing_required",  # a blank currency in a present column is not guessed
    }
    staged = conn.sql(
        "select opportunity_id, currency, stage, stage_label, expected_close_at, pipeline_amount, "
        "revenue_amount from stg_opportunities order by opportunity_id"
    ).fetchall()
    # o2: 2000 EUR; created 2026-01-21 takes the 2025-12-01 rate 1.1 -> 2200; closed 2026-03-01
    # takes the 2026-02-01 rate 1.2 (the first of the duplicate pair) -> 2400.
    # o13: an open Salesforce stage whose close date (before created) is only an expectation.
    # o14: the is_closed / is_won flags win over an unknown label.
    assert staged == [
        ("o1", "USD", "open", "open", None, 1000.0, None),
        ("o13", "USD", "open", "Negotiation/Review", datetime(2026, 1, 10), 50.0, None),
        ("o14", "USD", "closed_won", "Won - Paid", None, 70.0, 70.0),
        ("o2", "EUR", "closed_won", "closed_won", None, 2200.0, 2400.0),
    ]


def test_dirty_fx_rates_each_row_has_its_expected_outcome(conn, config):
    _load_dirty(conn, config)
    assert _quarantined(conn, "fx_rates") == {
        3: "duplicate_id",
        4: "missing_required",
        5: "bad_timestamp",
        6: "bad_amount",
        7: "wrong_base_currency",  # a rate into EUR while the base is USD
    }


def test_dirty_sample_covers_every_reason_code(conn, config):
    _load_dirty(conn, config)
    seen = {r[0] for r in conn.sql("select distinct reason from quarantine").fetchall()}
    expected = {reason.value for reason in QuarantineReason}
    assert expected <= seen


@pytest.mark.parametrize(
    "source",
    [
        "touchpoints",
        "opportunities",
        "fx_rates",
        "opportunity_history",
        "experiments",
        "experiment_assignments",
    ],
)
def test_row_accounting_on_the_dirty_sample(conn, config, source):
    _load_dirty(conn, config)
    raw_lines = (DIRTY_DIR / f"{source}.csv").read_text().strip().count("\n")  # minus the header
    staged = conn.sql(f"select count(*) from stg_{source}").fetchall()[0][0]
    quarantined = conn.sql("select count(*) from quarantine where source = ?", params=[source]).fetchall()[0][
        0
    ]
    audit = conn.sql(
        "select raw_rows, staged_rows, quarantined_rows from load_audit where source = ?",
        params=[source],
    ).fetchall()[0]
    assert staged + quarantined == raw_lines
    assert audit == (raw_lines, staged, quarantined)


def test_dirty_history_rows_get_their_reasons(conn, config):
    # by hand from data/dirty/opportunity_history.csv (o1 created 2026-01-20, o2 2026-01-21)
    _load_dirty(conn, config)
    assert _quarantined(conn, "opportunity_history") == {
        3: "unknown_opportunity",
        4: "changed_before_created",
        5: "unknown_stage",
        6: "bad_amount",
    }


def test_dirty_experiments_and_assignments_get_their_reasons(conn, config):
    # by hand from data/dirty/experiments.csv and experiment_assignments.csv; the accounts
    # a1 and a3 are staged accounts (a touch or a deal), a9 is nobody's
    _load_dirty(conn, config)
    assert _quarantined(conn, "experiments") == {
        2: "bad_window",  # e2 ends before it starts
        3: "bad_experiment",  # e3's unit is a region
        4: "missing_required",  # e4 has no start
        5: "bad_timestamp",  # e5 starts "someday"
        6: "duplicate_id",  # e1 again
    }
    assert _quarantined(conn, "experiment_assignments") == {
        3: "unknown_unit",
        4: "duplicate_id",  # a1 again in e1
        5: "unknown_experiment",
        6: "bad_arm",
        7: "missing_required",
    }


def test_quarantine_keeps_the_row_as_json(conn, config):
    _load_dirty(conn, config)
    record, source_file = conn.sql(
        "select record, source_file from quarantine where source = 'opportunities' and source_row = 5"
    ).fetchall()[0]
    assert '"stage":"pending"' in record and '"is_closed":"maybe"' in record
    assert source_file.endswith("opportunities.csv")


def test_second_load_is_idempotent(conn, config):
    _load_dirty(conn, config)
    before = {
        t: conn.sql(f"select * from {t} order by all").fetchall()
        for t in ("stg_touchpoints", "stg_opportunities", "stg_fx_rates", "quarantine", "load_audit")
    }
    _load_dirty(conn, config)
    after = {t: conn.sql(f"select * from {t} order by all").fetchall() for t in before}
    assert after == before


def test_missing_file_is_a_clear_error(conn, config, tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputFileError, match=r"nope\.csv: file not found"):
        load_touchpoints(conn, missing, config)
    with pytest.raises(InputFileError, match="no file matches"):
        load_touchpoints(conn, str(tmp_path / "*.csv"), config)


def test_file_without_required_columns_names_file_and_columns(conn, config, tmp_path):
    path = write_csv(tmp_path / "touches.csv", ["id", "when"], [["x", "2026-01-01"]])
    with pytest.raises(InputFileError) as excinfo:
        load_touchpoints(conn, path, config)
    message = str(excinfo.value)
    assert str(path) in message
    assert "touchpoint_id" in message and "occurred_at" in message and "channel" in message


def test_empty_file_is_a_clear_error(conn, config, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputFileError, match=r"empty\.csv"):
        load_touchpoints(conn, path, config)


def test_binary_garbage_as_parquet_is_a_clear_error(conn, config, tmp_path):
    path = tmp_path / "touches.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputFileError, match=r"touches\.parquet: cannot be read as Parquet"):
        load_touchpoints(conn, path, config)


def test_parquet_and_csv_globs_load_alike(conn, config, tmp_path):
    import polars as pl

    frame = pl.DataFrame(
        {
            "touchpoint_id": ["p1", "p2"],
            "occurred_at": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00-05:00"],
            "account_id": ["a", "a"],
            "channel": ["email", "event"],
        }
    )
    frame.write_parquet(tmp_path / "part-1.parquet")
    result = load_touchpoints(conn, str(tmp_path / "*.parquet"), config)
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows) == (2, 2, 0)
    assert conn.sql("select max(occurred_at) from stg_touchpoints").fetchall()[0][0] == datetime(
        2026, 1, 2, 5, 0
    )


def test_parquet_files_read_in_place_keep_every_row_accounted(conn, tmp_path):
    # Parquet-only sources are read through a view with the file names and settings as SQL
    # literals: a folder with a quote and a question mark, a column spelled with both, a
    # file lacking the currency column (the base currency, per file) next to one with it,
    # a quarantined row (its record read back from the file) and a duplicate id; then the
    # same files with a CSV beside them (the copied-table route) give the same tables.
    import polars as pl

    folder = tmp_path / "it's a ?folder"
    folder.mkdir()
    config = AttributionConfig.from_settings(
        as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1), fx_base_currency="USD"
    )
    first = {
        "opportunity_id": ["o1", "o2", "o2"],
        "account_id": ["a", "b", "b"],
        "created_at": ["2026-01-05", "2026-02-01", "2026-02-01"],
        "stage": ["Closed Won", "Prospecting", "Prospecting"],
        "Amount (it's ?)": ["100", "oops", "200"],
        "closed_at": ["2026-03-01", None, None],
    }
    pl.DataFrame(first).write_parquet(folder / "part-1.parquet")
    pl.DataFrame(
        {
            "opportunity_id": ["o3"],
            "account_id": ["c"],
            "created_at": ["2026-03-01"],
            "stage": ["Prospecting"],
            "Amount (it's ?)": ["300"],
            "currency": ["USD"],
        }
    ).write_parquet(folder / "part-2.parquet")
    config = AttributionConfig(
        as_of=config.as_of,
        run_started_at=config.run_started_at,
        mapping=SourceMapping(columns=(("opportunities", "amount", "Amount (it's ?)"),)),
    )
    result = load_opportunities(conn, str(folder / "*.parquet"), config)
    # o2's first row has a bad amount; its second row is then the first valid o2 (no duplicate)
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows) == (4, 3, 1)
    assert result.balanced
    staged = conn.sql("select opportunity_id, amount, currency from stg_opportunities order by 1").fetchall()
    assert staged == [("o1", 100.0, "USD"), ("o2", 200.0, "USD"), ("o3", 300.0, "USD")]
    quarantined = conn.sql("select source_file, source_row, record, reason from quarantine").fetchall()
    assert [(r[0], r[1], r[3]) for r in quarantined] == [(str(folder / "part-1.parquet"), 2, "bad_amount")]
    assert '"oops"' in quarantined[0][2]
    write_csv(
        folder / "part-3.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "Amount (it's ?)"],
        [["o1", "a", "2026-01-05", "Prospecting", "5"]],
    )
    mixed = load_opportunities(conn, [str(folder / "*.parquet"), str(folder / "part-3.csv")], config)
    assert (mixed.raw_rows, mixed.staged_rows, mixed.quarantined_rows) == (5, 3, 2)
    assert conn.sql("select source_file, reason from quarantine order by all").fetchall() == [
        (str(folder / "part-1.parquet"), "bad_amount"),
        (str(folder / "part-3.csv"), "duplicate_id"),
    ]


def test_paths_with_spaces_quotes_and_semicolons(conn, config, tmp_path):
    folder = tmp_path / "odd 'name'; drop table x"
    path = write_csv(
        folder / "touch points.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [["t", "2026-01-01", "a", "email"]],
    )
    assert resolve_paths(path) == [str(path)]
    assert load_touchpoints(conn, path, config).staged_rows == 1


def test_after_as_of_is_counted_and_future_is_relative_to_the_wall_clock(conn, tmp_path):
    # Regression (issue 9, defect 3): a touch after as-of is left out and counted, not
    # quarantined; only a timestamp later than the run's wall clock (+ a day) is bad data.
    path = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["t", "2026-03-01T00:00:00Z", "a", "email"],
            ["tomorrow", "2026-04-01T20:00:00Z", "a", "email"],  # within a day of the clock
            ["later", "2026-04-03T00:00:00Z", "a", "email"],
        ],
    )
    clock = datetime(2026, 4, 1, 12, 0)
    early = load_touchpoints(conn, path, AttributionConfig(as_of=datetime(2026, 2, 1), run_started_at=clock))
    assert (early.staged_rows, early.quarantined_rows, early.after_as_of_rows) == (0, 1, 2)
    late = load_touchpoints(conn, path, AttributionConfig(as_of=datetime(2026, 4, 1), run_started_at=clock))
    assert (late.staged_rows, late.quarantined_rows, late.after_as_of_rows) == (1, 1, 1)
    assert conn.sql("select reason from quarantine").fetchall() == [("future_timestamp",)]
    assert conn.sql("select after_as_of_rows from load_audit").fetchall() == [(1,)]


def test_the_whole_history_lands_whatever_its_dates(conn, tmp_path):
    # Regression (issue 9, defect 1): touches from years before any start date, and one of
    # today, are all staged by one load; the first load is the whole file.
    path = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["old", "2019-06-30T23:00:00Z", "a", "email"],
            ["y2024", "2024-02-29", "a", "event"],
            ["today", "2026-11-25T08:00:00Z", "a", "webinar"],
        ],
    )
    clock = datetime(2026, 11, 25, 9, 0)
    result = load_touchpoints(conn, path, AttributionConfig(as_of=clock, run_started_at=clock))
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows, result.after_as_of_rows) == (
        3,
        3,
        0,
        0,
    )
    from attribution.checks import row_accounting_violations

    assert row_accounting_violations(conn, "touchpoints").is_empty()


def test_resolve_paths_accepts_lists(tmp_path):
    a = write_csv(tmp_path / "a.csv", ["x"], [])
    b = write_csv(tmp_path / "b.csv", ["x"], [])
    assert resolve_paths([str(b), a, str(tmp_path / "*.csv")]) == [str(b), str(a)]
