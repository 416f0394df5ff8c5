"""Asset checks: the invariants of DESIGN §5, one table of them; each runs a library query
that returns the offending rows (empty means the invariant holds). Blocking where a wrong
number would spread downstream."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from attribution.checks import (
    credit_conservation_violations,
    duplicate_key_rows,
    experiment_warnings,
    markov_gap_violations,
    markov_violations,
    markov_warnings,
    row_accounting_violations,
    total_reconciliation_violations,
    touches_after_event,
    unreconciled_cuts,
    unreconciled_rows,
)
from dagster_defs.metadata import markdown_table

MARKOV_GAP_THRESHOLD = 0.01


@dataclass(frozen=True)
class Invariant:
    """One asset check: where it runs, what it states, and the query of its violations."""

    asset: str
    name: str
    description: str
    violations: Callable[[duckdb.DuckDBPyConnection], pl.DataFrame]
    blocking: bool = True
    warnings: Callable[[duckdb.DuckDBPyConnection], list[str]] | None = None
    # tables its query reads beyond the asset (the check's step waits for their assets)
    reads: tuple[str, ...] = ()


INVARIANTS: tuple[Invariant, ...] = (
    *(
        Invariant(
            f"stg_{source}",
            "row_accounting",
            f"Every {source} input row is staged, quarantined with a reason, or counted as after "
            "as-of or excluded by the type filter: raw = staged + quarantined + after as-of + "
            "excluded, and the tables hold those rows.",
            partial(row_accounting_violations, source=source),
        )
        for source in (
            "touchpoints",
            "opportunities",
            "fx_rates",
            "milestones",
            "spend",
            "opportunity_history",
            "experiments",
            "experiment_assignments",
        )
    ),
    *(
        Invariant(
            table,
            f"unique_{key}",
            f"{key} is unique and not null in {table}.",
            partial(duplicate_key_rows, table=table, key=key),
        )
        for table, key in (("stg_touchpoints", "touchpoint_id"), ("stg_opportunities", "opportunity_id"))
    ),
    Invariant(
        "int_journey_touches",
        "no_touch_after_conversion",
        "No journey touch falls after its conversion event or before its lookback window.",
        touches_after_event,
    ),
    Invariant(
        "mart_attribution_credits",
        "credit_conservation",
        "For every model and converted journey, credits sum to 1 and attributed amounts sum to "
        "the opportunity amount (within a cent).",
        credit_conservation_violations,
    ),
    Invariant(
        "mart_attribution_credits",
        "totals_reconcile_across_models",
        "Per model and journey kind, attributed totals equal total pipeline / won revenue to the "
        "cent, and influenced <= total.",
        total_reconciliation_violations,
        reads=("int_credits_by_channel",),
    ),
    Invariant(
        "mart_markov_removal_effects",
        "markov_sanity",
        "Markov sanity per journey kind: 0 < P(conversion) <= 1 and the channel shares sum to 1. "
        "P = 1 (no non-converting path, e.g. no lost deal) passes with a warning.",
        markov_violations,
        warnings=markov_warnings,
    ),
    Invariant(
        "mart_markov_removal_effects",
        "markov_reconciliation_gap",
        "Per-journey Markov credits reach the canonical channel conversions within 1% of the "
        "converting journeys (a larger gap means some channel's canonical total is unreachable: "
        "its single-channel journeys alone exceed it).",
        lambda conn: markov_gap_violations(conn, MARKOV_GAP_THRESHOLD),
        blocking=False,
    ),
    Invariant(
        "mart_experiment_results",
        "experiment_decisions_hold",
        "No experiment's decision is put in doubt by its checks: the arms match the intended "
        "split (sample ratio), no control unit saw the tested channel or campaign, most deals "
        "have closed, the arms can detect the threshold, the window has ended. Non-blocking: the "
        "decision stands with its warnings.",
        experiment_warnings,
        blocking=False,
    ),
    Invariant(
        "mart_reconciliation",
        "reconciled",
        "Per model and journey kind, attributed totals equal total pipeline / won revenue to the "
        "cent and influenced <= total; a failure stops the exports.",
        unreconciled_rows,
    ),
    Invariant(
        "mart_reconciliation_cuts",
        "cuts_reconcile",
        "Every additive table (by month, fiscal quarter, segment, campaign, spend and return, "
        "sourced) sums to the pipeline / won revenue of each of its cells, to the cent; a "
        "failure stops the exports.",
        unreconciled_cuts,
    ),
)


def _result(invariant: Invariant, conn: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """One invariant's result: passed when its query returns no row; the count, the first
    offending rows and any warnings as metadata."""
    violations = invariant.violations(conn)
    warnings = invariant.warnings(conn) if invariant.warnings else []
    holds = violations.is_empty()
    metadata = {
        "violations": dg.MetadataValue.int(len(violations)),
        "examples": dg.MetadataValue.md(markdown_table(violations.head(20)) if not holds else "none"),
    }
    if invariant.warnings:
        metadata["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none")
    return dg.AssetCheckResult(
        asset_key=invariant.asset,
        check_name=invariant.name,
        passed=holds,
        description=f"{'holds' if holds else f'{len(violations)} violation(s)'}",
        metadata=metadata,
    )


def check_group(invariant: Invariant) -> str:
    """The step an invariant's check runs in: the staged inputs' checks share one (the ingest
    step writes them all), a table's checks share one; a step costs Dagster ~0.1 s of events."""
    return "ingest" if invariant.asset.startswith("stg_") else invariant.asset


def asset_checks(name: str, invariants: Sequence[Invariant]) -> dg.AssetChecksDefinition:
    """The Dagster checks of some invariants, one step (subsettable: a selection runs only
    its checks), on one connection."""
    specs = [
        dg.AssetCheckSpec(
            i.name,
            asset=i.asset,
            blocking=i.blocking,
            description=i.description,
            additional_deps=list(i.reads),
        )
        for i in invariants
    ]

    @dg.multi_asset_check(specs=specs, name=f"{name}_checks", can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        with duckdb.get_connection() as conn:
            for invariant in invariants:
                if dg.AssetCheckKey(dg.AssetKey(invariant.asset), invariant.name) in selected:
                    yield _result(invariant, conn)

    return _checks


ASSET_CHECKS: Sequence[dg.AssetChecksDefinition] = tuple(
    asset_checks(group, [i for i in INVARIANTS if check_group(i) == group])
    for group in dict.fromkeys(check_group(i) for i in INVARIANTS)
)


def blocking_check_reads() -> dict[str, set[str]]:
    """Asset -> what its blocking checks read beyond it: the assets downstream of it wait for
    those checks, so for what they read (dagster_defs.assets.reporting.mart_steps)."""
    reads: dict[str, set[str]] = {}
    for invariant in INVARIANTS:
        if invariant.blocking:
            reads.setdefault(invariant.asset, set()).update(invariant.reads)
    return reads
