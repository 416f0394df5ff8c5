"""The experiment assignment as a Dagster job (dagster_defs.experiments)."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from attribution.experiments import assign_units
from dagster_defs.experiments import experiment_assignment_job


def _config(**values: object) -> dict[str, object]:
    return {"ops": {"draw_assignment": {"config": values}}}


def test_the_job_writes_the_library_s_assignment(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "account_id,segment\n" + "\n".join(f"a{i},{'ent' if i < 10 else 'smb'}" for i in range(30)) + "\n"
    )
    out = tmp_path / "assignments.csv"
    result = experiment_assignment_job.execute_in_process(
        run_config=_config(experiment_id="exp-9", targets=str(targets), stratum_column="segment",
                           control_share=0.3, out=str(out))
    )  # fmt: skip
    assert result.success
    expected = assign_units(
        pl.DataFrame(
            {
                "unit_id": [f"a{i}" for i in range(30)],
                "stratum": ["ent" if i < 10 else "smb" for i in range(30)],
            }
        ),
        "exp-9",
        0.3,
    )
    assert pl.read_csv(out).equals(expected)
    # round(10 x 0.3) and round(20 x 0.3) controls
    assert dict(expected.filter(pl.col("arm") == "control").group_by("stratum").len().iter_rows()) == {
        "ent": 3,
        "smb": 6,
    }


def test_a_missing_column_fails_the_step_with_its_name(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text("id\na1\n")
    with pytest.raises(dg.Failure, match="no column account_id; found id"):
        experiment_assignment_job.execute_in_process(
            run_config=_config(experiment_id="e", targets=str(targets), out=str(tmp_path / "o.csv"))
        )
