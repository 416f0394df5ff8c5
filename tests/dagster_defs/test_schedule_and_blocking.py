"""The nightly schedule asks for yesterday's partition; a failing blocking check stops downstream."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import duckdb

from dagster_defs import defs
from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles
from dagster_defs.schedules import nightly_schedule
from tests.conftest import materialize_all, write_csv


def test_nightly_schedule_reloads_everything_at_two():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    request = nightly_schedule.evaluate_tick(context).run_requests[0]
    # one unpartitioned run: the inputs are reloaded in full, whatever their dates
    assert request.partition_key is None
    assert not any(k.startswith("dagster/asset_partition_range") for k in request.tags)
    assert nightly_schedule.cron_schedule == "0 2 * * *"
    assert nightly_schedule.job_name == "nightly_attribution"


def _tiny_world(tmp_path):
    # Every touch lies inside the one pipeline journey and no opportunity is lost, so the
    # Markov chain has no non-converting path: P(conversion) = 1.
    touches = write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [["t1", "2026-01-05T00:00:00Z", "acme", "email"], ["t2", "2026-01-06T00:00:00Z", "acme", "webinar"]],
    )
    opportunities = write_csv(
        tmp_path / "opps.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [["o1", "acme", "2026-01-10T00:00:00Z", "open", "1000"]],
    )
    database = tmp_path / "attribution.duckdb"
    defs = build_defs(
        AttributionDuckDB(database=str(database)),
        SourceFiles(touchpoints=str(touches), opportunities=str(opportunities), fx_rates=""),
        AttributionSettings(as_of="2026-06-01T00:00:00"),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    return defs, database


def test_a_world_without_a_lost_deal_completes_with_a_warning(tmp_path):
    # Regression (issue 9, defect 5): P(conversion) = 1 used to fail the blocking
    # markov_sanity check and stop every mart and export.
    defs, database = _tiny_world(tmp_path)
    (result,) = materialize_all(defs)
    assert result.success
    evaluations = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert all(c.passed for c in evaluations.values())
    warnings = evaluations["markov_sanity"].metadata["warnings"].value
    assert "P(conversion) = 1" in warnings
    assert (tmp_path / "exports" / "manifest.json").exists()
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.sql("select bool_and(is_reconciled) from mart_reconciliation").fetchall() == [(True,)]


def test_failing_blocking_check_stops_downstream_assets(tmp_path, monkeypatch):
    # a broken model that gives every journey's first touch only half a credit: the blocking
    # credit_conservation check fails, and nothing downstream of the credits is built
    import polars as pl

    from attribution.models import MODELS
    from attribution.models.heuristics import first_touch

    def half_first_touch(inputs, config):
        return first_touch(inputs, config).with_columns(pl.col("credit") * 0.5)

    monkeypatch.setitem(MODELS, "first_touch", half_first_touch)
    defs, database = _tiny_world(tmp_path)
    (result,) = materialize_all(defs)
    assert not result.success
    evaluations = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert evaluations["credit_conservation"] is False
    assert evaluations["markov_sanity"] is True
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "mart_attribution_credits" in materialized
    assert not {"mart_channel_comparison", "mart_influenced_pipeline", "exports"} & materialized
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = {r[0] for r in conn.sql("select table_name from information_schema.tables").fetchall()}
    assert "mart_channel_comparison" not in tables


def test_a_world_where_every_row_is_quarantined_completes_and_warns(tmp_path):
    touches = write_csv(
        tmp_path / "touches.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [["", "2026-01-01", "a", "email"]],
    )
    opportunities = write_csv(
        tmp_path / "opps.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [["x", "", "2026-01-01", "open", "1"]],
    )
    defs = build_defs(
        AttributionDuckDB(database=str(tmp_path / "attribution.duckdb")),
        SourceFiles(touchpoints=str(touches), opportunities=str(opportunities), fx_rates=""),
        AttributionSettings(as_of="2026-06-01"),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    (result,) = materialize_all(defs)
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert "no touchpoints row staged (1 quarantined" in metadata["stg_touchpoints"]["warning"].value
    assert "no opportunities row staged" in metadata["stg_opportunities"]["warning"].value
    assert "no converting journey" in metadata["mart_markov_removal_effects"]["warnings"].value
    assert (tmp_path / "exports" / "manifest.json").exists()
