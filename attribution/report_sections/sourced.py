"""The report's "Sourced vs influenced" section (id `sourced`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report import model_order
from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    money,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _sourced(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    models = model_order(conn)
    shown = [m for m in (TREND_MODEL, "markov") if m in models]
    frame = query_frame(conn, "select * from mart_sourced_influenced where journey_kind = 'pipeline'")
    rows = [
        [
            text_cell(r["channel"]),
            text_cell(money(r["sourced_amount"]), r["sourced_amount"]),
            text_cell(f"{r['sourced_opportunities']:,}"),
            text_cell(money(r["influenced_amount"]), r["influenced_amount"]),
            text_cell(f"{r['influenced_opportunities']:,}"),
            *[text_cell(money(r.get(m)), r.get(m)) for m in shown],
        ]
        for r in frame.iter_rows(named=True)
    ]
    influenced = float(frame["influenced_amount"].sum()) if len(frame) else 0.0
    sourced = float(frame["sourced_amount"].sum()) if len(frame) else 0.0
    reading = (
        f"Sourced and attributed columns each add up to the pipeline ({money(sourced)}); the influenced column "
        f"adds up to {money(influenced)} because a deal touched by three channels counts under all three: use "
        "it for 'how much pipeline did this channel touch', never to split pipeline."
    )
    columns = ["channel", "sourced", "sourced opps", "influenced (any touch)", "influenced opps", *shown]
    return {"table": make_table(columns, rows), "reading": reading}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _sourced(inputs.conn)


SECTION = Section("sourced", "Sourced vs influenced", build)
