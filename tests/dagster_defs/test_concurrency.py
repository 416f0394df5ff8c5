"""Dagster's multiprocess executor with several steps in flight, and two runs at once, never
fail on DuckDB's single-writer lock: the resource's writer lock serializes them."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from attribution.checks import credit_conservation_violations
from attribution.models import MODELS
from tests.conftest import REPO_ROOT

RUN = """
import sys
import dagster as dg
from tests.dagster_defs import multiprocess_target

job = dg.reconstructable(multiprocess_target.multiprocess_job)
# the two fits and what they read (a step process each, up to 4 at once): the whole graph
# took 46 step processes (~3 s of start-up each) for no more overlap
with dg.DagsterInstance.get() as instance:
    with dg.execute_job(job, instance=instance) as result:
        steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
        print(f"success={result.success} steps={len(steps)}")
        sys.exit(0 if result.success else 1)
"""


@pytest.mark.slow
def test_multiprocess_steps_and_parallel_runs_serialize_on_the_lock(sample_dir, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # telemetry off and no concurrency pools: only the resource's lock keeps writers apart
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ATTRIBUTION_TEST_ROOT": str(tmp_path),
        "ATTRIBUTION_TEST_SAMPLE": str(sample_dir),
        "PYTHONPATH": str(REPO_ROOT),
    }

    def start(what: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", RUN, what],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # at once: a Dagster run with up to 4 step processes in flight, and a CLI run of the
    # whole pipeline on the same DuckDB file
    dagster_run = start("all")
    cli_run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "attribution.cli",
            "--touchpoints",
            str(sample_dir / "touchpoints" / "*.csv"),
            "--opportunities",
            str(sample_dir / "opportunities" / "*.csv"),
            "--fx-rates",
            str(sample_dir / "fx_rates.csv"),
            "--database",
            str(tmp_path / "attribution.duckdb"),
            "--export-dir",
            str(tmp_path / "cli_exports"),
            "--as-of",
            "2026-06-01T00:00:00",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outputs = []
    for run in (dagster_run, cli_run):
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, err[-3000:]
        assert "Could not set lock" not in err
        outputs.append(out)
    # several step processes were in flight: more step starts than one-at-a-time would need
    # is not observable from outside, but every selected step ran in its own process
    steps = int(outputs[0].split("steps=")[1].split()[0])
    assert steps >= 5, outputs[0]

    with duckdb.connect(str(tmp_path / "attribution.duckdb"), read_only=True) as conn:
        assert credit_conservation_violations(conn).is_empty()
        assert conn.sql("select count(*) from mart_reconciliation where is_reconciled").fetchall() == [
            (2 * len(MODELS),)
        ]
