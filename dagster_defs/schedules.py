"""The nightly run: yesterday's touch partition and everything downstream, at 02:00."""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg

from dagster_defs.partitions import daily_touch_partitions

__all__ = ["nightly_attribution_job", "nightly_schedule", "SCHEDULE_TIMEZONE"]

SCHEDULE_TIMEZONE = os.environ.get("ATTRIBUTION_SCHEDULE_TZ", "UTC")
# touches may arrive late: each night reloads this many days ending yesterday (one run)
RELOAD_DAYS = int(os.environ.get("ATTRIBUTION_RELOAD_DAYS", "7"))

nightly_attribution_job = dg.define_asset_job(
    name="nightly_attribution",
    selection="*",
    description="Ingest (one touch-date partition or a range), journeys, models and marts.",
)


@dg.schedule(
    name="nightly_attribution_0200",
    job=nightly_attribution_job,
    cron_schedule="0 2 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    description="Every night at 02:00 (ATTRIBUTION_SCHEDULE_TZ, default UTC): reload the touches "
    "of the last ATTRIBUTION_RELOAD_DAYS days (default 7, so late touches land) ending "
    "yesterday in one run, reload opportunities and fx rates, recompute every model and mart.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    scheduled = context.scheduled_execution_time
    yesterday = (scheduled - timedelta(days=1)).strftime("%Y-%m-%d")
    keys = daily_touch_partitions.get_partition_keys(current_time=scheduled)
    if yesterday not in keys:
        return dg.SkipReason(f"no touch partition for {yesterday}")
    window = keys[max(0, keys.index(yesterday) - RELOAD_DAYS + 1) : keys.index(yesterday) + 1]
    if len(window) == 1:
        return dg.RunRequest(run_key=yesterday, partition_key=yesterday)
    return dg.RunRequest(
        run_key=f"{window[0]}...{window[-1]}",
        tags={
            "dagster/asset_partition_range_start": window[0],
            "dagster/asset_partition_range_end": window[-1],
        },
    )
