"""The report's "Models by channel" section (id `comparison`)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from attribution.report import comparison_table, model_order
from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import (
    figure_layout,
    kind_title,
    kind_unit,
    make_table,
    money,
    percent,
    plot_html,
    reported_kinds,
    text_cell,
)
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _comparison(conn: duckdb.DuckDBPyConnection, kind: str, currency: str) -> dict[str, Any]:
    models = model_order(conn)
    table = comparison_table(conn, kind)
    intervals = query_frame(
        conn,
        "select channel, model, share_of_total, share_low, share_high from mart_channel_comparison "
        "where journey_kind = ?",
        [kind],
    )
    lookup = {(c, m): (s, lo, hi) for c, m, s, lo, hi in intervals.iter_rows()}
    rows = []
    for row in table.filter(pl.col("channel") != "TOTAL").iter_rows(named=True):
        cells = [text_cell(row["channel"])]
        for model in models:
            share, low, high = lookup.get((row["channel"], model), (None, None, None))
            note = (
                f"{percent(share)} [{percent(low, 0)}–{percent(high, 0)}]"
                if low is not None
                else percent(share)
            )
            cells.append(
                {
                    **text_cell(
                        money(row[model]), row[model], channel=row["channel"], model=model, kind=kind
                    ),
                    "note": note,
                }
            )
        rows.append(cells)
    total_row = table.filter(pl.col("channel") == "TOTAL")
    total = (
        [text_cell("TOTAL")]
        + [
            text_cell(money(total_row[m][0]), total_row[m][0], channel="TOTAL", model=m, kind=kind)
            for m in models
        ]
        if len(total_row)
        else None
    )
    return {
        "kind": kind,
        "title": f"Attributed {kind_title(kind)} ({kind_unit(kind, currency)})",
        "table": make_table(["channel", *models], rows, total),
        "currency": currency,
    }


def _comparison_chart(conn: duckdb.DuckDBPyConnection, kind: str) -> str:
    import plotly.graph_objects as go

    frame = query_frame(
        conn,
        "select channel, model, share_of_total, share_low, share_high from mart_channel_comparison "
        "where journey_kind = ? order by channel",
        [kind],
    )
    figure = go.Figure()
    order = [c for c in comparison_table(conn, kind)["channel"].to_list() if c != "TOTAL"]
    for model in model_order(conn):
        rows = (
            frame.filter(pl.col("model") == model)
            .with_columns(
                position=pl.col("channel").replace_strict(
                    {c: i for i, c in enumerate(order)}, default=len(order)
                )
            )
            .sort("position")
        )
        has_interval = rows["share_low"].null_count() == 0 and len(rows) > 0
        figure.add_trace(
            go.Scatter(
                x=rows["share_of_total"].to_list(),
                y=rows["channel"].to_list(),
                mode="markers",
                name=model,
                orientation="h",
                offsetgroup=model,
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (rows["share_high"] - rows["share_of_total"]).to_list(),
                    "arrayminus": (rows["share_of_total"] - rows["share_low"]).to_list(),
                    "thickness": 1,
                    "width": 2,
                }
                if has_interval
                else None,
                hovertemplate="%{y}: %{x:.1%}<extra>" + model + "</extra>",
            )
        )
    figure.update_layout(scattermode="group", scattergap=0.25)  # models side by side within a channel
    figure.update_yaxes(categoryorder="array", categoryarray=list(reversed(order)))
    figure.update_xaxes(tickformat=".0%")
    return plot_html(
        figure_layout(figure, f"Share of {kind_title(kind)} by channel and model, with 90% intervals", 520),
        f"chart-comparison-{kind}",
    )


def _milestone_gap(conn: duckdb.DuckDBPyConnection, kinds: list[str]) -> str | None:
    """One sentence for the first milestone kind: the channel whose share of its milestones
    most exceeds its share of won revenue under the report's lead model (None without one)."""
    milestone = next((kind for kind in kinds if kind not in ("pipeline", "revenue", "qualified")), None)
    if milestone is None:
        return None
    rows = conn.execute(
        "select m.channel, m.share_of_total, coalesce(r.share_of_total, 0) from mart_channel_comparison as m "
        "left join mart_channel_comparison as r on r.channel = m.channel and r.model = m.model "
        "and r.journey_kind = 'revenue' where m.journey_kind = ? and m.model = ? and m.channel <> '(none)' "
        "order by m.share_of_total - coalesce(r.share_of_total, 0) desc, m.channel limit 1",
        [milestone, TREND_MODEL],
    ).fetchall()
    if not rows:
        return None
    channel, milestone_share, revenue_share = rows[0]
    return (
        f"{channel} earns {percent(milestone_share)} of the {milestone} milestones but "
        f"{percent(revenue_share)} of the won revenue ({TREND_MODEL}): the channel that creates "
        f"{milestone}s most beyond what it wins."
    )


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    kinds = reported_kinds(inputs.conn, inputs.config.journey_kinds)
    return {
        "milestone_gap": _milestone_gap(inputs.conn, kinds),
        "comparisons": [
            {**_comparison(inputs.conn, kind, inputs.currency), "chart": _comparison_chart(inputs.conn, kind)}
            for kind in kinds
        ],
    }


SECTION = Section("comparison", "Models by channel", build)
