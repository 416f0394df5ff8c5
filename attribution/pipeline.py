"""The pipeline's steps as plain functions over a DuckDB connection, in dependency order.

Dagster assets call these one by one; `run_pipeline` calls them all (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import duckdb
import polars as pl

from attribution.config import AttributionConfig
from attribution.contracts import SOURCES, SourcePaths
from attribution.crm.derive import (
    build_self_reported,
)
from attribution.engine import DuckDBEngine, Engine, as_engine
from attribution.experiments.calibration import RATIO_SCHEMA, run_calibration
from attribution.experiments.handoff import build_lift_tests_pymc, build_lift_tests_robyn
from attribution.experiments.results import build_experiment_results, build_experiment_vs_attribution
from attribution.ingest import (
    LoadResult,
    ensure_loaded,
)
from attribution.inputs import input_files, load_inputs
from attribution.intervals import INTERVAL_SCHEMA, bootstrap_intervals, read_interval_inputs
from attribution.journeys import (
    build_journeys,
    build_null_paths,
)
from attribution.models import AttributionModel, ModelInput, attribute_wide, model_names, select_models
from attribution.models.markov import fit_markov
from attribution.models.markov_chain import ChainCounts, count_transitions
from attribution.models.markov_order import select_order
from attribution.models.shapley import SET_COUNT_SCHEMA, fit_shapley
from attribution.sql import (
    bind_config,
    read_sql,
    table_exists,
)
from attribution.steps import (
    MART_FILES,
    MART_TABLES,
    STEP_OUTPUTS,
    VIEW_FILES,
)
from attribution.velocity_intervals import build_velocity_intervals

__all__ = [
    "MART_FILES",
    "MART_TABLES",
    "ModelLimitError",
    "SourcePaths",
    "build_marts",
    "count_rows",
    "input_files",
    "load_inputs",
    "run_credits",
    "run_intervals",
    "run_markov",
    "run_models",
    "run_order_selection",
    "run_pipeline",
    "run_shapley",
    "write_frame",
]


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
        inputs = ModelInput(
            frames["journey_touches"],
            journey_values=frames["journey_values"],
            milestone_touches=frames["milestone_touches"],
        )
        return attribute_wide(inputs, config, registry)

    # the models see journeys whole: any grouping by opportunity gives the same credits
    engine.apply_by_group("int_attribution_credits", queries, credits_of, batches, "opportunity_id")
    engine.create("mart_attribution_credits", read_sql("marts/mart_attribution_credits.sql"), kind="view")
    touch_rows = engine.count("int_attribution_credits")
    return touch_rows * len(registry)


def run_credits(
    conn: duckdb.DuckDBPyConnection,
    runner: duckdb.DuckDBPyConnection | Engine,
    config: AttributionConfig,
    models: Mapping[str, AttributionModel] | None = None,
) -> pl.DataFrame:
    """The credits step: run_models on `runner`, its tables mirrored into the DuckDB file
    `conn`, then the calibrated models of `config.calibrated_models` added from the experiments
    there (attribution.experiments.calibration) and mirrored again; return the calibration
    ratios (empty without calibration). Needs mart_experiment_results for calibration."""
    run_models(runner, config, models)
    mirror(runner, conn, *STEP_OUTPUTS["credits"])
    if not config.calibrated_models:
        return pl.DataFrame(schema=RATIO_SCHEMA)
    ratios = run_calibration(
        conn, runner, config, batch_count(runner, BATCH_ROWS, "reads/credit_batch_rows.sql")
    )
    mirror(runner, conn, *STEP_OUTPUTS["credits"])
    return ratios


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
        for kind in config.journey_kinds
    ]
    return engine.write("mart_markov_order_selection", pl.concat(frames))


def run_intervals(conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig) -> int:
    """Bootstrap confidence intervals of every model's channel and campaign amounts and shares
    (attribution.intervals); write `int_attribution_intervals` (empty when the replicates
    setting is 0); return its row count. Needs the credits and the null paths."""
    # one journey kind at a time: its inputs are read, bootstrapped and released
    engine = as_engine(conn)
    intervals = pl.concat(
        [bootstrap_intervals([read_interval_inputs(engine, kind)], config) for kind in config.journey_kinds]
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
    engine.create(table, sql, bind_config(sql, config, {"model_names": model_names(config)}))
    return engine.count(table)


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
    "int_funnel_stages",  # the funnel's stages, written at ingest from the settings
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
    results.update(load_inputs(conn, sources, config, lambda source: tell(f"ingest {source}")))
    runner = step_runner(conn, engine)
    if runner is not conn:
        tell("hand_over")
        hand_over(conn, as_engine(runner), config)

    def done(step: str) -> None:
        mirror(runner, conn, *STEP_OUTPUTS[step])

    tell("journeys")
    results.update(build_journeys(runner, config))
    done("journeys")
    tell("null_paths")
    results["int_null_path_touches"] = build_null_paths(runner, config)
    done("null_paths")
    tell("markov")
    results["int_markov_fractions"] = run_markov(runner, config)
    done("markov")
    tell("shapley")
    results["int_shapley_fractions"] = run_shapley(runner)
    done("shapley")
    tell("order_selection")
    results["mart_markov_order_selection"] = run_order_selection(runner, config)
    done("order_selection")
    tell("experiments")
    results["mart_experiment_results"] = build_experiment_results(conn, config)
    tell("models")
    run_credits(conn, runner, config)
    results["mart_attribution_credits"] = count_rows(runner, "int_attribution_credits") * len(
        model_names(config)
    )
    tell("intervals")
    results["int_attribution_intervals"] = run_intervals(runner, config)
    done("intervals")
    tell("marts")
    results.update(build_marts(runner, config))
    mirror(runner, conn, MART_TABLES)
    tell("velocity_intervals")
    results["mart_velocity_intervals"] = build_velocity_intervals(conn, config)
    tell("experiments_vs_attribution")
    results["mart_experiment_vs_attribution"] = build_experiment_vs_attribution(conn, config)
    results["mart_lift_tests_pymc"] = build_lift_tests_pymc(conn, config)
    results["mart_lift_tests_robyn"] = build_lift_tests_robyn(conn, config)
    return results
