"""The run file: a user's inputs, mapping and settings in one file, nothing of the sample in a
user's run, and the precedence default < sample < run file < environment < flag."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from attribution.cli import main
from attribution.runfile import RunFileError, resolve_run
from tests.conftest import write_csv

# a Salesforce-shaped user export: CRM labels, date-only close dates, no segment columns, no
# fx rates, no milestones, no spend
OPPORTUNITY_HEADER = ["Id", "AccountId", "CreatedDate", "CloseDate", "StageName", "Amount"]
OPPORTUNITIES = [
    ["006A", "001A", "2026-03-10T09:00:00.000+0000", "2026-04-20", "Closed Won", "1000"],
    ["006B", "001B", "2026-03-12T09:00:00.000+0000", "2026-04-25", "Closed Lost", "500"],
    ["006C", "001C", "2026-03-15T09:00:00.000+0000", "2026-06-30", "Prospecting", "250"],
]
TOUCH_HEADER = ["touchpoint_id", "occurred_at", "account_id", "channel", "campaign"]
TOUCHES = [
    ["t1", "2026-03-01", "001A", "Paid Search", "Brand"],
    ["t2", "2026-03-05", "001A", "Webinar", "Q1 webinar"],
    ["t3", "2026-03-02", "001B", "Paid Search", "Brand"],
    ["t4", "2026-03-20", "001B", "Email", "Nurture"],
]


def _user_export(folder: Path) -> Path:
    write_csv(folder / "exports" / "Opportunity.csv", OPPORTUNITY_HEADER, OPPORTUNITIES)
    write_csv(folder / "exports" / "touches.csv", TOUCH_HEADER, TOUCHES)
    run_file = folder / "attribution.toml"
    run_file.write_text(
        """
[inputs]
touchpoints = "exports/touches.csv"
opportunities = "exports/Opportunity.csv"

[outputs]
database = "out/attribution.duckdb"
export_dir = "out/exports"

[mapping]
preset = "salesforce"

[settings]
as_of = "2026-05-31"
lookback_days = 60
interval_replicates = 20
""",
        encoding="utf-8",
    )
    return run_file


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "ATTRIBUTION_RUN_FILE",
        "ATTRIBUTION_TOUCHPOINTS",
        "ATTRIBUTION_OPPORTUNITIES",
        "ATTRIBUTION_FX_RATES",
        "ATTRIBUTION_MILESTONES",
        "ATTRIBUTION_SPEND",
        "ATTRIBUTION_SEGMENT_COLUMNS",
        "ATTRIBUTION_DUCKDB",
        "ATTRIBUTION_EXPORT_DIR",
        "ATTRIBUTION_COLUMN_PRESET",
        "ATTRIBUTION_MAPPING",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_user_run_from_the_run_file_holds_nothing_of_the_sample(
    tmp_path, clean_env, monkeypatch, sample_dir
):
    run_file = _user_export(tmp_path)
    # the sample sits where make run would find it: none of it may enter the user's run
    monkeypatch.chdir(sample_dir.parent)
    main(["--run-file", str(run_file), "--quiet"])
    database = tmp_path / "out" / "attribution.duckdb"
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.sql("select count(*) from stg_spend").fetchall() == [(0,)]
        assert conn.sql("select count(*) from stg_milestones").fetchall() == [(0,)]
        assert conn.sql("select count(*) from stg_fx_rates").fetchall() == [(0,)]
        ids = {r[0] for r in conn.sql("select opportunity_id from stg_opportunities").fetchall()}
        assert ids == {"006A", "006B", "006C"}
        touches = {r[0] for r in conn.sql("select touchpoint_id from stg_touchpoints").fetchall()}
        assert touches == {"t1", "t2", "t3", "t4"}
        # no segment column of the sample's (deal_motion is every run's own dimension)
        assert conn.sql(
            "select count(*) from int_opportunity_segments where dimension <> 'deal_motion'"
        ).fetchall() == [(0,)]
        # every input file of the load audit is the user's
        files = [f for (fs,) in conn.sql("select files from load_audit").fetchall() for f in fs]
        assert files and all(str(tmp_path) in f for f in files)
        # linear pipeline: 006A's 1000 and 006B's 500 are touched; 006C's 250 goes to (none)
        rows = dict(
            conn.sql(
                "select channel, round(attributed_amount, 2) from mart_channel_comparison "
                "where journey_kind = 'pipeline' and model = 'linear'"
            ).fetchall()
        )
        # 006A: paid_search and webinar 500 each; 006B: paid_search alone (its email touch of
        # 03-20 comes after its creation on 03-12)
        assert rows == {"paid_search": 1000.0, "webinar": 500.0, "(none)": 250.0}
    manifest = json.loads((tmp_path / "out" / "exports" / "manifest.json").read_text())
    assert manifest["run"]["run_file"] == str(run_file)
    assert manifest["run"]["is_sample"] is False
    assert manifest["run"]["inputs"]["spend"] is None
    assert manifest["config"]["lookback_days"] == 60
    assert all(str(sample_dir) not in entry["path"] for entry in manifest["inputs"])


def test_precedence_default_run_file_environment_flag(tmp_path, clean_env, monkeypatch):
    run_file = _user_export(tmp_path)
    spec = resolve_run(run_file)
    assert spec.settings["lookback_days"] == 60
    assert spec.origins["lookback_days"] == "run file"
    # relative paths are the run file's folder's
    assert spec.sources.touchpoints == str(tmp_path / "exports" / "touches.csv")
    assert spec.mapping.preset == "salesforce"
    assert spec.config().time_decay_half_life_days == 7.0  # not in the file: the default
    monkeypatch.setenv("ATTRIBUTION_EXPORT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ATTRIBUTION_SEGMENT_COLUMNS", "Region")
    spec = resolve_run(run_file)
    assert spec.export_dir == str(tmp_path / "elsewhere")
    assert spec.settings["segment_columns"] == ("Region",)
    spec = resolve_run(run_file, {"export_dir": "flag", "lookback_days": 30})
    assert (spec.export_dir, spec.settings["lookback_days"]) == ("flag", 30)
    # the run file named by the environment, as make run RUN_FILE=... does
    monkeypatch.setenv("ATTRIBUTION_RUN_FILE", str(run_file))
    assert resolve_run().run_file == str(run_file)


def test_without_inputs_the_sample_runs_with_its_settings(tmp_path, clean_env):
    spec = resolve_run(cwd=tmp_path)
    assert spec.is_sample
    assert spec.sources.spend == "data/sample/spend.csv"
    assert spec.settings["segment_columns"] == ("segment", "region", "type")
    # one input named: a user's run; nothing optional of the sample
    with pytest.raises(RunFileError, match="no opportunities input named"):
        resolve_run(cwd=tmp_path, overrides={"touchpoints": "mine.csv"})
    spec = resolve_run(cwd=tmp_path, overrides={"touchpoints": "t.csv", "opportunities": "o.csv"})
    assert not spec.is_sample
    assert (spec.sources.fx_rates, spec.sources.milestones, spec.sources.spend) == (None, None, None)
    assert "segment_columns" not in spec.settings


def test_an_attribution_toml_in_the_working_folder_is_found(tmp_path, clean_env):
    _user_export(tmp_path)
    spec = resolve_run(cwd=tmp_path)
    assert spec.run_file == str(tmp_path / "attribution.toml")
    assert not spec.is_sample


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[settings]\nlookbak_days = 3\n", "unknown key"),
        ("[settings]\nlookback_days = 'ten'\n", "settings.lookback_days must be a int"),
        ("[inputs]\ntouches = 'a.csv'\n", "unknown key"),
        ("[mapping]\npreset = 'zoho'\n", "unknown column preset"),
        ("[mapping.stages]\nWon = 'closed'\n", "use one of open, closed_won, closed_lost"),
        ("[settings\n", "not a valid TOML file"),
    ],
)
def test_a_bad_run_file_names_the_file_and_the_problem(tmp_path, clean_env, text, message, capsys):
    run_file = tmp_path / "attribution.toml"
    run_file.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["--run-file", str(run_file)])
    assert stopped.value.code == 65
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_the_dagster_definitions_show_the_run_file_in_the_launchpad(tmp_path, clean_env):
    from dagster_defs.definitions import build_defs

    run_file = _user_export(tmp_path)
    defs = build_defs(run=resolve_run(run_file))
    sources = defs.resources["source_files"]
    settings = defs.resources["settings"]
    assert sources.touchpoints == str(tmp_path / "exports" / "touches.csv")
    assert (sources.fx_rates, sources.milestones, sources.spend) == ("", "", "")
    assert settings.lookback_days == 60 and settings.column_preset == "salesforce"
    assert settings.segment_columns == []  # not the sample's
    assert defs.resources["export_target"].directory == str(tmp_path / "out" / "exports")
    # the resources resolve their run the same way: no sample input, the run file's settings
    assert sources.spec().sources.spend is None
    assert settings.to_config().lookback_days == 60
