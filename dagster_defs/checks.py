"""Asset checks: the invariants of DESIGN §5, blocking where a wrong number would spread."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from attribution.checks import (
    credit_conservation_violations,
    duplicate_key_rows,
    markov_gap_violations,
    markov_violations,
    markov_warnings,
    row_accounting_violations,
    total_reconciliation_violations,
    touches_after_event,
    unreconciled_rows,
)
from dagster_defs.assets.ingest import stg_fx_rates, stg_opportunities, stg_touchpoints
from dagster_defs.assets.journeys import int_journey_touches
from dagster_defs.metadata import markdown_table


def _result(violations: pl.DataFrame, what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=violations.is_empty(),
        description=f"{what}: {'holds' if violations.is_empty() else f'{len(violations)} violation(s)'}",
        metadata={
            "violations": dg.MetadataValue.int(len(violations)),
            "examples": dg.MetadataValue.md(markdown_table(violations.head(20)) if len(violations) else "none"),
        },
    )


def _row_accounting_check(asset: dg.AssetsDefinition, source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="row_accounting",
        blocking=True,
        description=f"Every {source} input row is staged, quarantined with a reason, or counted as "
        "after as-of: raw = staged + quarantined + after as-of, and the tables hold those rows.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            return _result(
                row_accounting_violations(conn, source), "raw = staged + quarantined + after as-of"
            )

    return _check


def _unique_key_check(asset: dg.AssetsDefinition, table: str, key: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=f"unique_{key}",
        blocking=True,
        description=f"{key} is unique and not null in {table}.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            return _result(duplicate_key_rows(conn, table, key), f"{key} unique and not null")

    return _check


@dg.asset_check(
    asset=int_journey_touches,
    blocking=True,
    description="No journey touch falls after its conversion event or before its lookback window.",
)
def no_touch_after_conversion(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        return _result(touches_after_event(conn), "touches inside their window")


@dg.asset_check(
    asset="mart_attribution_credits",
    blocking=True,
    description="For every model and converted journey, credits sum to 1 and attributed amounts "
    "sum to the opportunity amount (within a cent).",
)
def credit_conservation(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        return _result(credit_conservation_violations(conn), "credits conserve value")


@dg.asset_check(
    asset="mart_attribution_credits",
    blocking=True,
    description="Per model and journey kind, attributed totals equal total pipeline / won revenue "
    "to the cent, and influenced <= total.",
)
def totals_reconcile_across_models(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        return _result(total_reconciliation_violations(conn), "totals reconcile")


@dg.asset_check(
    asset="markov_removal_effects",
    blocking=True,
    description="Markov sanity per journey kind: 0 < P(conversion) <= 1 and the channel shares "
    "sum to 1. P = 1 (no non-converting path, e.g. no lost deal) passes with a warning.",
)
def markov_sanity(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        result = _result(markov_violations(conn), "0 < P(conversion) <= 1 and shares sum to 1")
        warnings = markov_warnings(conn)
    return dg.AssetCheckResult(
        passed=result.passed,
        description=result.description,
        metadata={
            **result.metadata,
            "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none"),
        },
    )


@dg.asset_check(
    asset="markov_removal_effects",
    blocking=False,
    description="Per-journey Markov credits reach the canonical channel conversions within 1% "
    "of the converting journeys (a larger gap means some channel's canonical total is "
    "unreachable: its single-channel journeys alone exceed it).",
)
def markov_reconciliation_gap(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        return _result(markov_gap_violations(conn, 0.01), "Markov gap within 1%")


@dg.asset_check(
    asset="reconciliation",
    blocking=True,
    description="Per model and journey kind, attributed totals equal total pipeline / won revenue "
    "to the cent and influenced <= total; a failure stops the exports.",
)
def reconciled(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        return _result(unreconciled_rows(conn), "every model reconciles to the cent")


ASSET_CHECKS: Sequence[dg.AssetChecksDefinition] = (
    _row_accounting_check(stg_touchpoints, "touchpoints"),
    _row_accounting_check(stg_opportunities, "opportunities"),
    _row_accounting_check(stg_fx_rates, "fx_rates"),
    _unique_key_check(stg_touchpoints, "stg_touchpoints", "touchpoint_id"),
    _unique_key_check(stg_opportunities, "stg_opportunities", "opportunity_id"),
    no_touch_after_conversion,
    credit_conservation,
    totals_reconcile_across_models,
    markov_sanity,
    markov_reconciliation_gap,
    reconciled,
)
