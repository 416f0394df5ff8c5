"""Invariants of the tables, as queries returning the offending rows (empty means it holds)."""

from __future__ import annotations

import duckdb
import polars as pl

from attribution.contracts import CENT, CREDIT_TOLERANCE
from attribution.sql import query, query_frame, read_sql

__all__ = [
    "CENT",
    "contact_role_coverage",
    "credit_conservation_violations",
    "duplicate_key_rows",
    "markov_gap_violations",
    "markov_violations",
    "markov_warnings",
    "publication_blockers",
    "row_accounting_violations",
    "total_reconciliation_violations",
    "touches_after_event",
    "unreconciled_cuts",
    "unreconciled_rows",
]

# P(conversion) this close to 1 is reported as 1 (no non-converting path)
CERTAIN = 1 - 1e-12


def row_accounting_violations(conn: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    """The last load of `source`, unless raw = staged + quarantined + after as-of and the
    staged and quarantined counts are what the tables hold."""
    return query(conn, "checks/row_accounting.sql", {"source": source})


def duplicate_key_rows(conn: duckdb.DuckDBPyConnection, table: str, key: str) -> pl.DataFrame:
    """Keys of `table` that are null or appear more than once."""
    frame: pl.DataFrame = conn.sql(
        f'select "{key}" as key, count(*) as n from "{table}" group by 1 '
        f'having count(*) > 1 or "{key}" is null order by 1 limit 100'
    ).pl()
    return frame


def credit_conservation_violations(
    conn: duckdb.DuckDBPyConnection, tolerance: float = CREDIT_TOLERANCE
) -> pl.DataFrame:
    """Converted journeys (per model) whose credits do not sum to 1, whose attributed amounts do
    not sum to the journey amount within a cent, or that have no credit row at all."""
    return query(conn, "checks/credit_conservation.sql", {"tolerance": tolerance, "cent": CENT})


def total_reconciliation_violations(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(journey_kind, model) whose attributed total differs from the total pipeline (won revenue)
    by a cent or more, or whose influenced amount exceeds the total: the reconciliation model's
    rows that do not reconcile, computed straight from the credits."""
    model = read_sql("marts/mart_reconciliation.sql")
    sql = f"with reconciliation as (\n{model}\n)\n{read_sql('checks/totals_reconcile.sql')}"
    frame: pl.DataFrame = conn.sql(sql).pl()
    return frame


def touches_after_event(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Journey touches outside their window (after the conversion event or before the lookback)."""
    return query(conn, "checks/touches_outside_window.sql")


def markov_violations(conn: duckdb.DuckDBPyConnection, tolerance: float = CREDIT_TOLERANCE) -> pl.DataFrame:
    """Journey kinds whose P(conversion) is not in (0, 1] or whose shares do not sum to 1.

    P = 1 (no non-converting path: a world without a lost deal) is valid; see
    `markov_warnings`."""
    return query(conn, "checks/markov_sanity.sql", {"tolerance": tolerance})


def markov_warnings(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """What is degenerate about the fitted chains, in words (empty when nothing is)."""
    warnings = []
    fitted = conn.sql(
        "select journey_kind, any_value(p_conversion), count(*) from mart_markov_removal_effects "
        "group by 1 order by 1"
    ).fetchall()
    for kind, p_conversion, channels in fitted:
        if p_conversion >= CERTAIN:
            what = {
                "revenue": "lost deal",
                "qualified": "deal lost without qualifying",
                "pipeline": "touch outside journeys and sales cycles",
            }.get(kind, f"lead without {kind}")
            warnings.append(
                f"{kind}: P(conversion) = 1: no non-converting path (no {what}); removal "
                "effects only measure which channels the converting paths need"
            )
        if channels == 1:
            warnings.append(f"{kind}: one channel only: Markov gives it the whole value")
    # the other kinds where they have journeys (qualified has none without a stage history)
    built = sorted(
        row[0] for row in conn.execute("select distinct journey_kind from int_journeys").fetchall()
    )
    for kind in ("pipeline", "revenue", *(k for k in built if k not in ("pipeline", "revenue"))):
        if kind not in {row[0] for row in fitted}:
            warnings.append(
                f"{kind}: no converting journey with a touch: no Markov chain (every converted "
                "opportunity is credited to (none))"
            )
    return warnings


def markov_gap_violations(conn: duckdb.DuckDBPyConnection, threshold: float) -> pl.DataFrame:
    """Channels whose fitted Markov conversions differ from the canonical ones by more than
    `threshold` of the journey kind's converting journeys."""
    return query(conn, "checks/markov_gap.sql", {"threshold": threshold})


def unreconciled_rows(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows of `mart_reconciliation` that do not reconcile (empty when finance can sign off)."""
    return query(conn, "checks/unreconciled.sql")


def unreconciled_cuts(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Cells of `mart_reconciliation_cuts` where an additive table does not add up (empty when
    every cut reconciles)."""
    return query(conn, "checks/unreconciled_cuts.sql")


def publication_blockers(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """What stops a run from publishing, one line each (empty: it may publish): journeys whose
    credits or amounts do not add up, and totals or cuts that do not reconcile to the cent.
    `attribution-run` asks before its snapshot and exports; Dagster's blocking checks state the
    same invariants."""
    blockers = []
    for what, violations in (
        (
            "journeys whose credits do not sum to 1 or amounts to the opportunity",
            credit_conservation_violations,
        ),
        ("(journey kind, model) totals that do not reconcile", unreconciled_rows),
        ("cells of the additive tables that do not reconcile", unreconciled_cuts),
    ):
        found = violations(conn)
        if not found.is_empty():
            example = ", ".join(f"{k}={v}" for k, v in found.row(0, named=True).items())
            blockers.append(f"{len(found)} {what} (first: {example})")
    return blockers


def contact_role_coverage(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(staged opportunities with at least one contact role, staged opportunities)."""
    with_roles, total = conn.sql(
        "select count(*) filter (where opportunity_id in (select opportunity_id from stg_contact_roles)), "
        "count(*) from stg_opportunities"
    ).fetchall()[0]
    return int(with_roles), int(total)


def experiment_warnings(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(experiment_id, metric, decision, warnings) of the primary-metric rows of
    mart_experiment_results whose decision a check puts in doubt: a sample-ratio mismatch,
    contaminated controls, mostly open deals, too few units, a window past as-of."""
    return query_frame(
        conn,
        "select experiment_id, metric, decision, warnings from mart_experiment_results "
        "where is_primary and warnings is not null order by experiment_id",
    )
