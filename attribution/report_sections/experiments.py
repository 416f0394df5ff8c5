"""The report's "Experiments" section (id `experiments`): each experiment's measured lift on
its primary metric, the decision, and which models agree with what it measured."""

from __future__ import annotations

from typing import Any

import duckdb

from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import make_table, money, text_cell
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _reading(row: dict[str, Any], agreeing: list[str], disagreeing: list[str]) -> str:
    """One sentence: what was measured, what was decided, which models agree."""
    tested = row["campaign"] or row["channel"]
    text = f"{row['experiment_id']} ({tested}): "
    if row["lift"] is None:
        return text + f"no estimate ({row['warnings'] or 'too few units'})."
    text += (
        f"{money(row['cuped_lift'])} {row['metric']} per treated unit "
        f"[{money(row['low'])} to {money(row['high'])}], decision {row['decision']}"
    )
    if agreeing or disagreeing:
        text += f"; within the measured interval: {', '.join(agreeing) or 'no model'}"
        if disagreeing:
            text += f"; outside it: {', '.join(disagreeing)}"
    return text + "."


def _experiments(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    results = query_frame(
        conn, "select * from mart_experiment_results where is_primary order by experiment_id"
    )
    if results.is_empty():
        return {"empty": True, "readings": ["No experiment was given (the experiments input)."]}
    versus = query_frame(conn, "select * from mart_experiment_vs_attribution order by experiment_id, model")
    readings, rows = [], []
    for row in results.iter_rows(named=True):
        mine = versus.filter(versus["experiment_id"] == row["experiment_id"])
        agreeing = mine.filter(~mine["is_outside_interval"])["model"].to_list()
        disagreeing = mine.filter(mine["is_outside_interval"])["model"].to_list()
        readings.append(_reading(row, agreeing, disagreeing))
        rows.append(
            [
                text_cell(row["experiment_id"]),
                text_cell(row["metric"]),
                text_cell(f"{row['treated_units']:,} / {row['control_units']:,}"),
                text_cell(money(row["cuped_lift"]), row["cuped_lift"]),
                text_cell(f"{money(row['low'])} to {money(row['high'])}" if row["low"] is not None else ""),
                text_cell(row["decision"]),
                text_cell(row["warnings"] or ""),
            ]
        )
    columns = [
        "experiment",
        "metric",
        "treated / control",
        "lift per unit",
        "interval",
        "decision",
        "warnings",
    ]
    return {"empty": False, "readings": readings, "table": make_table(columns, rows)}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _experiments(inputs.conn)


SECTION = Section("experiments", "Experiments", build)
