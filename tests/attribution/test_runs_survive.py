"""Crash safety, concurrent runs and restatement, through the `attribution-run` CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.export import file_sha256
from attribution.models import MODELS
from attribution.pipeline import SourcePaths, run_pipeline
from attribution.restatements import build_restatements, publish_snapshot, take_snapshot
from tests.conftest import AS_OF

MART_TABLES = (
    "stg_touchpoints",
    "stg_opportunities",
    "int_journeys",
    "int_journey_touches",
    "mart_attribution_credits",
    "mart_markov_removal_effects",
    "mart_channel_comparison",
    "mart_influenced_pipeline",
    "mart_influenced_revenue",
    "mart_reconciliation",
)


def run_command(sample: Path, workdir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "attribution.cli",
        "--touchpoints",
        str(sample / "touchpoints" / "*.csv"),
        "--opportunities",
        str(sample / "opportunities" / "*.csv"),
        "--fx-rates",
        str(sample / "fx_rates.csv"),
        "--database",
        str(workdir / "attribution.duckdb"),
        "--export-dir",
        str(workdir / "exports"),
        "--as-of",
        AS_OF.isoformat(),
        *extra,
    ]


def checksums(export_dir: Path) -> dict[str, str]:
    """Checksums of the published files, except the restatement table and the report (which
    shows it): they report this database's own run history (run ids, first-reported figures),
    which differs by design between a database that saw earlier runs and a fresh one."""
    manifest = json.loads((export_dir / "manifest.json").read_text())
    return {
        name: entry["sha256"]
        for name, entry in manifest["files"].items()
        if not name.startswith("mart_restatements.") and name != "attribution_report.html"
    }


def exports_match_their_manifest(export_dir: Path) -> bool:
    manifest = json.loads((export_dir / "manifest.json").read_text())
    return all(file_sha256(export_dir / n) == e["sha256"] for n, e in manifest["files"].items())


@pytest.fixture(scope="module")
def reference(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Checksums of an uninterrupted run."""
    workdir = tmp_path_factory.mktemp("reference")
    subprocess.run(run_command(sample_dir, workdir), check=True, capture_output=True, timeout=300)
    return checksums(workdir / "exports")


@pytest.fixture(scope="module")
def previous_run(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where a run with another lookback published different exports (each kill
    test starts from a copy of it: the same file and exports, one run fewer per test)."""
    workdir = tmp_path_factory.mktemp("previous")
    subprocess.run(
        run_command(sample_dir, workdir, "--lookback-days", "60"),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_at", ["ingest fx_rates", "ingest touchpoints", "journeys", "models", "marts", "export"]
)
def test_kill_9_mid_run_leaves_a_readable_file_and_intact_exports(
    sample_dir, tmp_path, reference, previous_run, kill_at
):
    # a previous run with another lookback published different exports
    shutil.copytree(previous_run, tmp_path, dirs_exist_ok=True)
    previous = checksums(tmp_path / "exports")
    assert previous != reference
    process = subprocess.Popen(run_command(sample_dir, tmp_path), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if f"step {kill_at} " in line:
            time.sleep(0.05)  # into the step, not at its edge
            break
    else:
        pytest.fail(f"the run never announced the step {kill_at!r}")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    # the DuckDB file opens and answers
    with duckdb.connect(str(tmp_path / "attribution.duckdb")) as conn:
        conn.sql("select count(*) from stg_opportunities").fetchall()
    # the published exports are the previous ones, whole, and no temporary file is visible
    # under a published name
    assert checksums(tmp_path / "exports") == previous
    assert exports_match_their_manifest(tmp_path / "exports")
    # the next run gives exactly the uninterrupted run's files
    subprocess.run(run_command(sample_dir, tmp_path), check=True, capture_output=True, timeout=300)
    assert checksums(tmp_path / "exports") == reference
    assert exports_match_their_manifest(tmp_path / "exports")


def test_two_runs_at_once_serialize(sample_dir, tmp_path, reference):
    first = subprocess.Popen(
        run_command(sample_dir, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    second = subprocess.Popen(
        run_command(sample_dir, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert checksums(tmp_path / "exports") == reference


def test_a_run_that_may_not_wait_says_another_run_is_writing(sample_dir, tmp_path):
    from attribution.locking import writer_lock

    with writer_lock(tmp_path / "attribution.duckdb"):
        done = subprocess.run(
            run_command(sample_dir, tmp_path, "--wait", "0.5"), capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 75
    assert "another run is writing" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreadable_input_is_a_clear_message_not_a_traceback(sample_dir, tmp_path):
    bad = tmp_path / "touches.csv"
    bad.write_text("id,when\n1,2\n")
    command = run_command(sample_dir, tmp_path)
    command[command.index("--touchpoints") + 1] = str(bad)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 65
    assert "missing required column(s) touchpoint_id" in done.stderr and str(bad) in done.stderr
    assert "Traceback" not in done.stderr


def _tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: conn.sql(
            f"select * exclude (loaded_at) from {t} order by all"
            if t == "quarantine"
            else f"select * from {t} order by all"
        ).fetchall()
        for t in MART_TABLES
    }


def test_restatement_matches_a_fresh_run(sample_dir, tmp_path):
    inputs = tmp_path / "inputs"
    shutil.copytree(sample_dir, inputs)
    config = AttributionConfig(as_of=AS_OF)
    sources = SourcePaths(
        str(inputs / "touchpoints" / "*.csv"),
        str(inputs / "opportunities" / "*.csv"),
        str(inputs / "fx_rates.csv"),
    )
    database = tmp_path / "restated.duckdb"
    with duckdb.connect(str(database)) as conn:
        run_pipeline(conn, sources, config)
        take_snapshot(conn, "first-run", config, taken_at=datetime(2026, 6, 2))
        publish_snapshot(conn, "first-run")
        build_restatements(conn)
        assert conn.sql("select count(*) from mart_restatements where difference <> 0").fetchall() == [(0,)]
        first_won = conn.sql(
            "select sum(attributed_amount) from int_attributed_by_month where journey_kind = 'revenue' "
            "and model = 'linear' and period_month = date '2026-05-01'"
        ).fetchall()[0][0]

    # change the world: a lost opportunity is won after all, with a new amount, and a touch
    # arrives late for a day long past, inside that opportunity's pipeline journey
    opportunities = pl.read_csv(inputs / "opportunities" / "part-00000.csv", infer_schema=False)
    target = opportunities.filter(
        (pl.col("stage") == "closed_lost") & (pl.col("created_at") < "2026-04-01")
    ).row(0, named=True)
    changed = opportunities.with_columns(
        stage=pl.when(pl.col("opportunity_id") == target["opportunity_id"])
        .then(pl.lit("closed_won"))
        .otherwise(pl.col("stage")),
        closed_at=pl.when(pl.col("opportunity_id") == target["opportunity_id"])
        .then(pl.lit("2026-05-20T00:00:00Z"))
        .otherwise(pl.col("closed_at")),
        amount=pl.when(pl.col("opportunity_id") == target["opportunity_id"])
        .then(pl.lit("12345.67"))
        .otherwise(pl.col("amount")),
    )
    changed.write_csv(inputs / "opportunities" / "part-00000.csv")
    late = pl.DataFrame(
        {
            "touchpoint_id": ["late-1"],
            "occurred_at": [target["created_at"].replace("Z", "")[:10] + "T00:00:01Z"],
            "account_id": [target["account_id"]],
            "contact_id": [None],
            "channel": ["event"],
            "campaign": ["late-arrival"],
            "touch_type": ["visit"],
        },
        schema={
            c: pl.String
            for c in [
                "touchpoint_id",
                "occurred_at",
                "account_id",
                "contact_id",
                "channel",
                "campaign",
                "touch_type",
            ]
        },
    )
    late.write_csv(inputs / "touchpoints" / "part-00001.csv")

    with duckdb.connect(str(database)) as conn:
        run_pipeline(conn, sources, config)
        take_snapshot(conn, "second-run", config, taken_at=datetime(2026, 6, 3))
        publish_snapshot(conn, "second-run")
        build_restatements(conn)
        restated = _tables(conn)
        restatements = conn.sql("select * from mart_restatements").pl()
        credits = conn.sql(
            "select count(*), count(distinct (journey_kind, model, opportunity_id, touchpoint_id)) from mart_attribution_credits"
        ).fetchall()[0]
        late_credit = conn.sql(
            "select count(*) from mart_attribution_credits where touchpoint_id = 'late-1' and journey_kind = 'pipeline'"
        ).fetchall()[0][0]
        won = conn.sql(
            "select journey_amount from int_journeys where journey_kind = 'revenue' and opportunity_id = ?",
            params=[target["opportunity_id"]],
        ).fetchall()
    with duckdb.connect(str(tmp_path / "fresh.duckdb")) as conn:
        run_pipeline(conn, sources, config)
        fresh = _tables(conn)
    assert credits[0] == credits[1], "no duplicated credit rows"
    assert late_credit == len(MODELS), "the late touch is in the journey under every model"
    assert won and won[0][0] is not None
    for table in MART_TABLES:
        assert restated[table] == fresh[table], table
    # the history: May's won revenue was first reported without the deal; now it holds its
    # 12,345.67 (USD at the sample's rate of its currency); the month counts one new won
    # journey, its created month an amount change, a stage change and a journey change (the
    # late touch)
    target_month = target["created_at"][:7] + "-01"
    linear = restatements.filter(pl.col("model") == "linear")
    may = linear.filter(
        (pl.col("journey_kind") == "revenue") & (pl.col("period_month").cast(pl.String) == "2026-05-01")
    )
    assert may["first_reported_amount"].sum() == pytest.approx(first_won)
    moved = may["difference"].sum()
    added = fresh_journey_amount(database, target["opportunity_id"])
    assert moved == pytest.approx(added, abs=0.01)
    # it was a lost deal closed in its old month: if that was May, May sees a stage change of a
    # journey it had; otherwise a journey new to May
    was_may = target["closed_at"][:7] == "2026-05"
    assert may.select("new_opportunities", "stage_changes").unique().rows() == [(0, 1) if was_may else (1, 0)]
    created = linear.filter(
        (pl.col("journey_kind") == "pipeline") & (pl.col("period_month").cast(pl.String) == target_month)
    )
    counts = created.select(
        "new_opportunities", "removed_opportunities", "stage_changes", "amount_changes", "journey_changes"
    ).unique()
    assert counts.rows() == [(0, 0, 1, 1, 1)]
    assert (linear["first_run_id"].drop_nulls() == "first-run").all()
    assert (restatements["current_run_id"] == "second-run").all()
    # a rerun of the same run replaces its own rows; the first run's snapshot is untouched
    with duckdb.connect(str(database)) as conn:
        before = conn.sql(
            "select * from snapshot_attributed_by_month where run_id = 'first-run' order by all"
        ).fetchall()
        take_snapshot(conn, "second-run", config, taken_at=datetime(2026, 6, 3))
        assert conn.sql("select count(*) from snapshot_runs").fetchall() == [(2,)]
        after = conn.sql(
            "select * from snapshot_attributed_by_month where run_id = 'first-run' order by all"
        ).fetchall()
        assert before == after
        # retention: keeping one day, the runs taken more than a day before the new one go
        short = AttributionConfig(as_of=AS_OF, snapshot_retention_days=1)
        take_snapshot(conn, "third-run", short, taken_at=datetime(2026, 6, 4, 12))
        assert [r[0] for r in conn.sql("select run_id from snapshot_runs order by all").fetchall()] == [
            "third-run"
        ]


def fresh_journey_amount(database: Path, opportunity_id: str) -> float:
    with duckdb.connect(str(database), read_only=True) as conn:
        return float(
            conn.sql(
                "select journey_amount from int_journeys where journey_kind = 'revenue' and opportunity_id = ?",
                params=[opportunity_id],
            ).fetchall()[0][0]
        )


def test_paths_with_spaces_quotes_and_semicolons_everywhere(sample_dir, tmp_path):
    odd = tmp_path / 'it\'s a "dir"; drop table x; --'
    shutil.copytree(sample_dir, odd / "in put")
    done = subprocess.run(
        run_command(odd / "in put", odd / "out; put"), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert exports_match_their_manifest(odd / "out; put" / "exports")
    with duckdb.connect(str(odd / "out; put" / "attribution.duckdb"), read_only=True) as conn:
        files = conn.sql("select files from load_audit where source = 'touchpoints'").fetchall()[0][0]
    assert files == [str(odd / "in put" / "touchpoints" / "part-00000.csv")]
