"""The seeded, stratified holdout assignment (attribution.experiments.assign)."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from attribution.experiments import assign_units, unit_draw


def test_each_stratum_holds_the_control_share_and_the_draw_is_the_hash():
    targets = pl.DataFrame(
        {"unit_id": [f"acc-{i:03d}" for i in range(30)], "stratum": ["enterprise"] * 10 + ["smb"] * 20}
    )
    arms = assign_units(targets, "exp-1", 0.2)
    counts = dict(arms.filter(pl.col("arm") == "control").group_by("stratum").len().iter_rows())
    assert counts == {"enterprise": 2, "smb": 4}  # round(10 x 0.2), round(20 x 0.2)
    # the controls are each stratum's smallest draws; a draw is sha256(experiment, unit)
    digest = hashlib.sha256(b"exp-1\x1facc-000").digest()
    assert unit_draw("exp-1", "acc-000") == int.from_bytes(digest[:8], "big") / 2**64
    smb = sorted((unit_draw("exp-1", u), u) for u in targets.filter(pl.col("stratum") == "smb")["unit_id"])
    controls = set(arms.filter((pl.col("stratum") == "smb") & (pl.col("arm") == "control"))["unit_id"])
    assert controls == {u for _, u in smb[:4]}


def test_the_assignment_is_reproducible_in_any_order_and_differs_by_experiment():
    targets = pl.DataFrame({"unit_id": [f"a{i}" for i in range(50)]})
    first = assign_units(targets, "exp-1", 0.5)
    again = assign_units(targets.reverse(), "exp-1", 0.5)
    assert first.equals(again)
    other = assign_units(targets, "exp-2", 0.5)
    assert not first["arm"].equals(other["arm"])
    assert first["stratum"].unique().to_list() == ["(all)"]


def test_bad_targets_are_a_clear_error():
    with pytest.raises(ValueError, match="listed twice: a1"):
        assign_units(pl.DataFrame({"unit_id": ["a1", "a1 ", "a2"]}), "e", 0.5)
    with pytest.raises(ValueError, match="without a unit id"):
        assign_units(pl.DataFrame({"unit_id": ["a1", ""]}), "e", 0.5)
    with pytest.raises(ValueError, match="control_share must be between 0 and 1"):
        assign_units(pl.DataFrame({"unit_id": ["a1"]}), "e", 1.0)


def test_the_command_writes_the_assignments_file(tmp_path, capsys):
    from attribution.experiments.cli import main

    targets = tmp_path / "targets.csv"
    rows = "\n".join(f"acc-{i},{'emea' if i % 2 else 'amer'}" for i in range(40))
    targets.write_text("Account ID,Region\n" + rows + "\n", encoding="utf-8")
    out = tmp_path / "out" / "assignments.csv"
    argv = ["--experiment", "exp-7", "--targets", str(targets), "--unit-column", "Account ID"]
    assert main([*argv, "--stratum-column", "Region", "--control-share", "0.25", "--out", str(out)]) == 0
    written = pl.read_csv(out)
    assert written.columns == ["experiment_id", "unit_id", "arm", "stratum"]
    # 20 per region, 5 control each; the file is the library's assignment
    assert dict(written.filter(pl.col("arm") == "control").group_by("stratum").len().iter_rows()) == {
        "amer": 5,
        "emea": 5,
    }
    expected = assign_units(
        pl.DataFrame(
            {
                "unit_id": [f"acc-{i}" for i in range(40)],
                "stratum": ["emea" if i % 2 else "amer" for i in range(40)],
            }
        ),
        "exp-7",
        0.25,
    )
    assert written.equals(expected)
    assert "wrote 40 assignments" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no column Segment"):
        main([*argv, "--stratum-column", "Segment", "--out", str(out)])
