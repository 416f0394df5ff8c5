"""What the assets' metadata shows, as plain values: one function per figure or table, read
from the DuckDB file (the Dagster assets only wrap them as metadata)."""

from __future__ import annotations

import duckdb
import polars as pl

from attribution.sql import query_frame

__all__ = [
    "accounts_without_lead_milestones",
    "deals_without_history",
    "identity_coverage",
    "lead_creation_sources",
    "lead_funnel_chart",
    "markov_path_counts",
    "null_path_roles",
    "null_paths_by_kind",
    "opportunity_counts",
    "opportunity_types",
    "order_scores",
    "p_conversion_by_kind",
    "quarantine_by_reason",
    "quarantine_by_source",
    "recommended_orders",
    "removal_effects",
    "self_reported_answers",
    "shapley_values",
    "stage_funnel_chart",
    "stage_labels",
    "touch_rules",
    "unclassified_values",
    "widest_intervals",
]


def quarantine_by_reason(conn: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    """(reason, row_count, example) of one source's quarantined rows."""
    return query_frame(
        conn,
        "select reason, count(*) as row_count, any_value(record) as example from quarantine "
        "where source = ? group by reason order by reason",
        [source],
    )


def quarantine_by_source(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(source, reason, row_count) of every quarantined row."""
    return query_frame(
        conn,
        "select source, reason, count(*) as row_count from quarantine group by all order by source, reason",
    )


def stage_labels(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(stage_label, stage, opportunities): the CRM's labels and the stage each maps to."""
    return query_frame(
        conn,
        "select stage_label, stage, count(*) as opportunities from stg_opportunities "
        "group by all order by opportunities desc, stage_label",
    )


def opportunity_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Staged opportunities closed after as-of, with an expected close date, with date-only
    dates and converted at a stale fx rate."""
    row = conn.sql(
        "select count(*) filter (where is_closed_after_as_of), "
        "count(*) filter (where expected_close_at is not null), "
        "count(*) filter (where is_created_date_only or is_closed_date_only), "
        "count(*) filter (where is_fx_stale) from stg_opportunities"
    ).fetchall()[0]
    names = (
        "closed_after_as_of_open_at_it",
        "with_expected_close_date",
        "with_date_only_dates",
        "converted_with_stale_fx_rate",
    )
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def opportunity_types(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(opportunity_type, opportunities) staged, '(not set)' for none."""
    return query_frame(
        conn,
        "select coalesce(opportunity_type, '(not set)') as opportunity_type, count(*) as opportunities "
        "from stg_opportunities group by all order by opportunities desc, opportunity_type",
    )


def identity_coverage(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(source_object, method, touches, percent): how CRM touch rows found their account."""
    return query_frame(
        conn,
        "select source_object, coalesce(method, 'unmatched: ' || unmatched_reason) as method, touches, "
        "round(100 * share_of_touches, 1) as percent from crm_identity_coverage",
    )


def unclassified_values(conn: duckdb.DuckDBPyConnection, limit: int = 20) -> pl.DataFrame:
    """The first `limit` combinations of rule fields no channel rule matched."""
    return query_frame(conn, "select * from crm_unclassified_values limit ?", [limit])


def self_reported_answers(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(answer_source, channel, opportunities) of the "how did you hear about us" answers."""
    return query_frame(
        conn,
        "select answer_source, channel, count(*) as opportunities from int_self_reported "
        "group by all order by opportunities desc, channel",
    )


def touch_rules(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The run's touch rules (one row)."""
    return query_frame(conn, "select * from int_touch_rules")


def lead_creation_sources(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(journey_kind, lead_created_by, journeys): what placed each journey's lead-creation touch."""
    return query_frame(
        conn,
        """
        select j.journey_kind, coalesce(m.held_by, '(no lead-creation touch)') as lead_created_by,
               count(*) as journeys
        from int_journeys as j
        left join int_journey_milestones as m
            on m.journey_kind = j.journey_kind and m.opportunity_id = j.opportunity_id
            and m.milestone = 'lead_created'
        where j.is_converted and j.touch_count > 0
        group by all order by all
        """,
    )


def null_paths_by_kind(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Non-converting paths per journey kind."""
    rows = conn.sql(
        "select journey_kind, count(*) from int_markov_paths where not is_converted group by 1 order by 1"
    ).fetchall()
    return {str(kind): int(count) for kind, count in rows}


def null_path_roles(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(role, touch_count, share_of_touches) of the staged touches for the pipeline chain."""
    return query_frame(
        conn,
        "select role, touch_count, round(share_of_touches, 4) as share_of_touches "
        "from int_null_path_exclusions order by role",
    )


def markov_path_counts(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(journey_kind, is_converted, paths, mean_touches) of the paths the fits read."""
    return query_frame(
        conn,
        "select journey_kind, is_converted, count(*) as paths, "
        "round(avg(touch_count), 2) as mean_touches from int_markov_paths group by all order by all",
    )


def removal_effects(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The Markov removal effects with canonical and fitted conversions and value."""
    return query_frame(
        conn,
        "select journey_kind, channel, removal_effect, share, canonical_conversions, "
        "fitted_conversions, canonical_value, fitted_value from mart_markov_removal_effects "
        "order by journey_kind, share desc",
    )


def p_conversion_by_kind(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The chain's P(conversion) per journey kind."""
    rows = conn.sql(
        "select journey_kind, any_value(p_conversion) from mart_markov_removal_effects group by 1 order by 1"
    ).fetchall()
    return {str(kind): float(p) for kind, p in rows}


def shapley_values(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(journey_kind, channel, shapley_conversions, share, fitted_value) by share."""
    return query_frame(
        conn,
        "select journey_kind, channel, shapley_conversions, share, fitted_value "
        "from mart_shapley_channel_values order by journey_kind, share desc",
    )


def widest_intervals(conn: duckdb.DuckDBPyConnection, limit: int = 10) -> pl.DataFrame:
    """The `limit` channel share intervals widest from low to high."""
    return query_frame(
        conn,
        "select journey_kind, model, channel, round(share_low, 4) as share_low, "
        "round(share_high, 4) as share_high, round(share_high - share_low, 4) as width "
        "from int_attribution_intervals where level = 'channel' order by width desc limit ?",
        [limit],
    )


def order_scores(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Held-out log-likelihood and AUC per journey kind and Markov order."""
    return query_frame(
        conn,
        "select journey_kind, markov_order, round(holdout_log_likelihood, 4) as log_likelihood, "
        "round(holdout_auc, 4) as auc, is_recommended, is_configured from mart_markov_order_selection "
        "order by journey_kind, markov_order",
    )


def recommended_orders(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The Markov order the held-out paths recommend, per journey kind."""
    rows = conn.sql(
        "select journey_kind, markov_order from mart_markov_order_selection where is_recommended order by 1"
    ).fetchall()
    return {str(kind): int(order) for kind, order in rows}


def unreconciled_rows(conn: duckdb.DuckDBPyConnection, table: str = "mart_reconciliation") -> int:
    """Rows of a reconciliation table (mart_reconciliation or mart_reconciliation_cuts) that do
    not reconcile."""
    if table not in ("mart_reconciliation", "mart_reconciliation_cuts"):
        raise ValueError(f"not a reconciliation table: {table!r}")
    return int(
        conn.sql(f"select count(*) from {table} where not coalesce(is_reconciled, false)").fetchall()[0][0]
    )


def reconciled_cells(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(table_name, cells, reconciled) of mart_reconciliation_cuts."""
    return query_frame(
        conn,
        "select table_name, count(*) as cells, count(*) filter (where is_reconciled) "
        "as reconciled from mart_reconciliation_cuts group by all order by all",
    )


def segment_counts(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(dimension, segment_value, opportunities)."""
    return query_frame(
        conn,
        "select dimension, segment_value, count(*) as opportunities "
        "from int_opportunity_segments group by all order by all",
    )


def top_campaigns(conn: duckdb.DuckDBPyConnection, model: str = "linear", limit: int = 10) -> pl.DataFrame:
    """The `limit` campaigns with the most attributed pipeline under `model`."""
    return query_frame(
        conn,
        "select channel, campaign, model, attributed_amount from mart_campaign_comparison "
        "where journey_kind = 'pipeline' and model = ? order by attributed_amount desc limit ?",
        [model, limit],
    )


def spend_return(conn: duckdb.DuckDBPyConnection, model: str = "linear") -> pl.DataFrame:
    """Spend, attributed pipeline and return per dollar by channel over all periods."""
    return query_frame(
        conn,
        "select channel, round(spend_amount, 2) as spend, round(attributed_pipeline, 2) "
        "as pipeline, round(pipeline_per_spend_dollar, 2) as pipeline_per_dollar, "
        "round(revenue_per_spend_dollar, 2) as revenue_per_dollar from mart_spend_return "
        "where period_grain = 'all' and model = ? order by spend desc, channel",
        [model],
    )


def self_reported_agreement(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(model, answered, agreement_percent); empty when nobody answered."""
    return query_frame(
        conn,
        "select model, any_value(answered_opportunities) as answered, "
        "round(100 * any_value(agreement_rate), 1) as agreement_percent "
        "from mart_self_reported_comparison group by model order by agreement_percent desc, model",
    )


def attributed_totals(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], float]:
    """(journey_kind, model) -> attributed total of mart_channel_comparison."""
    rows = conn.sql(
        "select journey_kind, model, sum(attributed_amount) from mart_channel_comparison group by all order by all"
    ).fetchall()
    return {(str(kind), str(model)): float(amount) for kind, model, amount in rows}


def latest_runs(conn: duckdb.DuckDBPyConnection, limit: int = 10) -> pl.DataFrame:
    """(run_id, as_of, taken_at) of the latest snapshots."""
    return query_frame(
        conn, "select run_id, as_of, taken_at from snapshot_runs order by taken_at desc limit ?", [limit]
    )


def restated_periods(conn: duckdb.DuckDBPyConnection, model: str = "linear") -> pl.DataFrame:
    """Per (journey_kind, month) that moved since first reported under `model`: how much, why."""
    return query_frame(
        conn,
        "select journey_kind, period_month, round(sum(abs(difference)), 2) as moved, "
        "max(new_opportunities) as new, max(removed_opportunities) as removed, "
        "max(stage_changes) as stages, max(amount_changes) as amounts, max(fx_changes) as fx, "
        "max(journey_changes) as journeys from mart_restatements where model = ? "
        "group by all having sum(abs(difference)) >= 0.005 order by journey_kind, period_month",
        [model],
    )


def _bar(share: float | None, width: int = 20) -> str:
    """A text bar of `share` (0..1) of `width` blocks: a funnel chart in a markdown table."""
    return "" if share is None else "█" * round(share * width) + f" {share:.0%}"


def stage_funnel_chart(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(stage, reached, funnel, next_step) of every deal and month: mart_stage_funnel's
    cumulative conversion drawn as a text bar per stage."""
    frame = query_frame(
        conn,
        "select stage_label as stage, reached_opportunities as reached, cumulative_conversion, "
        "next_step_conversion from mart_stage_funnel where cohort_grain = 'all' "
        "and channel_basis = 'sourced' and channel = '(all channels)' order by stage_position",
    )
    return _with_bars(frame)


def lead_funnel_chart(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(step, reached, funnel, next_step, median_days) of every lead and month: mart_lead_funnel
    drawn as a text bar per step."""
    frame = query_frame(
        conn,
        "select step, reached_leads as reached, cumulative_conversion, next_step_conversion, "
        "round(median_days_to_reach, 1) as median_days from mart_lead_funnel "
        "where cohort_month is null and first_touch_channel = '(all channels)' order by step_position",
    )
    return _with_bars(frame)


def _with_bars(frame: pl.DataFrame) -> pl.DataFrame:
    bars = [_bar(share) for share in frame["cumulative_conversion"].to_list()]
    steps = ["" if share is None else f"{share:.0%}" for share in frame["next_step_conversion"].to_list()]
    return frame.with_columns(funnel=pl.Series(bars, dtype=pl.String), next_step=pl.Series(steps)).drop(
        "cumulative_conversion", "next_step_conversion"
    )


def accounts_without_lead_milestones(conn: duckdb.DuckDBPyConnection) -> int:
    """Accounts with a staged opportunity but no milestone of the lead funnel (the steps of
    mart_lead_funnel): not leads."""
    rows = conn.execute(
        "select count(distinct account_id) from stg_opportunities where account_id not in "
        "(select account_id from stg_milestones where milestone in (select step from mart_lead_funnel))"
    ).fetchall()
    return int(rows[0][0])


def deals_without_history(conn: duckdb.DuckDBPyConnection) -> int:
    """Staged deals without a history row: in the funnel by their creation (and close, won)."""
    rows = conn.execute(
        "select count(distinct opportunity_id) from int_stage_entries where not is_from_history"
    ).fetchall()
    return int(rows[0][0])
