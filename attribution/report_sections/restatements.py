"""The report's "What changed" section (id `restatements`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    money,
    text_cell,
)
from attribution.sql import query_frame, table_exists

__all__ = ["SECTION"]


def _restatements(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not table_exists(conn, "mart_restatements"):
        return {"table": make_table(["month"], []), "reading": "No restatement history yet."}
    frame = query_frame(
        conn,
        "select journey_kind, period_month, sum(first_reported_amount) as first_reported, sum(current_amount) "
        "as current, sum(difference) as difference, max(new_opportunities) as new, max(removed_opportunities) "
        "as removed, max(stage_changes) as stages, max(amount_changes) as amounts, max(fx_changes) as fx, "
        "max(journey_changes) as journeys from mart_restatements where model = ? group by all "
        "having max(abs(difference)) >= 0.005 order by journey_kind, period_month",
        [TREND_MODEL],
    )
    runs = (
        int(conn.sql("select count(*) from snapshot_runs").fetchall()[0][0])
        if table_exists(conn, "snapshot_runs")
        else 0
    )
    rows = [
        [
            text_cell(r["journey_kind"]),
            text_cell(f"{r['period_month']:%b %Y}"),
            text_cell(money(r["first_reported"]), r["first_reported"]),
            text_cell(money(r["current"]), r["current"]),
            text_cell(money(r["difference"]), r["difference"]),
            text_cell(
                ", ".join(
                    f"{r[k]} {label}"
                    for k, label in (
                        ("new", "new"),
                        ("removed", "removed"),
                        ("stages", "stage changes"),
                        ("amounts", "amount changes"),
                        ("fx", "fx changes"),
                        ("journeys", "journeys with late or removed touches"),
                    )
                    if r[k]
                )
            ),
        ]
        for r in frame.iter_rows(named=True)
    ]
    reading = (
        f"{runs} run(s) in the history; no month moved since it was first reported."
        if frame.is_empty()
        else f"{len(frame)} month(s) moved since first reported ({runs} runs in the history); the causes are counted per month."
    )
    columns = ["kind", "month", "first reported", "now", "difference", "why"]
    return {"table": make_table(columns, rows), "reading": reading}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _restatements(inputs.conn)


SECTION = Section("restatements", "What changed", build)
