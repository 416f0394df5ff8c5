"""The nightly schedule asks for yesterday's partition; a failing blocking check stops downstream."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from dagster_defs import defs
from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionSettings, ExportTarget, SourceFiles
from dagster_defs.schedules import nightly_schedule
from tests.conftest import materialize_full_history, write_csv


def test_nightly_schedule_requests_yesterdays_partition():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc),
        repository_def=defs.get_repository_def(),
    )
    request = nightly_schedule.evaluate_tick(context).run_requests[0]
    # the last 7 days ending yesterday, in one run (late touches land)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-02-23"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-01"
    assert nightly_schedule.cron_schedule == "0 2 * * *"


def test_schedule_skips_before_the_first_partition():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2020, 1, 2, 2, 0, tzinfo=timezone.utc),
        repository_def=defs.get_repository_def(),
    )
    result = nightly_schedule.evaluate_tick(context)
    assert not result.run_requests
    assert "no touch partition" in (result.skip_message or "")


def test_failing_blocking_check_stops_downstream_assets(tmp_path):
    # Every touch lies inside the one pipeline journey and no opportunity is lost, so the
    # Markov chain has no non-converting path: P(conversion) = 1 fails `markov_sanity`.
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
        DuckDBResource(database=str(database)),
        SourceFiles(touchpoints=str(touches), opportunities=str(opportunities), fx_rates=""),
        AttributionSettings(as_of="2026-06-01T00:00:00"),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    results = materialize_full_history(defs)
    downstream = results[1]
    assert not downstream.success
    evaluations = {c.check_name: c.passed for c in downstream.get_asset_check_evaluations()}
    assert evaluations["markov_sanity"] is False
    assert evaluations["credit_conservation"] is True
    materialized = {e.asset_key.to_user_string() for e in downstream.get_asset_materialization_events()}
    assert "markov_removal_effects" in materialized
    assert not {"mart_channel_comparison", "mart_influenced_pipeline", "mart_influenced_revenue"} & materialized
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = {r[0] for r in conn.sql("select table_name from information_schema.tables").fetchall()}
    assert "mart_channel_comparison" not in tables
