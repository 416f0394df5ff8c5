"""Formatting shared by the report's sections: money, percents, cells, tables and
Plotly figures."""

from __future__ import annotations

import re
from typing import Any

import duckdb

__all__ = [
    "NUMBER",
    "figure_layout",
    "make_table",
    "money",
    "percent",
    "plot_html",
    "text_cell",
]


def money(value: float | None) -> str:
    """1234567.8 -> '1,234,568' (blank for a missing value)."""
    return "" if value is None else f"{value:,.0f}"


def percent(value: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%' (blank for a missing value)."""
    return "" if value is None else f"{value * 100:.{digits}f}%"


NUMBER = re.compile(r"^-?[\d.,]+( ?(×|%|pts))?$")


def text_cell(text: str, value: float | None = None, **data: str) -> dict[str, Any]:
    """A table cell: its text, the exact figure behind it (data-value) and data attributes;
    words align left, numbers right."""
    return {"text": text, "value": value, "data": data, "is_text": value is None and not NUMBER.match(text)}


def make_table(
    columns: list[str], rows: list[list[dict[str, Any]]], total: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "total": total}


def plot_html(figure: Any, div_id: str) -> str:
    html: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return html


def figure_layout(figure: Any, title: str, height: int = 420) -> Any:
    figure.update_layout(
        title={"text": title, "x": 0.0, "font": {"size": 15}},
        height=height,
        margin={"l": 150, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        legend={"font": {"size": 11}},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )
    return figure


def kind_title(kind: str) -> str:
    """What a journey kind's attributed value is, in words: pipeline, won revenue, qualified
    pipeline, or a milestone kind's count ("mql milestones")."""
    return {"pipeline": "pipeline", "revenue": "won revenue", "qualified": "qualified pipeline"}.get(
        kind, f"{kind} milestones"
    )


def kind_unit(kind: str, currency: str) -> str:
    """The unit of a journey kind's amounts: the reporting currency, or a milestone count."""
    return currency if kind in ("pipeline", "revenue", "qualified") else "count"


def reported_kinds(conn: duckdb.DuckDBPyConnection, kinds: tuple[str, ...]) -> list[str]:
    """The run's journey kinds the report shows: pipeline and revenue always, the others
    where they have converted journeys (qualified has none without a stage history)."""
    built = {
        row[0]
        for row in conn.execute(
            "select distinct journey_kind from int_journeys where is_converted"
        ).fetchall()
    }
    return [kind for kind in kinds if kind in ("pipeline", "revenue") or kind in built]
