"""The report's "Time to convert" section (id `time`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _time_to_convert(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = query_frame(
        conn,
        "select period_month, opportunities, median_days_to_opportunity, p90_days_to_opportunity, "
        "median_days_to_won, median_touches_per_journey from mart_time_to_convert "
        "where channel = '(all channels)' order by period_month desc limit 12",
    )
    rows = [
        [
            text_cell(f"{r['period_month']:%b %Y}"),
            text_cell(f"{r['opportunities']:,}"),
            text_cell(f"{r['median_days_to_opportunity']:.0f}"),
            text_cell(f"{r['p90_days_to_opportunity']:.0f}"),
            text_cell("" if r["median_days_to_won"] is None else f"{r['median_days_to_won']:.0f}"),
            text_cell(f"{r['median_touches_per_journey']:.0f}"),
        ]
        for r in frame.iter_rows(named=True)
    ]
    if frame.is_empty():
        reading = "No opportunity had a touch before it was created."
    else:
        latest = frame.row(0, named=True)
        reading = (
            f"In {latest['period_month']:%B %Y} half of the touched opportunities were created within "
            f"{latest['median_days_to_opportunity']:.0f} days of their first touch (90% within "
            f"{latest['p90_days_to_opportunity']:.0f}), after a median of {latest['median_touches_per_journey']:.0f} touches."
        )
    columns = [
        "month created",
        "opportunities",
        "median days to create",
        "p90 days",
        "median days to won",
        "median touches",
    ]
    return {"table": make_table(columns, rows), "reading": reading}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _time_to_convert(inputs.conn)


SECTION = Section("time", "Time to convert", build)
