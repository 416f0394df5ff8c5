"""The report's "Trend" section (id `trend`)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    figure_layout,
    kind_title,
    plot_html,
    reported_kinds,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _trend(conn: duckdb.DuckDBPyConnection, kind: str) -> str:
    import plotly.graph_objects as go

    frame = query_frame(
        conn,
        "select period_month, channel, attributed_amount from int_attributed_by_month "
        "where journey_kind = ? and model = ? order by period_month, channel",
        [kind, TREND_MODEL],
    )
    figure = go.Figure()
    for channel in sorted(set(frame["channel"].to_list())):
        rows = frame.filter(pl.col("channel") == channel)
        figure.add_trace(
            go.Bar(
                x=rows["period_month"].to_list(),
                y=rows["attributed_amount"].to_list(),
                name=channel,
                hovertemplate="%{x|%b %Y}: %{y:,.0f}<extra>" + channel + "</extra>",
            )
        )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(tickformat="%b %Y")
    title = {"pipeline": "Pipeline by month created", "revenue": "Won revenue by month won"}.get(
        kind, f"{kind_title(kind).capitalize()} by month reached"
    )
    return plot_html(
        figure_layout(figure, f"{title}, by channel ({TREND_MODEL})", 400), f"chart-trend-{kind}"
    )


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    kinds = reported_kinds(inputs.conn, inputs.config.journey_kinds)
    return {"charts": [_trend(inputs.conn, kind) for kind in kinds], "model": TREND_MODEL}


SECTION = Section("trend", "Trend", build)
