"""The report's "Markov" section (id `markov`)."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    percent,
    text_cell,
)
from attribution.sql import query_frame, table_exists

__all__ = ["SECTION"]


def _markov(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    effects = query_frame(
        conn,
        "select channel, removal_effect, share, p_conversion from mart_markov_removal_effects "
        "where journey_kind = 'pipeline' order by removal_effect desc, channel",
    )
    rows = [
        [text_cell(r["channel"]), text_cell(f"{r['removal_effect']:.3f}"), text_cell(percent(r["share"]))]
        for r in effects.iter_rows(named=True)
    ]
    order_rows: list[list[dict[str, Any]]] = []
    recommended = "not computed"
    if table_exists(conn, "mart_markov_order_selection"):
        orders = query_frame(
            conn,
            "select * from mart_markov_order_selection where journey_kind = 'pipeline' order by markov_order",
        )
        order_rows = [
            [
                text_cell(str(r["markov_order"])),
                text_cell(
                    "" if r["holdout_log_likelihood"] is None else f"{r['holdout_log_likelihood']:.3f}"
                ),
                text_cell("" if r["holdout_auc"] is None else f"{r['holdout_auc']:.3f}"),
                text_cell(
                    ("recommended " if r["is_recommended"] else "")
                    + ("configured" if r["is_configured"] else "")
                ),
            ]
            for r in orders.iter_rows(named=True)
        ]
        picked = orders.filter("is_recommended")
        recommended = str(picked["markov_order"][0]) if len(picked) else "none (too little held-out data)"
    top = effects.row(0, named=True)["channel"] if len(effects) else "no channel"
    reading = (
        f"Removing {top} from the pipeline paths would lose the most conversions; held-out accounts recommend "
        f"Markov order {recommended}."
    )
    return {
        "effects": make_table(["channel", "removal effect", "share"], rows),
        "orders": make_table(["order", "held-out log-likelihood", "held-out AUC", ""], order_rows),
        "reading": reading,
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _markov(inputs.conn)


SECTION = Section("markov", "Markov", build)
