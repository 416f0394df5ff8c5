"""The report's "Campaigns" section (id `campaigns`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.models import MODEL_SPECS
from attribution.report import model_order
from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    money,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _campaigns(conn: duckdb.DuckDBPyConnection, currency: str, limit: int = 20) -> dict[str, Any]:
    models = model_order(conn)
    lead = TREND_MODEL if TREND_MODEL in models else (models[0] if models else TREND_MODEL)
    contrasts = [name for name, spec in MODEL_SPECS.items() if spec.contrast and name != lead]
    shown = [m for m in (lead, *contrasts) if m in models]
    shown = list(dict.fromkeys(shown))
    wide = query_frame(
        conn,
        "select * exclude (journey_kind) from mart_campaign_comparison_wide "
        "where journey_kind = 'pipeline' and channel <> ?",
        [UNATTRIBUTED_CHANNEL],
    )
    if wide.is_empty() or lead not in wide.columns:
        return {
            "table": make_table(["campaign"], []),
            "reading": "No campaign has attributed pipeline.",
            "lead": lead,
        }
    top = wide.sort([lead, "campaign"], descending=[True, False], nulls_last=True).head(limit)
    rows = [
        [text_cell(r["campaign"]), text_cell(r["channel"]), *[text_cell(money(r[m]), r[m]) for m in shown]]
        for r in top.iter_rows(named=True)
    ]
    first = top.row(0, named=True)
    reading = (
        f"{first['campaign']} ({first['channel']}) leads with {money(first[lead])} {currency} of pipeline under "
        f"{lead}; a campaign missing on a touch counts under (no campaign), never dropped."
    )
    return {"table": make_table(["campaign", "channel", *shown], rows), "reading": reading, "lead": lead}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _campaigns(inputs.conn, inputs.currency)


SECTION = Section("campaigns", "Campaigns", build)
