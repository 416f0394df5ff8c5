"""The code location loads, with every asset in its group, the checks and the schedule."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from dagster_defs import defs

EXPECTED_GROUPS = {
    "stg_fx_rates": "ingest",
    "stg_opportunities": "ingest",
    "stg_touchpoints": "ingest",
    "quarantine": "ingest",
    "int_journeys": "journeys",
    "int_journey_touches": "journeys",
    "int_null_path_touches": "journeys",
    "int_markov_paths": "journeys",
    "mart_attribution_credits": "models",
    "mart_markov_removal_effects": "models",
    "markov_transitions": "models",
    "int_markov_fractions": "models",
    "mart_campaign_comparison": "reporting",
    "mart_channel_influence": "reporting",
    "mart_campaign_comparison_wide": "reporting",
    "mart_sourced_influenced": "reporting",
    "int_journey_milestones": "journeys",
    "stg_milestones": "ingest",
    "int_shapley_fractions": "models",
    "mart_shapley_channel_values": "models",
    "int_null_path_exclusions": "journeys",
    "int_attributed_by_month": "reporting",
    "int_attributed_by_segment": "reporting",
    "load_audit": "ingest",
    "int_attribution_credits": "models",
    "mart_channel_comparison": "reporting",
    "mart_channel_comparison_wide": "reporting",
    "mart_influenced_pipeline": "reporting",
    "mart_influenced_revenue": "reporting",
    "mart_period_totals": "reporting",
    "mart_reconciliation": "reporting",
    "exports": "reporting",
}


def test_defs_load_with_every_asset_in_its_group():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {k: v for k, v in groups.items() if k in EXPECTED_GROUPS} == EXPECTED_GROUPS


def test_checks_and_schedule_are_defined():
    repo = defs.get_repository_def()
    check_names = {key.name for key in repo.asset_graph.asset_check_keys}
    assert {
        "row_accounting",
        "unique_touchpoint_id",
        "unique_opportunity_id",
        "no_touch_after_conversion",
        "credit_conservation",
        "totals_reconcile_across_models",
        "markov_sanity",
        "markov_reconciliation_gap",
        "reconciled",
    } <= check_names
    schedule = repo.get_schedule_def("nightly_attribution_0200")
    assert schedule.cron_schedule == "0 2 * * *"


def test_library_never_imports_dagster():
    import subprocess
    import sys

    code = (
        "import sys, attribution, attribution.pipeline, attribution.report, attribution.sample_data;"
        "sys.exit(1 if any(m == 'dagster' or m.startswith('dagster.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_settings_are_typed_config_with_design_defaults():
    from dagster_defs.resources import AttributionSettings

    config = AttributionSettings().to_config()
    assert (config.lookback_days, config.time_decay_half_life_days, config.markov_order) == (90, 7.0, 1)
    assert config.reporting_currency == "USD"
    assert isinstance(AttributionSettings(), dg.ConfigurableResource)


def test_settings_and_cli_cover_every_config_field_with_its_defaults(tmp_path):
    # defaults live in AttributionConfig only: the launchpad settings of a run without a run
    # file (what build_defs shows) and the CLI take theirs; the launchpad's field of a setting
    # has the setting's type (a list for a tuple, a dict for a map), so none is mirrored by hand
    from typing import get_args, get_origin

    from attribution.cli import _plain_fields
    from attribution.config import AttributionConfig, setting_types
    from attribution.runfile import resolve_run
    from dagster_defs.resources import AttributionSettings, settings_of

    defaults = AttributionConfig()
    settings = settings_of(resolve_run(environ={}, cwd=tmp_path))
    launchpad = AttributionSettings.model_fields
    # as_of text, column_preset/mapping_file, wall clock; segment_columns: unset = the
    # environment; a run without inputs is the sample's, with its own settings (SAMPLE_SETTINGS)
    from attribution.runfile import SAMPLE_SETTINGS

    derived = {"as_of", "segment_columns", *SAMPLE_SETTINGS}
    assert settings.journey_kinds == list(SAMPLE_SETTINGS["journey_kinds"])
    assert "segment_columns" in _plain_fields()
    assert set(launchpad) == {*setting_types(), "column_preset", "mapping_file"}
    for name, kind in setting_types().items():
        shown = next(a for a in get_args(launchpad[name].annotation) if a is not type(None))
        origin = get_origin(kind)
        expected = {tuple: list, Mapping: dict}.get(origin, kind) if origin else kind
        expected = str if name == "as_of" else expected  # a text: a date or a timestamp
        assert (get_origin(shown) or shown) is expected, name
        if name in derived:
            continue
        value = getattr(settings, name)
        assert (tuple(value) if isinstance(value, list) else value) == defaults.setting(name), name
        assert name in _plain_fields(), name


def test_segment_columns_come_from_the_settings_else_the_environment(monkeypatch):
    from dagster_defs.resources import AttributionSettings

    monkeypatch.delenv("ATTRIBUTION_SEGMENT_COLUMNS", raising=False)
    monkeypatch.setenv("ATTRIBUTION_TOUCHPOINTS", "user/touches.csv")  # a user's run: no sample setting
    monkeypatch.setenv("ATTRIBUTION_OPPORTUNITIES", "user/deals.csv")
    assert AttributionSettings().to_config().segment_columns == ()
    monkeypatch.setenv("ATTRIBUTION_SEGMENT_COLUMNS", "segment, Region,,type")
    assert AttributionSettings().to_config().segment_columns == ("segment", "Region", "type")
    # a launchpad value wins, even an empty list (no segments for this run)
    assert AttributionSettings(segment_columns=["tier"]).to_config().segment_columns == ("tier",)
    assert AttributionSettings(segment_columns=[]).to_config().segment_columns == ()


def test_nothing_is_read_or_created_at_import(tmp_path, monkeypatch):
    # the DuckDB path is resolved when a step connects, not when the code location loads
    import importlib

    import dagster_defs.definitions

    monkeypatch.setenv("ATTRIBUTION_DUCKDB", str(tmp_path / "later" / "db.duckdb"))
    importlib.reload(dagster_defs.definitions)
    assert not (tmp_path / "later").exists()
    resource = dagster_defs.definitions.defs.resources["duckdb"]
    with resource.get_connection() as conn:
        conn.sql("select 1").fetchall()
    assert (tmp_path / "later" / "db.duckdb").exists()


def test_markdown_metadata_escapes_every_value():
    import polars as pl

    from dagster_defs.metadata import markdown_table

    table = markdown_table(
        pl.DataFrame({"campaign|name": ["x|y", "<script>alert(1)</script>", "**bold** [link](u) `code`"]})
    )
    lines = table.splitlines()
    # one cell per row: the pipe inside a value or a header is no column separator
    assert all(line.count("|") == 2 for line in lines)
    assert "&#124;" in lines[0] and "x&#124;y" in lines[2]
    # HTML and markdown syntax arrive as text
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert "**" not in table and "[link]" not in table and "`" not in table


def test_the_marts_run_in_a_few_steps_and_a_selection_runs_only_its_own(tmp_path):
    from dagster_defs.assets import reporting

    steps = [
        a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.node_def.name.startswith("marts_")
    ]
    tables = sorted(m.table for m in reporting.MARTS)
    # every mart is an asset of exactly one step, and there are far fewer steps than marts
    assert sorted(k.to_user_string() for a in steps for k in a.keys) == tables
    assert len(steps) <= len(tables) // 4
    # a step with several marts is subsettable: the UI can materialize one of them alone
    assert all(a.can_subset for a in steps if len(list(a.keys)) > 1)
