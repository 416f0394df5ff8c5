"""The report's "Segments" section (id `segments`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    money,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _segments(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = query_frame(
        conn,
        "with totals as (select journey_kind, dimension, segment_value, sum(attributed_amount) as amount, "
        "arg_max(channel, attributed_amount) as top_channel from mart_segment_comparison where model = ? "
        "group by all) select dimension, segment_value, "
        "max(amount) filter (where journey_kind = 'pipeline') as pipeline, "
        "max(amount) filter (where journey_kind = 'revenue') as revenue, "
        "max(top_channel) filter (where journey_kind = 'pipeline') as top_channel "
        "from totals group by all order by dimension, pipeline desc nulls last, segment_value",
        [TREND_MODEL],
    )
    rows = [
        [
            text_cell(r["dimension"]),
            text_cell(r["segment_value"]),
            text_cell(money(r["pipeline"]), r["pipeline"]),
            text_cell(money(r["revenue"]), r["revenue"]),
            text_cell(r["top_channel"] or ""),
        ]
        for r in frame.iter_rows(named=True)
    ]
    reading = (
        "No segment column is set (ATTRIBUTION_SEGMENT_COLUMNS)."
        if frame.is_empty()
        else f"Pipeline and won revenue per segment value and the channel that earns most of it ({TREND_MODEL}); "
        "each dimension adds up to the total."
    )
    return {
        "table": make_table(
            ["dimension", "value", "pipeline", "won revenue", f"top channel ({TREND_MODEL})"], rows
        ),
        "reading": reading,
        "empty": frame.is_empty(),
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _segments(inputs.conn)


SECTION = Section("segments", "Segments", build)
