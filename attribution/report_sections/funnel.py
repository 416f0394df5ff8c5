"""The report's "How deals move" section (id `funnel`): the stage funnel of every deal, by
sourced channel how many reached the second stage and were won, velocity by channel, and the
lead funnel of the milestones (MQL to won)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from attribution.report_sections.base import TREND_MODEL, ReportInputs, Section
from attribution.report_sections.format import make_table, money, text_cell
from attribution.sql import query_frame

__all__ = ["SECTION"]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _reading(stages: pl.DataFrame) -> str:
    """One sentence: how many deals, how far they got, where most stop, how long a win takes."""
    created = int(stages["cohort_opportunities"][0])
    won = stages.row(stages.height - 1, named=True)
    steps = stages.filter(pl.col("next_step_conversion").is_not_null())
    text = (
        f"Of {created:,} deals created, {_percent(won['cumulative_conversion'])} reached {won['stage_label']}"
    )
    if steps.height:
        drop = steps.sort("next_step_conversion").row(0, named=True)
        before = stages.filter(pl.col("stage_position") < drop["stage_position"])["stage_label"][-1]
        text += (
            f"; the fewest move on from {before} to {drop['stage_label']} "
            f"({_percent(drop['next_step_conversion'])})"
        )
    if won["median_days_to_enter"] is not None:
        text += f"; a won deal took a median of {_days(won['median_days_to_enter'])} days from creation"
    return text + "."


def _stage_table(stages: pl.DataFrame) -> Any:
    rows = [
        [
            text_cell(r["stage_label"]),
            text_cell(f"{r['reached_opportunities']:,}", r["reached_opportunities"]),
            text_cell(_percent(r["cumulative_conversion"]), r["cumulative_conversion"]),
            text_cell(_percent(r["next_step_conversion"])),
            text_cell(_days(r["median_days_to_enter"])),
            text_cell(_days(r["p90_days_to_enter"])),
            text_cell(_days(r["median_days_in_stage"])),
        ]
        for r in stages.iter_rows(named=True)
    ]
    columns = ["stage", "reached", "of created", "from the stage before", "median days in", "p90 days in"]
    return make_table([*columns, "median days spent"], rows)


def _channel_table(conn: duckdb.DuckDBPyConnection, stages: pl.DataFrame) -> Any:
    """By sourced channel: deals, the share that reached the second stage and the last."""
    second = min(1, stages.height - 1)
    channels = query_frame(
        conn,
        "select channel as sourced_channel, max(cohort_opportunities) as deals, "
        "max(cumulative_conversion) filter (where stage_position = ?) as reached_second, "
        "max(cumulative_conversion) filter (where stage_position = ?) as won "
        "from mart_stage_funnel where cohort_grain = 'all' and channel_basis = 'sourced' "
        "and channel <> '(all channels)' group by channel order by deals desc, channel",
        [int(stages["stage_position"][second]), int(stages["stage_position"][-1])],
    )
    rows = [
        [
            text_cell(r["sourced_channel"]),
            text_cell(f"{r['deals']:,}", r["deals"]),
            text_cell(_percent(r["reached_second"]), r["reached_second"]),
            text_cell(_percent(r["won"]), r["won"]),
        ]
        for r in channels.iter_rows(named=True)
    ]
    labels = stages["stage_label"].to_list()
    return make_table(["sourced by", "deals", f"reached {labels[second]}", f"reached {labels[-1]}"], rows)


def _velocity_table(conn: duckdb.DuckDBPyConnection) -> Any:
    """Win rate, deal size, cycle and velocity by channel under the report's lead model."""
    velocity = query_frame(
        conn,
        "select v.channel, v.deals, v.win_rate, v.average_deal_size, v.sales_cycle_days, "
        "v.pipeline_velocity_per_day, w.low as win_low, w.high as win_high, p.low as velocity_low, "
        "p.high as velocity_high from mart_channel_velocity as v "
        "left join mart_velocity_intervals as w on w.credited_by = v.credited_by "
        "and w.channel = v.channel and w.figure = 'win_rate' "
        "left join mart_velocity_intervals as p on p.credited_by = v.credited_by "
        "and p.channel = v.channel and p.figure = 'pipeline_velocity_per_day' "
        "where v.credited_by = ? order by v.channel = '(all channels)' desc, "
        "v.pipeline_velocity_per_day desc nulls last, v.channel",
        [TREND_MODEL],
    )

    def ranged(text: str, low: str, high: str) -> str:
        return f"{text} ({low}–{high})" if text and low and high else text

    rows = [
        [
            text_cell(r["channel"]),
            text_cell(f"{r['deals']:,.1f}", r["deals"]),
            text_cell(
                ranged(_percent(r["win_rate"]), _percent(r["win_low"]), _percent(r["win_high"])),
                r["win_rate"],
            ),
            text_cell(money(r["average_deal_size"]), r["average_deal_size"]),
            text_cell(_days(r["sales_cycle_days"]), r["sales_cycle_days"]),
            text_cell(
                ranged(
                    money(r["pipeline_velocity_per_day"]), money(r["velocity_low"]), money(r["velocity_high"])
                ),
                r["pipeline_velocity_per_day"],
            ),
        ]
        for r in velocity.iter_rows(named=True)
    ]
    columns = ["channel", "deals", "win rate", "average won deal", "sales cycle (days)", "velocity per day"]
    return make_table(columns, rows)


def _quarter_change(conn: duckdb.DuckDBPyConnection, stage_label: str) -> str:
    """One sentence on what changed: the latest fiscal-quarter cohort's conversion to the
    qualification stage and time to it next to the quarter before ('' with fewer than two)."""
    rows = conn.execute(
        "select cohort, cumulative_conversion, median_days_to_enter from mart_stage_funnel "
        "where cohort_grain = 'fiscal_quarter' and channel_basis = 'sourced' "
        "and channel = '(all channels)' and stage_label = ? order by cohort desc limit 2",
        [stage_label],
    ).fetchall()
    if len(rows) < 2:
        return ""
    (latest, share, days), (before, share_before, days_before) = rows
    text = (
        f" Deals created in {latest} reached {stage_label} at {_percent(share)} ({before}: "
        f"{_percent(share_before)})"
    )
    if days is not None and days_before is not None:
        text += f", in a median of {_days(days)} days ({_days(days_before)})"
    return text + "; the newer cohort has had less time to get there."


def _lead_reading(steps: pl.DataFrame) -> str:
    """One sentence: how many leads, the share reaching each step of the one before, the time
    to the last milestone (qualification, by default sql)."""
    leads = int(steps["cohort_leads"][0])
    later = steps.filter(pl.col("next_step_conversion").is_not_null()).iter_rows(named=True)
    names = {"opportunity": "an opportunity", "closed_won": "a won deal"}
    parts = [f"{_percent(r['next_step_conversion'])} {names.get(r['step'], r['step'])}" for r in later]
    parts[:1] = [part.replace(" ", " reached ", 1) for part in parts[:1]]
    text = f"Of {leads:,} leads, " + parts[0] if parts else f"{leads:,} leads"
    if len(parts) > 1:
        text += ", and of each step the next: " + ", ".join(parts[1:])
    milestones = steps.filter(~pl.col("step").is_in(["opportunity", "closed_won"]))
    last = milestones.row(milestones.height - 1, named=True)
    if milestones.height > 1 and last["median_days_to_reach"] is not None:
        days = _days(last["median_days_to_reach"])
        text += f"; reaching {last['step']} took a median of {days} days from the first step"
    return text + "."


def _leads(conn: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The lead funnel of every month and channel (mart_lead_funnel), None without leads."""
    steps = query_frame(
        conn,
        "select step, cohort_leads, reached_leads, cumulative_conversion, next_step_conversion, "
        "median_days_to_reach, p90_days_to_reach from mart_lead_funnel where cohort_month is null "
        "and first_touch_channel = '(all channels)' order by step_position",
    )
    if steps.is_empty():
        return None
    rows = [
        [
            text_cell(r["step"]),
            text_cell(f"{r['reached_leads']:,}", r["reached_leads"]),
            text_cell(_percent(r["cumulative_conversion"]), r["cumulative_conversion"]),
            text_cell(_percent(r["next_step_conversion"])),
            text_cell(_days(r["median_days_to_reach"])),
            text_cell(_days(r["p90_days_to_reach"])),
        ]
        for r in steps.iter_rows(named=True)
    ]
    columns = ["step", "leads reached", "of leads", "from the step before", "median days", "p90 days"]
    return {"reading": _lead_reading(steps), "table": make_table(columns, rows)}


def _funnel(conn: duckdb.DuckDBPyConnection, qualification_stage: str) -> dict[str, Any]:
    stages = query_frame(
        conn,
        "select stage_position, stage_label, cohort_opportunities, reached_opportunities, "
        "cumulative_conversion, next_step_conversion, median_days_to_enter, p90_days_to_enter, "
        "median_days_in_stage from mart_stage_funnel where cohort_grain = 'all' "
        "and channel_basis = 'sourced' and channel = '(all channels)' order by stage_position",
    )
    leads = _leads(conn)
    if stages.is_empty() or int(stages["cohort_opportunities"][0]) == 0:
        return {"empty": True, "reading": "No opportunity was created by as-of.", "leads": leads}
    return {
        "empty": False,
        "leads": leads,
        "reading": _reading(stages) + _quarter_change(conn, qualification_stage),
        "table": _stage_table(stages),
        "channels": _channel_table(conn, stages),
        "velocity_model": TREND_MODEL,
        "velocity": _velocity_table(conn),
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _funnel(inputs.conn, inputs.config.qualification_stage)


SECTION = Section("funnel", "How deals move", build)
