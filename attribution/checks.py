"""Invariants of the tables, as queries returning the offending rows (empty means it holds)."""

from __future__ import annotations

import duckdb
import polars as pl

from attribution.sql import read_sql

__all__ = [
    "CENT",
    "credit_conservation_violations",
    "markov_gap_violations",
    "markov_violations",
    "markov_warnings",
    "duplicate_key_rows",
    "row_accounting_violations",
    "total_reconciliation_violations",
    "touches_after_event",
    "unreconciled_rows",
]

CENT = 0.005


def row_accounting_violations(conn: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    """The last load of `source`, unless raw = staged + quarantined + after as-of and the
    staged and quarantined counts are what the tables hold."""
    staged_table = f"stg_{source}"
    return conn.sql(
        f"""
        select a.source, a.raw_rows, a.staged_rows, a.quarantined_rows, a.after_as_of_rows,
               (select count(*) from "{staged_table}") as staged_in_table,
               (select count(*) from quarantine q where q.source = a.source) as quarantined_in_table
        from load_audit a
        where a.source = ?
          and not (a.raw_rows = a.staged_rows + a.quarantined_rows + a.after_as_of_rows
                   and a.staged_rows = staged_in_table
                   and a.quarantined_rows = quarantined_in_table)
        union all
        select ?, null, null, null, null, null, null
        where not exists (select 1 from load_audit where source = ?)
        """,
        params=[source, source, source],
    ).pl()


def duplicate_key_rows(conn: duckdb.DuckDBPyConnection, table: str, key: str) -> pl.DataFrame:
    """Keys of `table` that are null or appear more than once."""
    return conn.sql(
        f'select "{key}" as key, count(*) as n from "{table}" group by 1 '
        f'having count(*) > 1 or "{key}" is null order by 1 limit 100'
    ).pl()


def credit_conservation_violations(
    conn: duckdb.DuckDBPyConnection, tolerance: float = 1e-9
) -> pl.DataFrame:
    """Converted journeys (per model) whose credits do not sum to 1, whose attributed amounts do
    not sum to the journey amount within a cent, or that have no credit row at all."""
    return conn.sql(
        """
        with expected as (
            select j.journey_kind, j.opportunity_id, j.journey_amount, m.model
            from int_journeys j
            cross join (select distinct model from mart_attribution_credits) m
            where j.is_converted
        ),
        actual as (
            select journey_kind, model, opportunity_id,
                   sum(credit) as credit_sum, sum(attributed_amount) as attributed_sum,
                   min(credit) as min_credit
            from mart_attribution_credits
            group by all
        )
        select e.journey_kind, e.model, e.opportunity_id, e.journey_amount,
               a.credit_sum, a.attributed_sum, a.min_credit
        from expected e
        full outer join actual a using (journey_kind, model, opportunity_id)
        where a.credit_sum is null or e.journey_amount is null
           or abs(a.credit_sum - 1) > ? or a.min_credit < -?
           or abs(a.attributed_sum - e.journey_amount) > ?
        order by 1, 2, 3
        limit 100
        """,
        params=[tolerance, tolerance, CENT],
    ).pl()


def total_reconciliation_violations(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(journey_kind, model) whose attributed total differs from the total pipeline (won revenue)
    by a cent or more, or whose influenced amount exceeds the total: the rows of the
    `reconciliation` mart's query (sql/marts/reconciliation.sql) that do not reconcile, computed
    straight from the credits so it can run before that mart exists."""
    return conn.sql(
        f"select * from (\n{read_sql('marts/reconciliation.sql')}\n) "
        "where not coalesce(is_reconciled, false) order by journey_kind, model"
    ).pl()


def touches_after_event(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Journey touches outside their window (after the conversion event or before the lookback)."""
    return conn.sql(
        """
        select t.journey_kind, t.opportunity_id, t.touchpoint_id, t.occurred_at, j.window_start, j.event_at
        from int_journey_touches t
        inner join int_journeys j using (journey_kind, opportunity_id)
        where t.occurred_at > j.event_at or t.occurred_at < j.window_start
        order by 1, 2, 3
        limit 100
        """
    ).pl()


def markov_violations(conn: duckdb.DuckDBPyConnection, tolerance: float = 1e-9) -> pl.DataFrame:
    """Journey kinds whose P(conversion) is not in (0, 1] or whose shares do not sum to 1.

    P = 1 (no non-converting path: a world without a lost deal) is valid; see
    `markov_warnings`."""
    return conn.sql(
        """
        select journey_kind, any_value(p_conversion) as p_conversion, sum(share) as share_sum
        from markov_removal_effects
        group by journey_kind
        having not (any_value(p_conversion) > 0 and any_value(p_conversion) <= 1 + ?)
            or abs(sum(share) - 1) > ?
        order by 1
        """,
        params=[tolerance, tolerance],
    ).pl()


def markov_warnings(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """What is degenerate about the fitted chains, in words (empty when nothing is)."""
    warnings = []
    fitted = conn.sql(
        "select journey_kind, any_value(p_conversion), count(*) from markov_removal_effects "
        "group by 1 order by 1"
    ).fetchall()
    for kind, p_conversion, channels in fitted:
        if p_conversion >= 1 - 1e-12:
            what = "lost deal" if kind == "revenue" else "touch outside journeys and sales cycles"
            warnings.append(
                f"{kind}: P(conversion) = 1: no non-converting path (no {what}); removal "
                "effects only measure which channels the converting paths need"
            )
        if channels == 1:
            warnings.append(f"{kind}: one channel only: Markov gives it the whole value")
    for kind in ("pipeline", "revenue"):
        if kind not in {row[0] for row in fitted}:
            warnings.append(
                f"{kind}: no converting journey with a touch: no Markov chain (every converted "
                "opportunity is credited to (none))"
            )
    return warnings


def markov_gap_violations(conn: duckdb.DuckDBPyConnection, threshold: float) -> pl.DataFrame:
    """Channels whose fitted Markov conversions differ from the canonical ones by more than
    `threshold` of the journey kind's converting journeys."""
    return conn.sql(
        """
        select journey_kind, channel, canonical_conversions, fitted_conversions, conversion_gap,
               canonical_value, fitted_value,
               conversion_gap / nullif(sum(canonical_conversions) over (partition by journey_kind), 0)
                   as gap_share
        from markov_removal_effects
        qualify abs(gap_share) > ?
        order by 1, 2
        """,
        params=[threshold],
    ).pl()


def unreconciled_rows(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows of `reconciliation` that do not reconcile (empty when finance can sign off)."""
    return conn.sql(
        "select * from reconciliation where not coalesce(is_reconciled, false) order by all"
    ).pl()
