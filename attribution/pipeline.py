"""The pipeline's steps as plain functions over a DuckDB connection, in dependency order.

Dagster assets call these one by one; `run_pipeline` calls them all (tests, benchmarks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
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
from attribution.engine import DuckDBEngine, Engine, as_engine
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
    read_sql,
    table_exists,
)
from attribution.sql_graph import build_order, sql_files, sql_reads

__all__ = [
    "MART_FILES",
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

# what the marts step builds: the intermediate tables of reporting, then the marts, in build
# order parsed from what each file reads (the credits view and the restatements are built by
# their own steps: run_models, build_restatements)
MART_FOLDERS: tuple[str, ...] = ("intermediate/reporting", "marts")
_OWN_STEPS = frozenset({"mart_attribution_credits", "mart_restatements"})
MART_FILES: dict[str, str] = sql_files(MART_FOLDERS)  # every file, the two own steps too
MART_TABLES: tuple[str, ...] = build_order(MART_FOLDERS, _OWN_STEPS)


class ModelLimitError(ValueError):
    """A model cannot run on these inputs within its documented limit (the message says which
    limit, why, and what to do)."""


def count_rows(conn: duckdb.DuckDBPyConnection | Engine, table: str) -> int:
    """Row count of a table of this project (table names are ours, never user input)."""
    return as_engine(conn).count(table)


def write_frame(conn: duckdb.DuckDBPyConnection | Engine, table: str, frame: pl.DataFrame) -> int:
    """Replace `table` with the rows of a polars frame; return the row count."""
    return as_engine(conn).write(table, frame)


BATCH_ROWS = 4_000_000
# the Markov and Shapley fits read what DuckDB aggregates (paths as integer codes, one row per
# journey and channel), a few bytes per touch: their batches can be ten times larger
FIT_BATCH_ROWS = 40_000_000


def batch_count(
    conn: duckdb.DuckDBPyConnection | Engine,
    rows_per_batch: int = BATCH_ROWS,
    counted: str = "reads/batch_rows.sql",
) -> int:
    """How many account batches keep each batch under `rows_per_batch` touch rows, the rows
    `counted` by that SQL file (by default every touch the fits read: journeys and null paths)."""
    rows = as_engine(conn).frame(read_sql(counted)).item()
    return max(1, -(-int(rows) // rows_per_batch))


# what the credit pass reads: sql/reads/batch_<name>.sql fills ModelInput.<name>
MODEL_INPUTS: tuple[str, ...] = ("journey_touches", "journey_values", "milestone_touches")


def _markov_channels(engine: Engine) -> dict[str, tuple[str, ...]]:
    """Per journey kind, the sorted channels of its converting journeys and null paths: the
    one channel list every batch counts its Markov transitions with."""
    rows = engine.frame(read_sql("reads/markov_channels.sql")).rows()
    return {
        kind: tuple(sorted(channel for k, channel in rows if k == kind))
        for kind in sorted({k for k, _ in rows})
    }


def run_markov(
    conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig, rows_per_batch: int = FIT_BATCH_ROWS
) -> int:
    """Fit the Markov chain of each journey kind: write `markov_transitions`,
    `mart_markov_removal_effects` and `int_markov_fractions` (one row per journey kind,
    opportunity and channel); return the fractions' row count.

    Transitions are counted batch by batch of accounts (bounded memory; counts add up
    exactly) over paths DuckDB aggregates as integer channel codes (sql/reads/
    batch_markov_paths.sql), then one solve per kind and one fit over every journey's channels.
    """
    engine = as_engine(conn)
    engine.define_macros()  # the batch SQL files select accounts with in_batch
    batches = batch_count(engine, rows_per_batch)
    channels = _markov_channels(engine)
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
            paths = engine.frame(
                read_sql("reads/batch_markov_paths.sql"),
                {"journey_kind": kind, "channels": list(kind_channels), "batch": b, "batches": batches},
            )
            kind_counts = count_transitions(
                paths, config.markov_order, config.collapse_repeats, channels=kind_channels
            )
            counts[kind] = counts[kind] + kind_counts if kind in counts else kind_counts
        per_channel.append(
            engine.frame(read_sql("reads/batch_journey_channels.sql"), {"batch": b, "batches": batches})
        )
    fit = fit_markov(counts, pl.concat(per_channel), config)
    engine.write("mart_markov_removal_effects", fit.removal_effects)
    engine.write("markov_transitions", fit.transitions)
    return engine.write("int_markov_fractions", fit.fractions)


def run_shapley(conn: duckdb.DuckDBPyConnection | Engine, rows_per_batch: int = FIT_BATCH_ROWS) -> int:
    """Fit the Shapley model of each journey kind: channel-set counts (sql/reads/
    shapley_set_counts.sql), then one fraction per set; write `int_shapley_fractions` (one
    row per journey kind, opportunity and channel) and `mart_shapley_channel_values`; return the
    fractions' row count."""
    engine = as_engine(conn)
    engine.define_macros()  # the batch SQL files select accounts with in_batch
    batches = batch_count(engine, rows_per_batch)
    per_channel = [
        engine.frame(read_sql("reads/batch_journey_channels.sql"), {"batch": b, "batches": batches})
        for b in range(batches)
    ]
    set_counts = engine.frame(read_sql("reads/shapley_set_counts.sql")).cast(SET_COUNT_SCHEMA)  # type: ignore[arg-type]
    fit = fit_shapley(set_counts, pl.concat(per_channel))
    engine.write("mart_shapley_channel_values", fit.channels)
    return engine.write("int_shapley_fractions", fit.fractions)


def run_models(
    conn: duckdb.DuckDBPyConnection | Engine,
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
    engine = as_engine(conn)
    engine.define_macros()  # the batch SQL files select accounts with in_batch
    batches = batch_count(engine, rows_per_batch, "reads/credit_batch_rows.sql")
    engine.drop("mart_attribution_credits")  # a table before the credits were wide
    engine.drop("int_attribution_credits")
    queries = {name: read_sql(f"reads/batch_{name}.sql") for name in MODEL_INPUTS}

    def credits_of(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        return attribute_wide(ModelInput(**frames), config, registry)

    # the models see journeys whole: any grouping by opportunity gives the same credits
    engine.apply_by_group("int_attribution_credits", queries, credits_of, batches, "opportunity_id")
    engine.create("mart_attribution_credits", read_sql("marts/mart_attribution_credits.sql"), kind="view")
    touch_rows = engine.count("int_attribution_credits")
    return touch_rows * len(registry)


def run_order_selection(conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig) -> int:
    """Score Markov orders 1-4 on held-out accounts per journey kind (models.markov_order);
    write `mart_markov_order_selection`; return its row count. Recommends, never changes, the
    configured order."""
    engine = as_engine(conn)
    engine.define_macros()  # the held-out accounts are chosen with md5_bucket
    channels = _markov_channels(engine)
    frames = [
        select_order(
            engine.frame(
                read_sql("reads/order_selection_paths.sql"),
                {"journey_kind": kind, "channels": list(channels.get(kind, ()))},
            ),
            kind,
            config.markov_order,
            config.collapse_repeats,
            channels.get(kind, ()),
        )
        for kind in JOURNEY_KINDS
    ]
    return engine.write("mart_markov_order_selection", pl.concat(frames))


def run_intervals(conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig) -> int:
    """Bootstrap confidence intervals of every model's channel and campaign amounts and shares
    (attribution.intervals); write `int_attribution_intervals` (empty when the replicates
    setting is 0); return its row count. Needs the credits and the null paths."""
    # one journey kind at a time: its inputs are read, bootstrapped and released
    engine = as_engine(conn)
    intervals = pl.concat(
        [bootstrap_intervals([read_interval_inputs(engine, kind)], config) for kind in JOURNEY_KINDS]
    )
    return engine.write("int_attribution_intervals", intervals)


def build_mart(
    conn: duckdb.DuckDBPyConnection | Engine, table: str, config: AttributionConfig | None = None
) -> int:
    """(Re)create one reporting mart from its SQL file (its $parameters from `config`, and
    $model_names: the models run); an optional input it reads that was never loaded is
    loaded empty first. Return its row count."""
    engine = as_engine(conn)
    engine.define_macros()
    return _build_mart(engine, table, config or AttributionConfig())


def _build_mart(engine: Engine, table: str, config: AttributionConfig) -> int:
    """`build_mart` once the macros are defined."""
    sql = read_sql(MART_FILES[table])
    if isinstance(engine, DuckDBEngine):  # elsewhere the hand-over wrote every input
        conn = engine.conn
        for source in SOURCES:
            if f"stg_{source}" in sql:
                ensure_loaded(conn, source, config)
        if "int_self_reported" in sql and not table_exists(conn, "int_self_reported"):
            build_self_reported(conn, config)  # the loads ran one by one, not through load_inputs
    if "int_attribution_intervals" in sql and not engine.exists("int_attribution_intervals"):
        engine.write("int_attribution_intervals", pl.DataFrame(schema=INTERVAL_SCHEMA))
    engine.create(table, sql, bind_config(sql, config, {"model_names": list(select_models(config))}))
    return engine.count(table)


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


def build_marts(
    conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig | None = None
) -> dict[str, int]:
    """(Re)create every reporting mart; return row counts by table."""
    engine = as_engine(conn)
    engine.define_macros()  # once, not per mart (10 ms each)
    config = config or AttributionConfig()
    return {table: _build_mart(engine, table, config) for table in MART_TABLES}


# what the steps after ingest read of its tables: handed to another engine after ingest
HANDED_OVER: tuple[str, ...] = (
    *(f"stg_{source}" for source in SOURCES),
    "int_self_reported",
)


def hand_over(conn: duckdb.DuckDBPyConnection, engine: Engine, config: AttributionConfig) -> dict[str, int]:
    """Write the staged tables of a DuckDB ingest (validated, quarantined, accounted for in
    the DuckDB file) to `engine`, every optional source too (empty when never loaded);
    return the row counts by table."""
    for source in SOURCES:
        ensure_loaded(conn, source, config)
    if not table_exists(conn, "int_self_reported"):
        build_self_reported(conn, config)
    return {table: engine.write(table, conn.table(table).pl()) for table in HANDED_OVER}


def collect(engine: Engine, conn: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, int]:
    """Copy `tables` from `engine` into the DuckDB file (the marts the exports, the report,
    the checks and the UI read); return the row counts by table."""
    counts = {}
    for table in tables:
        rows = pl.from_arrow(engine.read(table))
        assert isinstance(rows, pl.DataFrame)
        # an instant in UTC is a plain timestamp in the DuckDB file (ingest's session is UTC)
        rows = rows.with_columns(
            pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            for name, dtype in rows.schema.items()
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        )
        counts[table] = write_frame(conn, table, rows)
    return counts


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
    if config.source.format == "contract":
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
                f"source_format {config.source.format} reads a folder of object exports: name it as "
                "the objects input (--objects, [inputs] objects, ATTRIBUTION_OBJECTS)"
            )
        tell("crm_objects")
        derived = derive_inputs(
            conn, crm_of(config.source.format), sources.objects, config, sources.web_events
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


# what each step after ingest writes (tables, views): a step that ran on another engine is
# mirrored into the DuckDB file (the checks, exports, snapshots, report and UI read it there)
STEP_OUTPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "journeys": (
        ("int_touch_rules", "int_journeys", "int_journey_touches", "int_journey_milestones"),
        ("int_eligible_touches",),
    ),
    "null_paths": (
        ("int_null_path_settings", "int_null_path_exclusions", "int_pipeline_null_paths", "int_markov_paths"),
        ("int_touch_roles", "int_null_path_touches"),
    ),
    "markov": (("mart_markov_removal_effects", "markov_transitions", "int_markov_fractions"), ()),
    "shapley": (("mart_shapley_channel_values", "int_shapley_fractions"), ()),
    "order_selection": (("mart_markov_order_selection",), ()),
    "credits": (("int_attribution_credits",), ("mart_attribution_credits",)),
    "intervals": (("int_attribution_intervals",), ()),
}
# the SQL files each step runs (every file of sql/intermediate/ and sql/reads/ is one step's):
# a step's reads, parsed from them, are its inputs (step_reads), the asset graph's deps
STEP_FILES: dict[str, tuple[str, ...]] = {
    "journeys": (
        "intermediate/int_eligible_touches.sql",
        "intermediate/int_journey_windows.sql",
        "intermediate/int_journey_touches.sql",
        "intermediate/int_journeys.sql",
        "intermediate/int_journey_milestones.sql",
    ),
    "null_paths": (
        "intermediate/int_touch_roles.sql",
        "intermediate/int_null_path_exclusions.sql",
        "intermediate/int_pipeline_null_paths.sql",
        "intermediate/int_markov_paths.sql",
        "intermediate/int_null_path_touches.sql",
        "reads/batch_null_path_candidates.sql",
    ),
    "markov": (
        "reads/batch_rows.sql",
        "reads/markov_channels.sql",
        "reads/batch_markov_paths.sql",
        "reads/batch_journey_channels.sql",
    ),
    "shapley": (
        "reads/batch_rows.sql",
        "reads/batch_journey_channels.sql",
        "reads/shapley_set_counts.sql",
    ),
    "order_selection": ("reads/markov_channels.sql", "reads/order_selection_paths.sql"),
    "credits": (
        "reads/credit_batch_rows.sql",
        "reads/batch_journey_touches.sql",
        "reads/batch_journey_values.sql",
        "reads/batch_milestone_touches.sql",
        "marts/mart_attribution_credits.sql",
    ),
    "intervals": (
        "reads/interval_opportunities.sql",
        "reads/interval_journey_paths.sql",
        "reads/interval_null_paths.sql",
        "reads/interval_credits.sql",
    ),
}
# a step's scratch tables (written and dropped by the step itself)
STEP_SCRATCH: dict[str, tuple[str, ...]] = {
    "journeys": ("int_journey_windows",),
    "null_paths": ("_touch_roles",),
}


def step_reads(step: str) -> tuple[str, ...]:
    """The tables a step reads that another step (or ingest) writes: what its SQL files read,
    parsed (sql_graph.sql_reads), less its own outputs and scratch tables."""
    tables, views = STEP_OUTPUTS[step]
    reads = set().union(*(sql_reads(path) for path in STEP_FILES[step]))
    return tuple(sorted(reads - set(tables) - set(views) - set(STEP_SCRATCH.get(step, ()))))


VIEW_FILES: dict[str, str] = {
    "int_eligible_touches": "intermediate/int_eligible_touches.sql",
    "int_touch_roles": "intermediate/int_touch_roles.sql",
    "int_null_path_touches": "intermediate/int_null_path_touches.sql",
    "mart_attribution_credits": "marts/mart_attribution_credits.sql",
}
# every table a run on another engine copies into the DuckDB file
COLLECTED: tuple[str, ...] = (*(t for tables, _ in STEP_OUTPUTS.values() for t in tables), *MART_TABLES)


def step_runner(conn: duckdb.DuckDBPyConnection, engine: Engine | None) -> duckdb.DuckDBPyConnection | Engine:
    """What a step after ingest runs on: the DuckDB connection, or another engine."""
    return conn if engine is None or isinstance(engine, DuckDBEngine) else engine


def mirror(
    runner: duckdb.DuckDBPyConnection | Engine,
    conn: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    views: Sequence[str] = (),
) -> None:
    """After a step on another engine: copy its tables into the DuckDB file and create its
    views there (the same SQL over the copies); nothing when the step ran on DuckDB."""
    if runner is conn or isinstance(runner, (DuckDBEngine, duckdb.DuckDBPyConnection)):
        return
    collect(as_engine(runner), conn, tables)
    duck = DuckDBEngine(conn)
    duck.define_macros()
    for view in views:
        duck.create(view, read_sql(VIEW_FILES[view]), kind="view")


def run_pipeline(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    progress: Callable[[str], None] | None = None,
    engine: Engine | None = None,
) -> dict[str, int | LoadResult]:
    """Ingest, build journeys, run every model and build the marts; return what each step made.
    `progress` is told each step's name before it starts. With another `engine` (Spark), the
    ingest runs on DuckDB (its quarantine and audit in the DuckDB file), its staged tables are
    handed over, every later step runs on that engine and its tables are mirrored into the
    DuckDB file (COLLECTED)."""
    tell = progress or (lambda _step: None)
    results: dict[str, int | LoadResult] = {}
    results.update(load_inputs(conn, sources, config, tell))
    runner = step_runner(conn, engine)
    if runner is not conn:
        tell("hand_over")
        hand_over(conn, as_engine(runner), config)

    def done(step: str) -> None:
        mirror(runner, conn, *STEP_OUTPUTS[step])

    tell("journeys")
    results.update(build_journeys(runner, config))
    done("journeys")
    results["int_null_path_touches"] = build_null_paths(runner, config)
    done("null_paths")
    tell("markov")
    results["int_markov_fractions"] = run_markov(runner, config)
    done("markov")
    results["int_shapley_fractions"] = run_shapley(runner)
    done("shapley")
    results["mart_markov_order_selection"] = run_order_selection(runner, config)
    done("order_selection")
    tell("models")
    results["mart_attribution_credits"] = run_models(runner, config)
    done("credits")
    tell("intervals")
    results["int_attribution_intervals"] = run_intervals(runner, config)
    done("intervals")
    tell("marts")
    results.update(build_marts(runner, config))
    mirror(runner, conn, MART_TABLES)
    return results
