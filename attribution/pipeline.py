"""The pipeline's steps as plain functions over a DuckDB connection, in dependency order.

Dagster assets call these one by one; `run_pipeline` calls them all (tests, benchmarks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl

from attribution.config import JOURNEY_KINDS, AttributionConfig
from attribution.contracts import SOURCES, SourcePaths
from attribution.crm.derive import (
    DERIVED_MILESTONES,
    DERIVED_ROLES,
    DERIVED_TOUCHES,
    build_self_reported,
    clear_crm_outputs,
    crm_of,
    derive_inputs,
)
from attribution.ingest import (
    InputFileError,
    LoadResult,
    ensure_loaded,
    load_fx_rates,
    load_opportunities,
    load_source,
    load_touchpoints,
    resolve_paths,
)
from attribution.intervals import INTERVAL_SCHEMA, bootstrap_intervals, read_interval_inputs
from attribution.journeys import (
    build_journeys,
    build_null_paths,
)
from attribution.models import AttributionModel, ModelInput, attribute_wide, select_models
from attribution.models.markov import fit_markov
from attribution.models.markov_chain import ChainCounts, count_transitions
from attribution.models.markov_order import select_order
from attribution.models.shapley import SET_COUNT_SCHEMA, fit_shapley
from attribution.sql import (
    bind_config,
    define_macros,
    drop_relation,
    query,
    read_sql,
    run_sql,
    table_exists,
)

__all__ = [
    "MART_TABLES",
    "ModelLimitError",
    "SourcePaths",
    "build_marts",
    "count_rows",
    "input_files",
    "load_inputs",
    "run_intervals",
    "run_markov",
    "run_models",
    "run_order_selection",
    "run_pipeline",
    "run_shapley",
    "write_frame",
]

MART_TABLES: tuple[str, ...] = (
    "int_credits_by_channel",
    "int_attributed_by_month",
    "mart_channel_comparison",
    "mart_channel_comparison_wide",
    "mart_influenced_pipeline",
    "mart_influenced_revenue",
    "mart_period_totals",
    "int_opportunity_segments",
    "mart_attributed_by_quarter",
    "mart_campaign_comparison",
    "mart_campaign_comparison_wide",
    "mart_channel_influence",
    "mart_campaign_influence",
    "mart_sourced_influenced",
    "mart_segment_comparison",
    "int_spend_return_by_period",
    "mart_spend_return",
    "mart_campaign_spend_return",
    "mart_time_to_convert",
    "mart_self_reported_comparison",
    "mart_reconciliation",
    "mart_reconciliation_cuts",
)


class ModelLimitError(ValueError):
    """A model cannot run on these inputs within its documented limit (the message says which
    limit, why, and what to do)."""


def count_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table of this project (table names are ours, never user input)."""
    return int(conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])


def write_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace `table` with the rows of a polars frame; return the row count."""
    conn.register("_frame_to_write", frame)
    try:
        conn.sql(f'create or replace table "{table}" as select * from _frame_to_write')
    finally:
        conn.unregister("_frame_to_write")
    return count_rows(conn, table)


BATCH_ROWS = 4_000_000
# the Markov and Shapley fits read what DuckDB aggregates (paths as integer codes, one row per
# journey and channel), a few bytes per touch: their batches can be ten times larger
FIT_BATCH_ROWS = 40_000_000


def batch_count(
    conn: duckdb.DuckDBPyConnection, rows_per_batch: int = BATCH_ROWS, counted: str = "models/batch_rows.sql"
) -> int:
    """How many account batches keep each batch under `rows_per_batch` touch rows, the rows
    `counted` by that SQL file (by default every touch the fits read: journeys and null paths)."""
    rows = run_sql(conn, counted).fetchall()[0][0]
    return max(1, -(-int(rows) // rows_per_batch))


def model_input(conn: duckdb.DuckDBPyConnection, batch: int = 0, batches: int = 1) -> ModelInput:
    """Read what the credit pass needs for one batch of accounts (sql/models/batch_*.sql): the
    journey touches (with the fitted Markov and Shapley fractions joined to each) and values,
    the milestone touches (the fits themselves read what DuckDB aggregates: run_markov,
    run_shapley)."""
    params = {"batch": batch, "batches": batches}

    def read(name: str) -> pl.DataFrame:
        return query(conn, f"models/batch_{name}.sql", params)

    return ModelInput(
        journey_touches=read("journey_touches"),
        journey_values=read("journey_values"),
        milestone_touches=read("milestone_touches"),
    )


def _markov_channels(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Per journey kind, the sorted channels of its converting journeys and null paths: the
    one channel list every batch counts its Markov transitions with."""
    rows = run_sql(conn, "models/markov_channels.sql").fetchall()
    return {
        kind: tuple(sorted(channel for k, channel in rows if k == kind))
        for kind in sorted({k for k, _ in rows})
    }


def run_markov(
    conn: duckdb.DuckDBPyConnection, config: AttributionConfig, rows_per_batch: int = FIT_BATCH_ROWS
) -> int:
    """Fit the Markov chain of each journey kind: write `markov_transitions`,
    `markov_removal_effects` and `int_markov_fractions` (one row per journey kind,
    opportunity and channel); return the fractions' row count.

    Transitions are counted batch by batch of accounts (bounded memory; counts add up
    exactly) over paths DuckDB aggregates as integer channel codes (sql/models/
    batch_markov_paths.sql), then one solve per kind and one fit over every journey's channels.
    """
    define_macros(conn)  # the batch SQL files select accounts with in_batch
    batches = batch_count(conn, rows_per_batch)
    channels = _markov_channels(conn)
    for kind, kind_channels in channels.items():
        if len(kind_channels) > config.markov_max_channels:
            raise ModelLimitError(
                f"{kind} journeys have {len(kind_channels):,} distinct channels, more than "
                f"markov_max_channels ({config.markov_max_channels:,}): the Markov removal effects "
                "take one linear solve per channel (and again per confidence-interval replicate), "
                "hours at this size. Map campaigns or sources to channels (a mapping file), leave "
                "rare ones out (excluded_channels), or raise markov_max_channels"
            )
    counts: dict[str, ChainCounts] = {}
    per_channel: list[pl.DataFrame] = []
    for b in range(batches):
        for kind, kind_channels in channels.items():
            paths = query(
                conn,
                "models/batch_markov_paths.sql",
                {"journey_kind": kind, "channels": list(kind_channels), "batch": b, "batches": batches},
            )
            kind_counts = count_transitions(
                paths, config.markov_order, config.collapse_repeats, channels=kind_channels
            )
            counts[kind] = counts[kind] + kind_counts if kind in counts else kind_counts
        per_channel.append(query(conn, "models/batch_journey_channels.sql", {"batch": b, "batches": batches}))
    fit = fit_markov(counts, pl.concat(per_channel), config)
    write_frame(conn, "markov_removal_effects", fit.removal_effects)
    write_frame(conn, "markov_transitions", fit.transitions)
    return write_frame(conn, "int_markov_fractions", fit.fractions)


def run_shapley(conn: duckdb.DuckDBPyConnection, rows_per_batch: int = FIT_BATCH_ROWS) -> int:
    """Fit the Shapley model of each journey kind: channel-set counts (sql/models/
    shapley_set_counts.sql), then one fraction per set; write `int_shapley_fractions` (one
    row per journey kind, opportunity and channel) and `shapley_channel_values`; return the
    fractions' row count."""
    define_macros(conn)  # the batch SQL files select accounts with in_batch
    batches = batch_count(conn, rows_per_batch)
    per_channel = [
        query(conn, "models/batch_journey_channels.sql", {"batch": b, "batches": batches})
        for b in range(batches)
    ]
    set_counts = query(conn, "models/shapley_set_counts.sql").cast(SET_COUNT_SCHEMA)  # type: ignore[arg-type]
    fit = fit_shapley(set_counts, pl.concat(per_channel))
    write_frame(conn, "shapley_channel_values", fit.channels)
    return write_frame(conn, "int_shapley_fractions", fit.fractions)


def run_models(
    conn: duckdb.DuckDBPyConnection,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
    rows_per_batch: int = BATCH_ROWS,
) -> int:
    """Run every model of the registry over the journeys, batch by batch of accounts (memory
    stays bounded at any scale); write `int_attribution_credits` (wide: one row per journey
    touch, one credit column per model) and the view `mart_attribution_credits` (long: one
    row per model and touch); return the credit mart's row count. Needs `run_markov` and
    `run_shapley` first (those models read their fitted fractions)."""
    registry = select_models(config) if models is None else models
    define_macros(conn)  # the batch SQL files select accounts with in_batch
    batches = batch_count(conn, rows_per_batch, "models/credit_batch_rows.sql")
    drop_relation(conn, "mart_attribution_credits")  # a table before the credits were wide
    drop_relation(conn, "int_attribution_credits")
    for b in range(batches):
        inputs = model_input(conn, b, batches)
        credits = attribute_wide(inputs, config, registry)
        if b == 0:
            write_frame(conn, "int_attribution_credits", credits)
        else:
            conn.register("_credits_batch", credits)
            try:
                conn.sql("insert into int_attribution_credits select * from _credits_batch")
            finally:
                conn.unregister("_credits_batch")
        del inputs, credits
    conn.sql(
        "create or replace view mart_attribution_credits as\n"
        + read_sql("marts/mart_attribution_credits.sql")
    )
    touch_rows = count_rows(conn, "int_attribution_credits")
    return touch_rows * len(registry)


def run_order_selection(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Score Markov orders 1-4 on held-out accounts per journey kind (models.markov_order);
    write `markov_order_selection`; return its row count. Recommends, never changes, the
    configured order."""
    channels = _markov_channels(conn)
    frames = [
        select_order(
            query(
                conn,
                "models/order_selection_paths.sql",
                {"journey_kind": kind, "channels": list(channels.get(kind, ()))},
            ),
            kind,
            config.markov_order,
            config.collapse_repeats,
            channels.get(kind, ()),
        )
        for kind in JOURNEY_KINDS
    ]
    return write_frame(conn, "markov_order_selection", pl.concat(frames))


def run_intervals(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """Bootstrap confidence intervals of every model's channel and campaign amounts and shares
    (attribution.intervals); write `int_attribution_intervals` (empty when the replicates
    setting is 0); return its row count. Needs the credits and the null paths."""
    # one journey kind at a time: its inputs are read, bootstrapped and released
    intervals = pl.concat(
        [bootstrap_intervals([read_interval_inputs(conn, kind)], config) for kind in JOURNEY_KINDS]
    )
    return write_frame(conn, "int_attribution_intervals", intervals)


def build_mart(conn: duckdb.DuckDBPyConnection, table: str, config: AttributionConfig | None = None) -> int:
    """(Re)create one reporting mart from its SQL file (its $parameters from `config`, and
    $model_names: the models run); an optional input it reads that was never loaded is
    loaded empty first. Return its row count."""
    define_macros(conn)
    return _build_mart(conn, table, config or AttributionConfig())


def _build_mart(conn: duckdb.DuckDBPyConnection, table: str, config: AttributionConfig) -> int:
    """`build_mart` once the macros are defined."""
    sql = read_sql(f"marts/{table}.sql")
    for source in SOURCES:
        if f"stg_{source}" in sql:
            ensure_loaded(conn, source, config)
    if "int_self_reported" in sql and not table_exists(conn, "int_self_reported"):
        build_self_reported(conn, config)  # the loads ran one by one, not through load_inputs
    if "int_attribution_intervals" in sql and not table_exists(conn, "int_attribution_intervals"):
        write_frame(conn, "int_attribution_intervals", pl.DataFrame(schema=INTERVAL_SCHEMA))
    params = bind_config(sql, config, {"model_names": list(select_models(config))})
    conn.sql(f'create or replace table "{table}" as\n' + sql, params=params or None)
    return count_rows(conn, table)


def input_files(sources: SourcePaths) -> list[str]:
    """Every input file the sources resolve to (for fingerprints in the export manifest)."""
    files: list[str] = []
    for paths in (
        sources.touchpoints,
        sources.opportunities,
        sources.fx_rates,
        sources.milestones,
        sources.spend,
        sources.web_events,
        sources.contact_roles,
    ):
        if paths:
            files.extend(resolve_paths(paths))
    if sources.objects:
        items = [sources.objects] if isinstance(sources.objects, (str, Path)) else list(sources.objects)
        for item in map(str, items):
            if os.path.isdir(item):
                files.extend(sorted(str(p) for p in Path(item).rglob("*") if p.is_file()))
            else:
                files.extend(resolve_paths(item))
    return files


def build_marts(conn: duckdb.DuckDBPyConnection, config: AttributionConfig | None = None) -> dict[str, int]:
    """(Re)create every reporting mart; return row counts by table."""
    define_macros(conn)  # once, not per mart (10 ms each)
    config = config or AttributionConfig()
    return {table: _build_mart(conn, table, config) for table in MART_TABLES}


def load_inputs(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    progress: Callable[[str], None] | None = None,
) -> dict[str, LoadResult]:
    """Load every input of the run's source format into the staging tables, in order (fx
    rates first: opportunities convert with them); with a CRM objects folder, first derive
    touches, contact roles and milestones from its objects (attribution.crm), whose loads
    are in the result too (salesforce.CampaignMember, ...). A named contact_roles or
    milestones file wins over the derived ones."""
    tell = progress or (lambda _step: None)
    tell("fx_rates")
    results: dict[str, LoadResult] = {"fx_rates": load_fx_rates(conn, sources.fx_rates, config)}
    if config.source_format == "contract":
        if not sources.touchpoints or not sources.opportunities:
            raise InputFileError(
                "source_format contract needs a touchpoints and an opportunities input; for a folder "
                "of CRM object exports set source_format salesforce_objects or hubspot_objects and "
                "the objects input"
            )
        clear_crm_outputs(conn)
        tell("opportunities")
        results["opportunities"] = load_opportunities(conn, sources.opportunities, config)
        tell("touchpoints")
        results["touchpoints"] = load_touchpoints(conn, sources.touchpoints, config)
        results["contact_roles"] = load_source(conn, "contact_roles", sources.contact_roles, config)
        results["milestones"] = load_source(conn, "milestones", sources.milestones, config)
    else:
        if not sources.objects:
            raise InputFileError(
                f"source_format {config.source_format} reads a folder of object exports: name it as "
                "the objects input (--objects, [inputs] objects, ATTRIBUTION_OBJECTS)"
            )
        tell("crm_objects")
        derived = derive_inputs(
            conn, crm_of(config.source_format), sources.objects, config, sources.web_events
        )
        results.update({result.source: result for result in derived.objects})
        preset = (
            config.mapping if config.mapping.preset != "none" else replace(config.mapping, preset=derived.crm)
        )
        tell("opportunities")
        results["opportunities"] = load_opportunities(
            conn, list(derived.opportunity_files), replace(config, mapping=preset)
        )
        tell("touchpoints")
        results["touchpoints"] = load_source(conn, "touchpoints", None, config, derived=DERIVED_TOUCHES)
        roles = None if sources.contact_roles or not derived.has_contact_roles else DERIVED_ROLES
        results["contact_roles"] = load_source(
            conn, "contact_roles", sources.contact_roles, config, derived=roles
        )
        milestones = None if sources.milestones else DERIVED_MILESTONES
        results["milestones"] = load_source(
            conn, "milestones", sources.milestones, config, derived=milestones
        )
    results["spend"] = load_source(conn, "spend", sources.spend, config)
    build_self_reported(conn, config)
    return results


def run_pipeline(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int | LoadResult]:
    """Ingest, build journeys, run every model and build the marts; return what each step made.
    `progress` is told each step's name before it starts."""
    tell = progress or (lambda _step: None)
    results: dict[str, int | LoadResult] = {}
    results.update(load_inputs(conn, sources, config, tell))
    tell("journeys")
    results.update(build_journeys(conn, config))
    results["int_null_path_touches"] = build_null_paths(conn, config)
    tell("markov")
    results["int_markov_fractions"] = run_markov(conn, config)
    results["int_shapley_fractions"] = run_shapley(conn)
    results["markov_order_selection"] = run_order_selection(conn, config)
    tell("models")
    results["mart_attribution_credits"] = run_models(conn, config)
    tell("intervals")
    results["int_attribution_intervals"] = run_intervals(conn, config)
    tell("marts")
    results.update(build_marts(conn, config))
    return results
