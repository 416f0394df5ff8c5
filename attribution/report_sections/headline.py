"""The report's "Headline" section (id `headline`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report import headline_totals
from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import (
    money,
    percent,
)

__all__ = ["SECTION"]


def _qualified_clause(totals: dict[str, float], currency: str) -> str:
    """The qualified pipeline's clause of the reading when the run has qualified journeys."""
    if not totals["qualified_opportunities"] or not totals["pipeline"]:
        return ""
    share = totals["qualified_pipeline"] / totals["pipeline"]
    amount = money(totals["qualified_pipeline"])
    return f" (of which {amount} {currency}, {percent(share)}, qualified by as-of)"


def _headline(conn: duckdb.DuckDBPyConnection, currency: str, as_of: str) -> dict[str, Any]:
    totals = headline_totals(conn)
    period = conn.sql("select min(period_month), max(period_month) from mart_period_totals").fetchall()[0]
    influenced = totals["influenced_pipeline"] / totals["pipeline"] if totals["pipeline"] else 0.0
    influenced_revenue = (
        totals["influenced_revenue"] / totals["won_revenue"] if totals["won_revenue"] else 0.0
    )
    first, last = period
    span = f"{first:%b %Y} – {last:%b %Y}" if first else "no opportunity"
    figures = [
        ("pipeline", "Pipeline", money(totals["pipeline"]) + f" {currency}", totals["pipeline"]),
        (
            "qualified_pipeline",
            "Qualified pipeline",
            money(totals["qualified_pipeline"]) + f" {currency}",
            totals["qualified_pipeline"],
        ),
        ("won_revenue", "Won revenue", money(totals["won_revenue"]) + f" {currency}", totals["won_revenue"]),
        ("influenced_pipeline_share", "Influenced pipeline", percent(influenced), influenced),
        (
            "influenced_revenue_share",
            "Influenced won revenue",
            percent(influenced_revenue),
            influenced_revenue,
        ),
        ("opportunities", "Opportunities", f"{totals['opportunities']:,.0f}", totals["opportunities"]),
        (
            "won_opportunities",
            "Won opportunities",
            f"{totals['won_opportunities']:,.0f}",
            totals["won_opportunities"],
        ),
    ]
    return {
        "figures": [
            {"key": k, "label": label, "text": text, "value": value} for k, label, text, value in figures
        ],
        "period": span,
        "as_of": as_of,
        "currency": currency,
        "reading": f"Marketing touched {percent(influenced)} of the {money(totals['pipeline'])} {currency} "
        f"of pipeline created {span}{_qualified_clause(totals, currency)} and "
        f"{percent(influenced_revenue)} of the won revenue; the models below split that same total "
        "between channels in ten different ways.",
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _headline(inputs.conn, inputs.currency, inputs.as_of)


SECTION = Section("headline", "Headline", build)
