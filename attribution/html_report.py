"""The joint marketing-sales report: one self-contained HTML file per run, next to the exports.

It opens offline from a file or an e-mail attachment: the Plotly JavaScript is embedded once
(no CDN, no server), the charts are Plotly figures (hover for the exact figure, click a legend
entry to hide a model), the tables are formatted for people, and every number comes from the
same marts the exports hold (cells the tests check carry `data-value` with the exact figure).
Rendered with Jinja2 (autoescaped) from `report_template.py`; a print stylesheet makes it a
clean PDF. `python -m attribution.html_report` renders it from a DuckDB file.

Why these libraries: Plotly's Python package carries its JavaScript bundle, so one offline file
holds interactive SVG charts that a browser test can count marks in; Jinja2 is already in the
dependency tree (Dagster) and escapes every value by default.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from attribution.config import JOURNEY_KINDS
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.export import MANIFEST, file_sha256, write_atomically
from attribution.glossary import GLOSSARY
from attribution.report import comparison_table, headline_totals, model_order, run_database
from attribution.sql import table_exists

__all__ = ["REPORT_FILE", "ReportResult", "main", "render_report", "write_report"]

REPORT_FILE = "attribution_report.html"
# the model the trend, campaigns and segments are shown under (every model is in the comparison)
TREND_MODEL = "linear"


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, its size, checksum and how long it took to render."""

    path: Path
    bytes: int
    sha256: str
    seconds: float


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
    frame: pl.DataFrame = conn.sql(sql, params=list(params) if params else None).pl()
    return frame


def money(value: float | None) -> str:
    """1234567.8 -> '1,234,568' (blank for a missing value)."""
    return "" if value is None else f"{value:,.0f}"


def percent(value: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%' (blank for a missing value)."""
    return "" if value is None else f"{value * 100:.{digits}f}%"


_NUMBER = re.compile(r"^-?[\d.,]+( ?(×|%|pts))?$")


def _cell(text: str, value: float | None = None, **data: str) -> dict[str, Any]:
    """A table cell: its text, the exact figure behind it (data-value) and data attributes;
    words align left, numbers right."""
    return {"text": text, "value": value, "data": data, "is_text": value is None and not _NUMBER.match(text)}


def _table(
    columns: list[str], rows: list[list[dict[str, Any]]], total: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "total": total}


def _plot(figure: Any, div_id: str) -> str:
    html: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return html


def _layout(figure: Any, title: str, height: int = 420) -> Any:
    figure.update_layout(
        title={"text": title, "x": 0.0, "font": {"size": 15}},
        height=height,
        margin={"l": 150, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        legend={"font": {"size": 11}},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )
    return figure


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
        f"of pipeline created {span} and {percent(influenced_revenue)} of the won revenue; the models "
        "below split that same total between channels in ten different ways.",
    }


def _comparison(conn: duckdb.DuckDBPyConnection, kind: str, currency: str) -> dict[str, Any]:
    models = model_order(conn)
    table = comparison_table(conn, kind)
    intervals = _frame(
        conn,
        "select channel, model, share_of_total, share_low, share_high from mart_channel_comparison "
        "where journey_kind = ?",
        [kind],
    )
    lookup = {(c, m): (s, lo, hi) for c, m, s, lo, hi in intervals.iter_rows()}
    rows = []
    for row in table.filter(pl.col("channel") != "TOTAL").iter_rows(named=True):
        cells = [_cell(row["channel"])]
        for model in models:
            share, low, high = lookup.get((row["channel"], model), (None, None, None))
            note = (
                f"{percent(share)} [{percent(low, 0)}–{percent(high, 0)}]"
                if low is not None
                else percent(share)
            )
            cells.append(
                {
                    **_cell(money(row[model]), row[model], channel=row["channel"], model=model, kind=kind),
                    "note": note,
                }
            )
        rows.append(cells)
    total_row = table.filter(pl.col("channel") == "TOTAL")
    total = (
        [_cell("TOTAL")]
        + [
            _cell(money(total_row[m][0]), total_row[m][0], channel="TOTAL", model=m, kind=kind)
            for m in models
        ]
        if len(total_row)
        else None
    )
    return {"kind": kind, "table": _table(["channel", *models], rows, total), "currency": currency}


def _comparison_chart(conn: duckdb.DuckDBPyConnection, kind: str) -> str:
    import plotly.graph_objects as go

    frame = _frame(
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
    title = "pipeline" if kind == "pipeline" else "won revenue"
    return _plot(
        _layout(figure, f"Share of {title} by channel and model, with 90% intervals", 520),
        f"chart-comparison-{kind}",
    )


def _divergence(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = _frame(
        conn,
        "select channel, min(share_of_total) as low, max(share_of_total) as high, "
        "arg_min(model, share_of_total) as low_model, arg_max(model, share_of_total) as high_model "
        "from mart_channel_comparison where journey_kind = 'pipeline' and channel <> ? "
        "group by channel order by high - low desc, channel",
        [UNATTRIBUTED_CHANNEL],
    )
    rows = [
        [
            _cell(r["channel"]),
            _cell(f"{percent(r['low'])} ({r['low_model']})"),
            _cell(f"{percent(r['high'])} ({r['high_model']})"),
            _cell(f"{(r['high'] - r['low']) * 100:.1f} pts"),
        ]
        for r in frame.iter_rows(named=True)
    ]
    if frame.is_empty():
        reading = "No channel was credited."
    else:
        top, calm = frame.row(0, named=True), frame.row(len(frame) - 1, named=True)
        reading = (
            f"The models disagree most on {top['channel']} ({percent(top['low'])} under {top['low_model']} "
            f"to {percent(top['high'])} under {top['high_model']}) and agree most on {calm['channel']} "
            f"(within {(calm['high'] - calm['low']) * 100:.1f} points): argue about the first, not the second."
        )
    return {"table": _table(["channel", "lowest share", "highest share", "spread"], rows), "reading": reading}


def _campaigns(conn: duckdb.DuckDBPyConnection, currency: str, limit: int = 20) -> dict[str, Any]:
    models = model_order(conn)
    lead = TREND_MODEL if TREND_MODEL in models else (models[0] if models else TREND_MODEL)
    shown = [m for m in (lead, "markov", "shapley", "first_touch", "last_touch") if m in models]
    shown = list(dict.fromkeys(shown))
    wide = _frame(
        conn,
        "select * exclude (journey_kind) from mart_campaign_comparison_wide "
        "where journey_kind = 'pipeline' and channel <> ?",
        [UNATTRIBUTED_CHANNEL],
    )
    if wide.is_empty() or lead not in wide.columns:
        return {
            "table": _table(["campaign"], []),
            "reading": "No campaign has attributed pipeline.",
            "lead": lead,
        }
    top = wide.sort([lead, "campaign"], descending=[True, False], nulls_last=True).head(limit)
    rows = [
        [_cell(r["campaign"]), _cell(r["channel"]), *[_cell(money(r[m]), r[m]) for m in shown]]
        for r in top.iter_rows(named=True)
    ]
    first = top.row(0, named=True)
    reading = (
        f"{first['campaign']} ({first['channel']}) leads with {money(first[lead])} {currency} of pipeline under "
        f"{lead}; a campaign missing on a touch counts under (no campaign), never dropped."
    )
    return {"table": _table(["campaign", "channel", *shown], rows), "reading": reading, "lead": lead}


def _sourced(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    models = model_order(conn)
    shown = [m for m in (TREND_MODEL, "markov") if m in models]
    frame = _frame(conn, "select * from mart_sourced_influenced where journey_kind = 'pipeline'")
    rows = [
        [
            _cell(r["channel"]),
            _cell(money(r["sourced_amount"]), r["sourced_amount"]),
            _cell(f"{r['sourced_opportunities']:,}"),
            _cell(money(r["influenced_amount"]), r["influenced_amount"]),
            _cell(f"{r['influenced_opportunities']:,}"),
            *[_cell(money(r.get(m)), r.get(m)) for m in shown],
        ]
        for r in frame.iter_rows(named=True)
    ]
    influenced = float(frame["influenced_amount"].sum()) if len(frame) else 0.0
    sourced = float(frame["sourced_amount"].sum()) if len(frame) else 0.0
    reading = (
        f"Sourced and attributed columns each add up to the pipeline ({money(sourced)}); the influenced column "
        f"adds up to {money(influenced)} because a deal touched by three channels counts under all three: use "
        "it for 'how much pipeline did this channel touch', never to split pipeline."
    )
    columns = ["channel", "sourced", "sourced opps", "influenced (any touch)", "influenced opps", *shown]
    return {"table": _table(columns, rows), "reading": reading}


def _trend(conn: duckdb.DuckDBPyConnection, kind: str) -> str:
    import plotly.graph_objects as go

    frame = _frame(
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
    title = "Pipeline by month created" if kind == "pipeline" else "Won revenue by month won"
    return _plot(_layout(figure, f"{title}, by channel ({TREND_MODEL})", 400), f"chart-trend-{kind}")


def _segments(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = _frame(
        conn,
        "with totals as (select journey_kind, dimension, segment_value, sum(attributed_amount) as amount, "
        "arg_max(channel, attributed_amount) as top_channel from mart_segment_comparison where model = ? "
        "group by all) select dimension, segment_value, "
        "max(amount) filter (where journey_kind = 'pipeline') as pipeline, "
        "max(amount) filter (where journey_kind = 'revenue') as revenue, "
        "max(top_channel) filter (where journey_kind = 'pipeline') as top_channel "
        "from totals group by all order by dimension, pipeline desc nulls last, segment_value",
        [TREND_MODEL],
    )
    rows = [
        [
            _cell(r["dimension"]),
            _cell(r["segment_value"]),
            _cell(money(r["pipeline"]), r["pipeline"]),
            _cell(money(r["revenue"]), r["revenue"]),
            _cell(r["top_channel"] or ""),
        ]
        for r in frame.iter_rows(named=True)
    ]
    reading = (
        "No segment column is set (ATTRIBUTION_SEGMENT_COLUMNS)."
        if frame.is_empty()
        else f"Pipeline and won revenue per segment value and the channel that earns most of it ({TREND_MODEL}); "
        "each dimension adds up to the total."
    )
    return {
        "table": _table(
            ["dimension", "value", "pipeline", "won revenue", f"top channel ({TREND_MODEL})"], rows
        ),
        "reading": reading,
        "empty": frame.is_empty(),
    }


def _spend(conn: duckdb.DuckDBPyConnection, currency: str) -> dict[str, Any]:
    frame = _frame(
        conn,
        "select channel, spend_amount, attributed_pipeline, attributed_revenue, cost_per_pipeline_dollar, "
        "pipeline_per_spend_dollar, revenue_per_spend_dollar from mart_spend_return "
        "where period_grain = 'all' and model = ? and spend_amount > 0 order by spend_amount desc, channel",
        [TREND_MODEL],
    )
    if frame.is_empty():
        return {"empty": True, "reading": "No spend input was given (ATTRIBUTION_SPEND).", "chart": ""}
    rows = [
        [
            _cell(r["channel"]),
            _cell(money(r["spend_amount"]), r["spend_amount"]),
            _cell(money(r["attributed_pipeline"]), r["attributed_pipeline"]),
            _cell(money(r["attributed_revenue"]), r["attributed_revenue"]),
            _cell("" if r["cost_per_pipeline_dollar"] is None else f"{r['cost_per_pipeline_dollar']:.3f}"),
            _cell("" if r["pipeline_per_spend_dollar"] is None else f"{r['pipeline_per_spend_dollar']:.1f}×"),
            _cell("" if r["revenue_per_spend_dollar"] is None else f"{r['revenue_per_spend_dollar']:.1f}×"),
        ]
        for r in frame.iter_rows(named=True)
    ]
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
        "table": _table(
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
        "chart": _plot(_layout(figure, f"Won revenue per dollar spent ({TREND_MODEL})", 360), "chart-spend"),
    }


def _time_to_convert(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = _frame(
        conn,
        "select period_month, opportunities, median_days_to_opportunity, p90_days_to_opportunity, "
        "median_days_to_won, median_touches_per_journey from mart_time_to_convert "
        "where channel = '(all channels)' order by period_month desc limit 12",
    )
    rows = [
        [
            _cell(f"{r['period_month']:%b %Y}"),
            _cell(f"{r['opportunities']:,}"),
            _cell(f"{r['median_days_to_opportunity']:.0f}"),
            _cell(f"{r['p90_days_to_opportunity']:.0f}"),
            _cell("" if r["median_days_to_won"] is None else f"{r['median_days_to_won']:.0f}"),
            _cell(f"{r['median_touches_per_journey']:.0f}"),
        ]
        for r in frame.iter_rows(named=True)
    ]
    if frame.is_empty():
        reading = "No opportunity had a touch before it was created."
    else:
        latest = frame.row(0, named=True)
        reading = (
            f"In {latest['period_month']:%B %Y} half of the touched opportunities were created within "
            f"{latest['median_days_to_opportunity']:.0f} days of their first touch (90% within "
            f"{latest['p90_days_to_opportunity']:.0f}), after a median of {latest['median_touches_per_journey']:.0f} touches."
        )
    columns = [
        "month created",
        "opportunities",
        "median days to create",
        "p90 days",
        "median days to won",
        "median touches",
    ]
    return {"table": _table(columns, rows), "reading": reading}


def _markov(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    effects = _frame(
        conn,
        "select channel, removal_effect, share, p_conversion from markov_removal_effects "
        "where journey_kind = 'pipeline' order by removal_effect desc, channel",
    )
    rows = [
        [_cell(r["channel"]), _cell(f"{r['removal_effect']:.3f}"), _cell(percent(r["share"]))]
        for r in effects.iter_rows(named=True)
    ]
    order_rows: list[list[dict[str, Any]]] = []
    recommended = "not computed"
    if table_exists(conn, "markov_order_selection"):
        orders = _frame(
            conn, "select * from markov_order_selection where journey_kind = 'pipeline' order by markov_order"
        )
        order_rows = [
            [
                _cell(str(r["markov_order"])),
                _cell("" if r["holdout_log_likelihood"] is None else f"{r['holdout_log_likelihood']:.3f}"),
                _cell("" if r["holdout_auc"] is None else f"{r['holdout_auc']:.3f}"),
                _cell(
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
        "effects": _table(["channel", "removal effect", "share"], rows),
        "orders": _table(["order", "held-out log-likelihood", "held-out AUC", ""], order_rows),
        "reading": reading,
    }


def _restatements(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not table_exists(conn, "mart_restatements"):
        return {"table": _table(["month"], []), "reading": "No restatement history yet."}
    frame = _frame(
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
            _cell(r["journey_kind"]),
            _cell(f"{r['period_month']:%b %Y}"),
            _cell(money(r["first_reported"]), r["first_reported"]),
            _cell(money(r["current"]), r["current"]),
            _cell(money(r["difference"]), r["difference"]),
            _cell(
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
    return {"table": _table(columns, rows), "reading": reading}


def _quality(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    from attribution.checks import contact_role_coverage, markov_warnings

    audit = _frame(conn, "select * from load_audit order by source")
    audit_rows = [
        [
            _cell(r["source"]),
            _cell(f"{r['raw_rows']:,}"),
            _cell(f"{r['staged_rows']:,}"),
            _cell(f"{r['quarantined_rows']:,}"),
            _cell(f"{r['after_as_of_rows']:,}"),
            _cell(f"{r.get('excluded_rows') or 0:,}"),
            _cell(f"{r.get('unmatched_rows') or 0:,}"),
        ]
        for r in audit.iter_rows(named=True)
    ]
    reasons = _frame(
        conn,
        "select source, reason, count(*) as row_count, any_value(record) as example from quarantine "
        "group by all order by source, reason",
    )
    reason_rows = [
        [_cell(r["source"]), _cell(r["reason"]), _cell(f"{r['row_count']:,}"), _cell(str(r["example"])[:160])]
        for r in reasons.iter_rows(named=True)
    ]
    stale = int(conn.sql("select count(*) from stg_opportunities where is_fx_stale").fetchall()[0][0])
    warnings = markov_warnings(conn)
    quarantined = int(audit["quarantined_rows"].sum()) if len(audit) else 0
    raw = int(audit["raw_rows"].sum()) if len(audit) else 0
    reading = (
        f"{raw:,} input rows: every one is staged, quarantined with a reason ({quarantined:,}), after as-of "
        f"or excluded by type; {stale:,} opportunities converted with a stale fx rate."
    )
    if (
        table_exists(conn, "stg_contact_roles")
        and conn.sql("select count(*) from stg_contact_roles").fetchall()[0][0]
    ):
        with_roles, total = contact_role_coverage(conn)
        reading += (
            f" {total - with_roles:,} of {total:,} opportunities ({100 * (total - with_roles) / max(total, 1):.1f}%) "
            "have no contact role."
        )
    identity_rows: list[list[dict[str, Any]]] = []
    if table_exists(conn, "crm_identity_coverage"):
        identity = _frame(conn, "select * from crm_identity_coverage")
        identity_rows = [
            [
                _cell(r["source_object"]),
                _cell(r["method"] or f"unmatched: {r['unmatched_reason']}"),
                _cell(f"{r['touches']:,}"),
                _cell(f"{100 * r['share_of_touches']:.1f}%", r["share_of_touches"]),
            ]
            for r in identity.iter_rows(named=True)
        ]
        matched = int(identity.filter(pl.col("method").is_not_null())["touches"].sum())
        total = int(identity["touches"].sum())
        reading += (
            f" CRM objects: {matched:,} of {total:,} touch rows ({100 * matched / max(total, 1):.1f}%) found "
            "their account; the rest are in unmatched_touches with a reason."
        )
    unclassified_rows: list[list[dict[str, Any]]] = []
    if table_exists(conn, "crm_unclassified_values"):
        unclassified = _frame(conn, "select * from crm_unclassified_values limit 15")
        unclassified_rows = [
            [
                _cell(r["source_object"]),
                _cell(
                    ", ".join(
                        f"{k}={r[k]}"
                        for k in (
                            "campaign_type",
                            "utm_source",
                            "utm_medium",
                            "referrer_domain",
                            "crm_source",
                        )
                        if r[k]
                    )
                    or "(no field set)"
                ),
                _cell(f"{r['touches']:,}"),
            ]
            for r in unclassified.iter_rows(named=True)
        ]
    return {
        "audit": _table(
            ["source", "rows read", "staged", "quarantined", "after as-of", "excluded", "unmatched"],
            audit_rows,
        ),
        "identity": _table(["object", "identity method", "touch rows", "share"], identity_rows),
        "unclassified": _table(["object", "values no channel rule matched", "touch rows"], unclassified_rows),
        "self_reported": _self_reported(conn),
        "reasons": _table(["source", "reason", "rows", "example row"], reason_rows),
        "warnings": warnings,
        "reading": reading,
    }


def _self_reported(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What buyers say next to what each model says (mart_self_reported_comparison): the
    agreement rate per model and the shares per channel of the first and last touch models."""
    if not table_exists(conn, "mart_self_reported_comparison"):
        return {"agreement": _table([], []), "shares": _table([], []), "answered": 0}
    frame = _frame(conn, "select * from mart_self_reported_comparison")
    if frame.is_empty():
        return {"agreement": _table([], []), "shares": _table([], []), "answered": 0}
    agreement = (
        frame.group_by("model")
        .agg(pl.col("agreement_rate").first())
        .sort("agreement_rate", "model", descending=[True, False])
    )
    agreement_rows = [
        [_cell(r["model"]), _cell(f"{100 * r['agreement_rate']:.1f}%", r["agreement_rate"])]
        for r in agreement.iter_rows(named=True)
    ]
    models = sorted(set(frame["model"]))
    wide = frame.pivot(on="model", index="channel", values="model_share").join(
        frame.group_by("channel").agg(pl.col("self_reported_share").first()), on="channel"
    )
    share_rows = [
        [
            _cell(r["channel"]),
            _cell(f"{100 * r['self_reported_share']:.1f}%", r["self_reported_share"]),
            *(_cell(f"{100 * (r[m] or 0):.1f}%", r[m] or 0) for m in models),
        ]
        for r in wide.sort("self_reported_share", descending=True).iter_rows(named=True)
    ]
    return {
        "agreement": _table(["model", "agrees with the answer"], agreement_rows),
        "shares": _table(["channel", "buyers say", *models], share_rows),
        "answered": int(frame["answered_opportunities"][0]),
    }


def _manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / MANIFEST
    if not path.exists():
        return {"inputs": [], "files": [], "config": {}}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = [
        {"name": name, "rows": entry.get("rows"), "sha256": entry["sha256"][:16]}
        for name, entry in sorted(manifest.get("files", {}).items())
        if name != REPORT_FILE
    ]
    inputs = [
        {"path": i["path"], "bytes": f"{i['bytes']:,}", "sha256": i["sha256"][:16]}
        for i in manifest.get("inputs", [])
    ]
    config = {
        k: json.dumps(v) if not isinstance(v, str) else v for k, v in manifest.get("config", {}).items()
    }
    return {"inputs": inputs, "files": files, "config": config, "written_at": manifest.get("written_at", "")}


def render_report(conn: duckdb.DuckDBPyConnection, export_dir: Path) -> str:
    """The report's HTML, from the marts of `conn` and the manifest of `export_dir`."""
    import jinja2
    from plotly.offline import get_plotlyjs

    from attribution.report_template import TEMPLATE

    currency_rows = conn.sql("select distinct reporting_currency from stg_opportunities").fetchall()
    currency = currency_rows[0][0] if currency_rows else "USD"
    as_of_rows = conn.sql("select max(as_of) from load_audit").fetchall()
    as_of = f"{as_of_rows[0][0]:%Y-%m-%d %H:%M} UTC" if as_of_rows and as_of_rows[0][0] else "unknown"
    context = {
        "title": "Marketing attribution: pipeline and revenue by channel",
        "headline": _headline(conn, currency, as_of),
        "comparisons": [
            {**_comparison(conn, kind, currency), "chart": _comparison_chart(conn, kind)}
            for kind in JOURNEY_KINDS
        ],
        "divergence": _divergence(conn),
        "campaigns": _campaigns(conn, currency),
        "sourced": _sourced(conn),
        "trends": [_trend(conn, kind) for kind in JOURNEY_KINDS],
        "segments": _segments(conn),
        "spend": _spend(conn, currency),
        "time_to_convert": _time_to_convert(conn),
        "markov": _markov(conn),
        "restatements": _restatements(conn),
        "quality": _quality(conn),
        "glossary": sorted(GLOSSARY.items()),
        "manifest": _manifest(export_dir),
        "trend_model": TREND_MODEL,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "plotly_js": get_plotlyjs(),
    }
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(TEMPLATE).render(**context)


def write_report(conn: duckdb.DuckDBPyConnection, export_dir: Path) -> ReportResult:
    """Render the report into `export_dir/attribution_report.html` (written to a temporary
    name, then renamed) and list it in the manifest with its checksum."""
    started = time.perf_counter()
    export_dir.mkdir(parents=True, exist_ok=True)
    html = render_report(conn, export_dir)
    path = export_dir / REPORT_FILE
    write_atomically(path, html)
    checksum = file_sha256(path)
    manifest_path = export_dir / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("files", {})[REPORT_FILE] = {"table": None, "rows": None, "sha256": checksum}
        write_atomically(manifest_path, json.dumps(manifest, indent=2, sort_keys=True))
    return ReportResult(path, path.stat().st_size, checksum, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """CLI: write the HTML report from a DuckDB file next to its exports."""
    parser = argparse.ArgumentParser(description="Write the joint attribution report (self-contained HTML).")
    parser.add_argument("--database", help="default: the run file's, else $ATTRIBUTION_DUCKDB")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a run that is writing")
    parser.add_argument("--export-dir", help="default: the run file's, else $ATTRIBUTION_EXPORT_DIR")
    args = parser.parse_args(argv)
    with run_database(args.database, args.wait, args.export_dir) as (conn, export_dir):
        result = write_report(conn, export_dir)
    print(f"wrote {result.path} ({result.bytes / 1e6:.1f} MB in {result.seconds:.1f} s)")


if __name__ == "__main__":
    main()
