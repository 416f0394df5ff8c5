"""`python -m dagster_defs.run` (make run): the run recorded for the UI, its log in a file, the
comparison printed, and a failed step said in one line."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dagster_defs import run
from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles
from tests.conftest import AS_OF, write_csv
from tests.dagster_defs.test_end_to_end import core_defs


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_a_run_is_recorded_logged_and_printed(sample_dir, tmp_path, dagster_home, capfd):
    defs, database = core_defs(
        sample_dir, tmp_path, "run.duckdb", AttributionSettings(as_of=AS_OF.isoformat())
    )
    assert run.main([], defs) == 0
    out = capfd.readouterr().out
    # the run's steps in the log, not on the terminal; the comparison on the terminal
    log = (dagster_home / run.LOG_FILE).read_text()
    assert "RUN_SUCCESS" in log and "STEP_START" not in out
    steps = log.count(" - STEP_SUCCESS - ")
    assert steps > 10 and f"{steps} steps succeeded (assets and checks)" in out
    assert "Attributed pipeline by channel and model" in out
    assert f"report: {tmp_path / 'exports' / 'attribution_report.html'}" in out
    assert (tmp_path / "exports" / "attribution_report.html").is_file() and database.is_file()
    # recorded in the instance the UI reads ($DAGSTER_HOME), with its materializations
    with dg.DagsterInstance.get() as instance:
        records = instance.get_run_records()
        assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS]
        assert instance.get_latest_materialization_event(dg.AssetKey("mart_channel_comparison"))


def test_a_failed_step_is_said_in_one_line_with_the_log(sample_dir, tmp_path, dagster_home, capfd):
    # an opportunities file without its amount column: the ingest step stops with a Failure
    bad = write_csv(
        tmp_path / "opps.csv", ["opportunity_id", "account_id", "created_at"], [["o1", "a1", "2026-01-05"]]
    )
    defs = build_defs(
        AttributionDuckDB(database=str(tmp_path / "run.duckdb")),
        SourceFiles(touchpoints=str(sample_dir / "touchpoints" / "*.csv"), opportunities=str(bad)),
        AttributionSettings(as_of=AS_OF.isoformat()),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    assert run.main([], defs) == 1
    out = capfd.readouterr().out.strip().splitlines()
    log = dagster_home / run.LOG_FILE
    assert out[-1] == f"run failed: see {log}"
    assert out[0].startswith("ingest_sources: Input file problem: ") and "amount" in out[0], out
    assert "Traceback" not in "\n".join(out) and "STEP_FAILURE" in log.read_text()


def test_without_dagster_home_it_says_so(monkeypatch, capfd):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run.main([]) == 2
    assert "DAGSTER_HOME is not set" in capfd.readouterr().err


def test_an_instance_that_cannot_start_is_said_in_one_line(sample_dir, tmp_path, dagster_home, capfd):
    # a dagster.yaml Dagster refuses: the run stops before its first step
    (dagster_home / "dagster.yaml").write_text("storage:\n  no_such_storage: {}\n")
    defs, _ = core_defs(sample_dir, tmp_path, "run.duckdb", AttributionSettings(as_of=AS_OF.isoformat()))
    assert run.main([], defs) == 1
    out = capfd.readouterr().out.strip().splitlines()
    assert out[0].startswith("the run could not start: ") and len(out) == 2, out
    assert out[1] == f"run failed: see {dagster_home / run.LOG_FILE}"
    assert "Traceback" in (dagster_home / run.LOG_FILE).read_text()
