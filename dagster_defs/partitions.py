"""Daily partitions of the touch date (UTC), from ATTRIBUTION_PARTITIONS_START."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import dagster as dg

__all__ = ["daily_touch_partitions", "full_partition_range", "partition_window"]

PARTITIONS_START = os.environ.get("ATTRIBUTION_PARTITIONS_START", "2025-10-01")

daily_touch_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


def partition_window(context: dg.AssetExecutionContext) -> tuple[datetime, datetime] | None:
    """The run's [start, end) touch-date window as naive UTC datetimes (None: unpartitioned)."""
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    window = context.partition_time_window
    return (
        window.start.astimezone(timezone.utc).replace(tzinfo=None),
        window.end.astimezone(timezone.utc).replace(tzinfo=None),
    )


def full_partition_range() -> str:
    """First...last partition key, e.g. 2025-10-01...2026-11-23."""
    keys = daily_touch_partitions.get_partition_keys()
    return f"{keys[0]}...{keys[-1]}"
