"""The report's "Spend and return" section (id `spend`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    figure_layout,
    make_table,
    money,
    plot_html,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _ratio(value: float | None, text: str) -> str:
    return "" if value is None else text.format(value)


def _row(r: dict[str, Any]) -> list[Any]:
    """One channel's cells: spend, pipeline, won revenue and the three ratios."""
    return [
        text_cell(r["channel"]),
        text_cell(money(r["spend_amount"]), r["spend_amount"]),
        text_cell(money(r["attributed_pipeline"]), r["attributed_pipeline"]),
        text_cell(money(r["attributed_revenue"]), r["attributed_revenue"]),
        text_cell(_ratio(r["cost_per_pipeline_dollar"], "{:.3f}")),
        text_cell(_ratio(r["pipeline_per_spend_dollar"], "{:.1f}×")),
        text_cell(_ratio(r["revenue_per_spend_dollar"], "{:.1f}×")),
    ]


def _spend(conn: duckdb.DuckDBPyConnection, currency: str) -> dict[str, Any]:
    frame = query_frame(
        conn,
        "select channel, spend_amount, attributed_pipeline, attributed_revenue, cost_per_pipeline_dollar, "
        "pipeline_per_spend_dollar, revenue_per_spend_dollar from mart_spend_return "
        "where period_grain = 'all' and model = ? and spend_amount > 0 order by spend_amount desc, channel",
        [TREND_MODEL],
    )
    if frame.is_empty():
        return {"empty": True, "reading": "No spend input was given (ATTRIBUTION_SPEND).", "chart": ""}
    rows = [_row(r) for r in frame.iter_rows(named=True)]
    import plotly.graph_objects as go

    figure = go.Figure(
        go.Bar(
            x=frame["revenue_per_spend_dollar"].to_list(),
            y=frame["channel"].to_list(),
            orientation="h",
            name="won revenue per dollar",
            hovertemplate="%{y}: %{x:.2f} per dollar<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    best = frame.sort("revenue_per_spend_dollar", descending=True, nulls_last=True).row(0, named=True)
    worst = frame.sort("revenue_per_spend_dollar", nulls_last=True).row(0, named=True)
    reading = (
        f"Under {TREND_MODEL}, a dollar on {best['channel']} returned {best['revenue_per_spend_dollar']:.1f} of won "
        f"revenue and a dollar on {worst['channel']} {worst['revenue_per_spend_dollar']:.1f}; the ratios move with "
        "the model, so read them next to the comparison above."
    )
    return {
        "empty": False,
        "table": make_table(
            [
                "channel",
                f"spend ({currency})",
                "pipeline",
                "won revenue",
                "cost per pipeline $",
                "pipeline per $",
                "revenue per $",
            ],
            rows,
        ),
        "reading": reading,
        "chart": plot_html(
            figure_layout(figure, f"Won revenue per dollar spent ({TREND_MODEL})", 360), "chart-spend"
        ),
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _spend(inputs.conn, inputs.currency)


SECTION = Section("spend", "Spend and return", build)
