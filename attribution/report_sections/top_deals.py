"""The report's "Top deals, touch by touch" section: the largest won deals (else the largest
deals), each touch with its credit under every model; hovering a cell gives the model's reason
(attribution.explain)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from attribution.config import AttributionConfig
from attribution.explain import explain_opportunity
from attribution.models import MODEL_SPECS
from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import make_table, text_cell

__all__ = ["SECTION", "top_deals"]

DEALS = 3
# a long journey shows its first and last touches this many each
EDGE_TOUCHES = 12


def _largest(conn: duckdb.DuckDBPyConnection, limit: int) -> list[tuple[str, str, float]]:
    """(opportunity, journey kind, amount) of the largest won deals, else the largest deals."""
    rows: list[tuple[str, str, float]] = conn.sql(
        """
        select opportunity_id, journey_kind, journey_amount
        from int_journeys
        where is_converted and touch_count > 0
        order by journey_kind = 'revenue' desc, journey_amount desc, opportunity_id
        limit ?
        """,
        params=[limit],
    ).fetchall()
    kinds = {kind for _, kind, _ in rows}
    return [row for row in rows if row[1] == ("revenue" if "revenue" in kinds else "pipeline")]


def _deal_table(explained: pl.DataFrame, models: list[str]) -> dict[str, Any]:
    """Touch x model: each cell the credit, its title the model's reason. A journey longer than
    2 x EDGE_TOUCHES shows its first and last EDGE_TOUCHES touches and a row saying how many
    are between."""
    wide = (
        explained.select("position", "occurred_at", "channel", "campaign", "touchpoint_id")
        .unique("touchpoint_id")
        .sort("position")
    )
    count = wide.height
    if count > 2 * EDGE_TOUCHES:
        wide = pl.concat([wide.head(EDGE_TOUCHES), wide.tail(EDGE_TOUCHES)])
    shown = explained.join(wide.select("touchpoint_id"), on="touchpoint_id", how="semi")
    credit = {
        (r["touchpoint_id"], r["model"]): (r["credit"], r["reason"]) for r in shown.iter_rows(named=True)
    }
    rows = []
    for touch in wide.iter_rows(named=True):
        if count > 2 * EDGE_TOUCHES and touch["position"] == count - EDGE_TOUCHES + 1:
            between = count - 2 * EDGE_TOUCHES
            rows.append([text_cell(f"… {between:,} touches between (attribution-explain lists them)")])
        cells = [
            text_cell(str(touch["position"])),
            text_cell(f"{touch['occurred_at']:%Y-%m-%d}"),
            text_cell(touch["channel"]),
            text_cell(touch["campaign"] or ""),
        ]
        for model in models:
            value, reason = credit.get((touch["touchpoint_id"], model), (None, ""))
            cells.append(
                {
                    **text_cell("" if value is None else f"{value * 100:.1f}%", value, model=model),
                    "title": reason,
                }
            )
        rows.append(cells)
    return make_table(["#", "date", "channel", "campaign", *models], rows)


def top_deals(
    conn: duckdb.DuckDBPyConnection, config: AttributionConfig, currency: str, limit: int = DEALS
) -> dict[str, Any]:
    """The section's context: a reading sentence and, per deal, a touch x model table of credits
    whose cells carry each model's reason."""
    deals: list[dict[str, Any]] = []
    explanations: list[pl.DataFrame] = []
    for opportunity_id, kind, amount in _largest(conn, limit):
        explained = explain_opportunity(conn, opportunity_id, config, kind)
        models = [m for m in MODEL_SPECS if m in set(explained["model"])]
        touches = explained["touchpoint_id"].n_unique()
        deals.append(
            {
                "opportunity_id": opportunity_id,
                "title": f"{opportunity_id}: {amount:,.0f} {currency} ({'won' if kind == 'revenue' else 'pipeline'}), "
                f"{touches} touches",
                "table": _deal_table(explained, models),
            }
        )
        explanations.append(explained)
    if not deals:
        return {
            "reading": "No deal has a touch in its journey, so there is no touch to explain.",
            "deals": [],
        }
    lead = explanations[0]
    leader = {
        model: part.group_by("channel")
        .agg(pl.col("credit").sum())
        .sort(["credit", "channel"], descending=[True, False])
        for (model,), part in lead.group_by(["model"], maintain_order=True)
    }
    described = [
        f"{model} gives most to {frame['channel'][0]} ({frame['credit'][0] * 100:.0f}%)"
        for model, frame in leader.items()
        if model in MODEL_SPECS and MODEL_SPECS[model].contrast  # not a calibrated model
    ]
    reading = (
        f"The largest deal, {deals[0]['title']}: "
        + "; ".join(described)
        + ". Hover a credit for the model's reason."
        if described
        else f"The largest deal, {deals[0]['title']}. Hover a credit for the model's reason."
    )
    return {"reading": reading, "deals": deals}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return top_deals(inputs.conn, inputs.config, inputs.currency)


SECTION = Section("deals", "Top deals", build)
