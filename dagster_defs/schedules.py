"""The nightly run: every asset, at 02:00 in the configured timezone."""

from __future__ import annotations

import os

import dagster as dg

nightly_attribution_job = dg.define_asset_job(
    name="nightly_attribution",
    selection="*",
    description="Ingest, journeys, models and reporting marts, end to end.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_attribution_0200",
    job=nightly_attribution_job,
    cron_schedule="0 2 * * *",
    execution_timezone=os.environ.get("ATTRIBUTION_SCHEDULE_TZ", "UTC"),
    description="Every night at 02:00: reload the inputs and recompute every model and mart.",
)
