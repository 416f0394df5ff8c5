"""What a run publishes: spreadsheet-safe CSVs, exact reconciliation at any journey length,
only published runs in the history, one clear line when the export folder cannot be written,
and readers that wait for a writer."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution.cli import main
from attribution.export import remove_stale_temporaries
from attribution.locking import writer_lock
from tests.conftest import write_csv

OPPORTUNITY_HEADER = ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"]
TOUCH_HEADER = ["touchpoint_id", "occurred_at", "account_id", "channel", "campaign", "touch_type"]


def _world(
    folder: Path, touches: Sequence[Sequence[object]], opportunities: Sequence[Sequence[object]]
) -> list[str]:
    """CLI arguments of a small user world (no fx, milestones, spend; no intervals)."""
    write_csv(folder / "touches.csv", TOUCH_HEADER, touches)
    write_csv(folder / "opps.csv", OPPORTUNITY_HEADER, opportunities)
    return [
        "--touchpoints",
        str(folder / "touches.csv"),
        "--opportunities",
        str(folder / "opps.csv"),
        "--database",
        str(folder / "run.duckdb"),
        "--export-dir",
        str(folder / "exports"),
        "--as-of",
        "2026-06-01",
        "--interval-replicates",
        "0",
        "--quiet",
    ]


HOSTILE_TOUCHES = [
    ["=1+1", "2026-03-01", "acc", "email", '=HYPERLINK("http://evil","x")', "-2+3"],
    ["+t2", "2026-03-02", "acc", "webinar", "@SUM(A1)", "\tform"],
    ["t3", "2026-03-03", "acc", "paid_search", "-plain minus", "visit"],
]
OPPORTUNITIES = [["o1", "acc", "2026-03-10", "2026-04-01", "closed_won", "300"]]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralized(tmp_path, capsys):
    main(_world(tmp_path, HOSTILE_TOUCHES, OPPORTUNITIES))
    exports = tmp_path / "exports"
    rows = [r for r in _csv_rows(exports / "mart_attribution_credits.csv") if r["model"] == "linear"]
    by_id = {r["touchpoint_id"]: r for r in rows if r["journey_kind"] == "pipeline"}
    # ids and campaigns that start with =, +, -, @ get a leading quote; others are untouched
    assert set(by_id) == {"'=1+1", "'+t2", "t3"}
    assert by_id["'=1+1"]["campaign"] == '\'=HYPERLINK("http://evil","x")'
    assert by_id["'+t2"]["campaign"] == "'@SUM(A1)"
    assert by_id["t3"]["campaign"] == "'-plain minus"
    campaigns = {r["campaign"] for r in _csv_rows(exports / "mart_campaign_comparison.csv")}
    assert "'@SUM(A1)" in campaigns
    # Parquet and DuckDB keep the exact text
    parquet = pl.read_parquet(exports / "mart_attribution_credits.parquet")
    assert {"=1+1", "+t2", "t3"} <= set(parquet["touchpoint_id"])
    assert "@SUM(A1)" in set(parquet["campaign"])
    with duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True) as conn:
        types = {r[0] for r in conn.sql("select touch_type from stg_touchpoints").fetchall()}
    # touch types are trimmed and lower-cased at staging: '-2+3' keeps its leading minus
    assert "-2+3" in types
    touch_csv = [r for r in _csv_rows(exports / "mart_attribution_credits.csv")]
    assert all(not r["touchpoint_id"].startswith(("=", "+", "-", "@")) for r in touch_csv)


@pytest.mark.slow
def test_a_journey_of_200k_touches_reconciles_to_the_cent(tmp_path):
    # 200,000 touches of one account before one won deal of 262,388.40: every touch of the
    # middle gets the same tiny credit, so rounding each touch's amount to micro-units lost
    # up to 0.1 (position-based revenue reported 262,388.30); summed in pico-units every
    # model and cut reconciles to the cent
    count = 200_000
    channels = ["email", "webinar", "paid_search", "event"]
    touches = [
        [
            f"t{i:06d}",
            f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "acc",
            channels[i % 4],
            f"c{i % 7}",
            "visit",
        ]
        for i in range(count)
    ]
    main(_world(tmp_path, touches, [["o1", "acc", "2026-03-10", "2026-03-20", "closed_won", "262388.40"]]))
    with duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True) as conn:
        off = conn.sql(
            "select journey_kind, model, attributed_amount, total_amount from mart_reconciliation "
            "where not is_reconciled"
        ).fetchall()
        assert off == []
        totals = conn.sql(
            "select model, round(sum(attributed_amount), 2) from mart_channel_comparison "
            "where journey_kind = 'revenue' group by model"
        ).fetchall()
        assert totals and all(amount == 262388.40 for _, amount in totals)
        assert conn.sql(
            "select count(*) from mart_reconciliation_cuts where not is_reconciled"
        ).fetchall() == [(0,)]


def test_a_run_that_did_not_publish_never_enters_the_history(tmp_path, capsys):
    arguments = _world(tmp_path, HOSTILE_TOUCHES, OPPORTUNITIES)
    main([*arguments, "--as-of", "2026-05-01"])
    capsys.readouterr()
    exports = tmp_path / "exports"
    before = (exports / "manifest.json").read_bytes()
    # the export folder becomes unwritable (a file where it should be): the run stops with one
    # line and exit code 73, publishes nothing, and its snapshot stays out of the history
    moved = tmp_path / "exports-kept"
    exports.rename(moved)
    exports.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 73
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(exports) in err[0] and "is a file" in err[0]
    with duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True) as conn:
        runs = conn.sql("select is_published from snapshot_runs order by taken_at").fetchall()
    assert runs == [(True,), (False,)]
    exports.unlink()
    moved.rename(exports)
    assert (exports / "manifest.json").read_bytes() == before
    # the next run publishes; the failed run's pending snapshot is gone, so the first-reported
    # figures are the first published run's
    main(arguments)
    with duckdb.connect(str(tmp_path / "run.duckdb"), read_only=True) as conn:
        runs = conn.sql("select run_id, is_published from snapshot_runs order by taken_at").fetchall()
        first = {r[0] for r in conn.sql("select distinct first_run_id from mart_restatements").fetchall()}
    assert [published for _, published in runs] == [True, True]
    assert first <= {runs[0][0], runs[1][0]}
    manifest = json.loads((exports / "manifest.json").read_text())
    assert manifest["as_of"].startswith("2026-06-01")


def test_an_unwritable_export_folder_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:
        # root writes anywhere: a folder under a file is unwritable for everyone
        blocked = tmp_path / "a-file"
        blocked.write_text("x", encoding="utf-8")
        target = blocked / "exports"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "exports"
    arguments = _world(tmp_path, HOSTILE_TOUCHES, OPPORTUNITIES)
    arguments[arguments.index("--export-dir") + 1] = str(target)
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 73
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(target) in err[0] and "cannot write the export folder" in err[0]


def test_temporary_files_of_a_killed_run_are_cleaned_up(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    dead = exports / ".mart_channel_comparison.csv.tmp-999999999"
    dead.write_text("half", encoding="utf-8")
    alive = exports / f".manifest.json.tmp-{os.getpid()}"
    alive.write_text("in flight", encoding="utf-8")
    assert remove_stale_temporaries(exports) == [dead]
    assert not dead.exists() and alive.exists()


def test_the_report_waits_for_a_writer_or_says_so_in_one_line(tmp_path, capsys):
    from attribution.report import main as report_main

    main(_world(tmp_path, HOSTILE_TOUCHES, OPPORTUNITIES))
    capsys.readouterr()
    database = tmp_path / "run.duckdb"
    with writer_lock(database), pytest.raises(SystemExit) as stopped:
        report_main(["--database", str(database), "--wait", "0.3"])
    assert stopped.value.code == 75
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "another run is writing" in err[0]
    # once the writer is done the report reads
    report_main(["--database", str(database)])
    assert "Attributed pipeline by channel and model" in capsys.readouterr().out


def test_more_channels_than_markov_can_solve_stops_early_with_a_clear_line(tmp_path, capsys):
    # 30 distinct channels against a limit of 20: one line naming the limit, exit 65, before
    # the per-channel solves (50,000 channels took minutes, then hung in the intervals)
    touches = [[f"t{i}", "2026-03-01", "acc", f"source {i}", None, None] for i in range(30)]
    arguments = [*_world(tmp_path, touches, OPPORTUNITIES), "--markov-max-channels", "20"]
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "30 distinct channels, more than markov_max_channels (20)" in err[0]
    main([*arguments[:-2], "--markov-max-channels", "30"])  # within the limit it runs
