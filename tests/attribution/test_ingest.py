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
    load_touchpoints,
    resolve_paths,
)
from tests.conftest import DIRTY_DIR, write_csv


def _load_dirty(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    load_fx_rates(conn, DIRTY_DIR / "fx_rates.csv", config)
    load_opportunities(conn, DIRTY_DIR / "opportunities.csv", config)
    load_touchpoints(conn, DIRTY_DIR / "touchpoints.csv", config)


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
        5: "bad_stage",
        6: "bad_amount",
        7: "bad_amount",
        8: "missing_closed_at",
        9: "closed_before_created",
        10: "future_timestamp",
        11: "unknown_currency",
        12: "duplicate_id",
    }
    staged = conn.sql(
        "select opportunity_id, currency, pipeline_amount, revenue_amount from stg_opportunities "
        "order by opportunity_id"
    ).fetchall()
    # o2: 2000 EUR; created 2026-01-21 takes the 2025-12-01 rate 1.1 -> 2200; closed 2026-03-01
    # takes the 2026-02-01 rate 1.2 (the first of the duplicate pair) -> 2400.
    assert staged == [
        ("o1", "USD", 1000.0, None),
        ("o12", "USD", 0.0, 0.0),  # empty currency defaults to the reporting currency
        ("o2", "EUR", 2200.0, 2400.0),
    ]


def test_dirty_fx_rates_each_row_has_its_expected_outcome(conn, config):
    _load_dirty(conn, config)
    assert _quarantined(conn, "fx_rates") == {
        3: "duplicate_id",
        4: "missing_required",
        5: "bad_timestamp",
        6: "bad_amount",
    }


def test_dirty_sample_covers_every_reason_code(conn, config):
    _load_dirty(conn, config)
    seen = {r[0] for r in conn.sql("select distinct reason from quarantine").fetchall()}
    expected = {reason.value for reason in QuarantineReason}
    assert expected <= seen


@pytest.mark.parametrize("source", ["touchpoints", "opportunities", "fx_rates"])
def test_row_accounting_on_the_dirty_sample(conn, config, source):
    _load_dirty(conn, config)
    raw_lines = (DIRTY_DIR / f"{source}.csv").read_text().strip().count("\n")  # minus the header
    staged = conn.sql(f"select count(*) from stg_{source}").fetchall()[0][0]
    quarantined = conn.sql(
        "select count(*) from quarantine where source = ?", params=[source]
    ).fetchall()[0][0]
    audit = conn.sql(
        "select raw_rows, staged_rows, quarantined_rows from load_audit where source = ?",
        params=[source],
    ).fetchall()[0]
    assert staged + quarantined == raw_lines
    assert audit == (raw_lines, staged, quarantined)


def test_quarantine_keeps_the_row_as_json(conn, config):
    _load_dirty(conn, config)
    record, source_file = conn.sql(
        "select record, source_file from quarantine where source = 'opportunities' and source_row = 5"
    ).fetchall()[0]
    assert '"stage":"pending"' in record
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
    with pytest.raises(InputFileError, match="empty.csv"):
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


def test_paths_with_spaces_quotes_and_semicolons(conn, config, tmp_path):
    folder = tmp_path / "odd 'name'; drop table x"
    path = write_csv(
        folder / "touch points.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [["t", "2026-01-01", "a", "email"]],
    )
    assert resolve_paths(path) == [str(path)]
    assert load_touchpoints(conn, path, config).staged_rows == 1


def test_future_timestamp_is_relative_to_as_of(conn, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [["t", "2026-03-01T00:00:00Z", "a", "email"]],
    )
    early = AttributionConfig(as_of=datetime(2026, 2, 1))
    late = AttributionConfig(as_of=datetime(2026, 4, 1))
    assert load_touchpoints(conn, path, early).quarantined_rows == 1
    assert load_touchpoints(conn, path, late).staged_rows == 1


def test_resolve_paths_accepts_lists(tmp_path):
    a = write_csv(tmp_path / "a.csv", ["x"], [])
    b = write_csv(tmp_path / "b.csv", ["x"], [])
    assert resolve_paths([str(b), a, str(tmp_path / "*.csv")]) == [str(b), str(a)]




def _daily_touches(tmp_path):
    # two days of touches plus one unparseable row, in one file
    return write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["d1a", "2026-01-01T08:00:00Z", "a", "email"],
            ["d1b", "2026-01-01T23:59:59Z", "a", "event"],
            ["d2a", "2026-01-02T00:00:00Z", "a", "webinar"],
            ["d2dup", "2026-01-02T10:00:00Z", "a", "webinar"],
            ["bad", "soon", "a", "email"],
        ],
    )


def test_partition_load_replaces_only_its_day(conn, config, tmp_path):
    path = _daily_touches(tmp_path)
    day1 = (datetime(2026, 1, 1), datetime(2026, 1, 2))
    day2 = (datetime(2026, 1, 2), datetime(2026, 1, 3))
    first = load_touchpoints(conn, path, config, window=day1)
    # day 1: 2 staged, 1 quarantined (the undated row), 2 out of window; all accounted for
    assert (first.raw_rows, first.staged_rows, first.quarantined_rows, first.out_of_window_rows) == (5, 2, 1, 2)
    second = load_touchpoints(conn, path, config, window=day2)
    assert (second.staged_rows, second.quarantined_rows, second.out_of_window_rows) == (2, 1, 2)
    ids = [r[0] for r in conn.sql("select touchpoint_id from stg_touchpoints order by 1").fetchall()]
    assert ids == ["d1a", "d1b", "d2a", "d2dup"]
    # the undated row is quarantined once, not once per load
    assert conn.sql("select count(*) from quarantine where reason = 'bad_timestamp'").fetchall() == [(1,)]
    # reloading day 1 twice leaves the same tables
    before = conn.sql("select * from stg_touchpoints order by all").fetchall()
    load_touchpoints(conn, path, config, window=day1)
    load_touchpoints(conn, path, config, window=day1)
    assert conn.sql("select * from stg_touchpoints order by all").fetchall() == before
    from attribution.checks import row_accounting_violations

    assert row_accounting_violations(conn, "touchpoints").is_empty()


def test_partition_load_rejects_an_id_staged_for_another_day(conn, config, tmp_path):
    day1 = (datetime(2026, 1, 1), datetime(2026, 1, 2))
    day2 = (datetime(2026, 1, 2), datetime(2026, 1, 3))
    header = ["touchpoint_id", "occurred_at", "account_id", "channel"]
    load_touchpoints(conn, write_csv(tmp_path / "a.csv", header, [["x", "2026-01-01T05:00:00Z", "a", "email"]]), config, window=day1)
    result = load_touchpoints(conn, write_csv(tmp_path / "b.csv", header, [["x", "2026-01-02T05:00:00Z", "a", "email"]]), config, window=day2)
    assert (result.staged_rows, result.quarantined_rows) == (0, 1)
    assert conn.sql("select reason from quarantine").fetchall() == [("duplicate_id",)]
