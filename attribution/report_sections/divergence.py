"""The report's "Agreement" section (id `divergence`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    percent,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _divergence(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = query_frame(
        conn,
        "select channel, min(share_of_total) as low, max(share_of_total) as high, "
        "arg_min(model, share_of_total) as low_model, arg_max(model, share_of_total) as high_model "
        "from mart_channel_comparison where journey_kind = 'pipeline' and channel <> ? "
        "group by channel order by high - low desc, channel",
        [UNATTRIBUTED_CHANNEL],
    )
    rows = [
        [
            text_cell(r["channel"]),
            text_cell(f"{percent(r['low'])} ({r['low_model']})"),
            text_cell(f"{percent(r['high'])} ({r['high_model']})"),
            text_cell(f"{(r['high'] - r['low']) * 100:.1f} pts"),
        ]
        for r in frame.iter_rows(named=True)
    ]
    if frame.is_empty():
        reading = "No channel was credited."
    else:
        top, calm = frame.row(0, named=True), frame.row(len(frame) - 1, named=True)
        reading = (
            f"The models disagree most on {top['channel']} ({percent(top['low'])} under {top['low_model']} "
            f"to {percent(top['high'])} under {top['high_model']}) and agree most on {calm['channel']} "
            f"(within {(calm['high'] - calm['low']) * 100:.1f} points): argue about the first, not the second."
        )
    return {
        "table": make_table(["channel", "lowest share", "highest share", "spread"], rows),
        "reading": reading,
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _divergence(inputs.conn)


SECTION = Section("divergence", "Agreement", build)
