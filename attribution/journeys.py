"""Build customer journeys in DuckDB from the staged touchpoints and opportunities."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.engine import DuckDBEngine, Engine, as_engine
from attribution.ingest import ensure_loaded
from attribution.sql import bind_config, read_sql

__all__ = [
    "build_journeys",
    "build_null_paths",
    "pipeline_null_paths",
    "touches_left_out",
]


def write_touch_rules(conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig) -> None:
    """(Re)create `int_touch_rules` (one row per rule: excluded touch types and channels,
    touch-type weights) and the view `int_eligible_touches` (touches_left_out counts what
    they leave out)."""
    engine = as_engine(conn)
    rules = (
        [("excluded_touch_type", t, None) for t in config.excluded_touch_types]
        + [("excluded_channel", c, None) for c in config.excluded_channels]
        + [("touch_type_weight", t, w) for t, w in config.touch_type_weights.items()]
    )
    frame = pl.DataFrame(
        rules, schema={"rule": pl.String, "value": pl.String, "weight": pl.Float64}, orient="row"
    )
    engine.write("int_touch_rules", frame)
    engine.create("int_eligible_touches", read_sql("intermediate/int_eligible_touches.sql"), kind="view")


def _ensure_loaded(engine: Engine, source: str, config: AttributionConfig) -> None:
    """An optional source that was never loaded is loaded empty (DuckDB); on another engine
    the hand-over wrote every staged table (attribution.pipeline.hand_over)."""
    if isinstance(engine, DuckDBEngine):
        ensure_loaded(engine.conn, source, config)
    elif not engine.exists(f"stg_{source}"):
        raise ValueError(
            f"stg_{source} is not on the {engine.name} engine: hand the staged tables over first"
        )


def touches_left_out(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per (touch_type, channel) the touch rules leave out of journeys and null paths
    (touch_type '(none)' when missing), with how many staged touches it holds, most first.
    The rules match on the pair, so the staged touches are counted per pair first (a few
    rows) and the rules applied to those, not to every touch."""
    left_out: pl.DataFrame = conn.sql(
        """
        with pairs as (
            select touch_type, channel, count(*) as touches from stg_touchpoints group by all
        )
        select coalesce(touch_type, '(none)') as touch_type, channel, touches as touches_left_out
        from pairs
        where exists (
            select 1 from int_touch_rules as r
            where (r.rule = 'excluded_touch_type' and r.value = pairs.touch_type)
                or (r.rule = 'excluded_channel' and r.value = pairs.channel)
        )
        order by touches_left_out desc, touch_type, channel
        """
    ).pl()
    return left_out


def build_journeys(conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig) -> dict[str, int]:
    """(Re)create `int_journey_touches` and `int_journeys` from one window definition
    (sql/intermediate/int_journey_windows.sql), and `int_journey_milestones` (the touch
    holding each milestone of each journey); return the row counts."""
    engine = as_engine(conn)
    write_touch_rules(engine, config)
    _ensure_loaded(engine, "milestones", config)  # milestone kinds and their leads read them
    windows = read_sql("intermediate/int_journey_windows.sql")
    engine.create("int_journey_windows", windows, bind_config(windows, config), kind="temp")
    counts = {}
    _ensure_loaded(engine, "contact_roles", config)
    for table in ("int_journey_touches", "int_journeys"):
        sql = read_sql(f"intermediate/{table}.sql")
        engine.create(table, sql, bind_config(sql, config))
        counts[table] = engine.count(table)
    engine.drop("int_journey_windows")
    engine.create(
        "int_journey_milestones",
        read_sql("intermediate/int_journey_milestones.sql"),
        {"lead_touch_types": list(config.lead_touch_types), "milestone_names": list(config.milestone_names)},
    )
    counts["int_journey_milestones"] = engine.count("int_journey_milestones")
    return counts


def pipeline_null_paths(touches: pl.DataFrame, lookback_days: int) -> pl.DataFrame:
    """Cut each account's touches (outside every pipeline journey) into chunks: a chunk starts
    at its first touch and takes every touch up to `lookback_days` later. Input columns:
    account_id, touchpoint_id, occurred_at, channel; output adds path_id and position, each
    chunk's touches contiguous and in position order."""
    chunked = _chunked(touches, lookback_days)
    if chunked is None:  # a span too wide for one integer key: chunk by the loop
        return _null_paths_by_loop(touches.sort("account_id", "occurred_at", "touchpoint_id"), lookback_days)
    ordered, chunk, position = chunked
    return (
        ordered.with_columns(chunk=chunk, position=position)
        .with_columns(path_id=pl.format("{}#{}", "account_id", "chunk"))
        .select(*touches.columns, "path_id", "position")
    )


def pipeline_null_path_rows(touches: pl.DataFrame, lookback_days: int) -> pl.DataFrame:
    """`pipeline_null_paths` one row per path: path_id, account_id, touch_count, path (its
    channels in order), first_touch_at, last_touch_at."""
    per_path = (
        pl.col("account_id").first(),
        pl.col("channel").len().cast(pl.Int64).alias("touch_count"),
        pl.col("channel").alias("path"),
        pl.col("occurred_at").first().alias("first_touch_at"),
        pl.col("occurred_at").last().alias("last_touch_at"),
    )
    columns = ("path_id", "account_id", "touch_count", "path", "first_touch_at", "last_touch_at")
    chunked = _chunked(touches, lookback_days)
    if chunked is None:
        cut = pipeline_null_paths(touches, lookback_days)
        return cut.group_by("path_id", maintain_order=True).agg(*per_path).select(columns)
    # each chunk is contiguous: grouped by an integer, its path_id formatted once per path
    ordered, chunk, position = chunked
    return (
        ordered.with_columns(chunk=chunk, path_number=(position == 1).cum_sum())
        .group_by("path_number", maintain_order=True)
        .agg(pl.col("chunk").first(), *per_path)
        .with_columns(path_id=pl.format("{}#{}", "account_id", "chunk"))
        .select(columns)
    )


def _chunked(touches: pl.DataFrame, lookback_days: int) -> tuple[pl.DataFrame, pl.Series, pl.Series] | None:
    """The touches sorted by (account, time, id), each one's chunk number within its account
    and position within its chunk; None when the span is too wide for `_chunk_starts`."""
    ordered = touches.sort("account_id", "occurred_at", "touchpoint_id")
    if ordered.is_empty():
        empty = pl.Series(dtype=pl.Int64)
        return ordered, empty, empty
    account = ordered["account_id"]
    first = (account != account.shift(1)).fill_null(True).to_numpy()
    micros = ordered["occurred_at"].dt.epoch("us").to_numpy().astype(np.int64)
    starts = _chunk_starts(first, micros, lookback_days * 86_400_000_000)
    if starts is None:
        return None
    chunk_number = np.cumsum(starts)
    account_start = np.maximum.accumulate(np.where(first, np.arange(first.size), 0))
    chunk_start = np.maximum.accumulate(np.where(starts, np.arange(starts.size), 0))
    return (
        ordered,
        pl.Series("chunk", chunk_number - chunk_number[account_start], dtype=pl.Int64),
        pl.Series("position", np.arange(starts.size) - chunk_start + 1, dtype=pl.Int64),
    )


def _chunk_starts(first: np.ndarray, micros: np.ndarray, window: int) -> np.ndarray | None:
    """Which touches (sorted by account, then time; `first` marks each account's first touch)
    start a chunk: an account's first touch, then the first touch more than `window`
    microseconds after the start of the chunk before. One step per chunk of the longest
    history, each over the accounts still open (not over every touch): the touches are one
    sorted integer key (account rank x span + time), searched for each chunk's end. None when
    that key would not fit in 62 bits."""
    lowest = int(micros.min())
    span = int(micros.max()) - lowest + window + 1
    accounts = int(first.sum())
    if accounts * span >= 2**62:
        return None
    key = (np.cumsum(first) - 1) * span + (micros - lowest)
    account_end = np.append(np.flatnonzero(first)[1:], first.size)
    frontier = np.flatnonzero(first)
    end = account_end
    starts = np.zeros(first.size, dtype=bool)
    while frontier.size:
        starts[frontier] = True
        following = np.searchsorted(key, key[frontier] + window, side="right")
        open_ = following < end
        frontier, end = following[open_], end[open_]
    return starts


def _null_paths_by_loop(ordered: pl.DataFrame, lookback_days: int) -> pl.DataFrame:
    """pipeline_null_paths one chunk of every account at a time (touches sorted by account,
    time, id): the route for histories too wide for `_chunk_starts`."""
    window = pl.duration(days=lookback_days)
    remaining = ordered
    chunks: list[pl.DataFrame] = []
    chunk = 0
    while len(remaining):
        start = pl.col("occurred_at").min().over("account_id")
        marked = remaining.with_columns(in_chunk=pl.col("occurred_at") <= start + window)
        chunks.append(marked.filter("in_chunk").drop("in_chunk").with_columns(chunk=pl.lit(chunk)))
        remaining = marked.filter(~pl.col("in_chunk")).drop("in_chunk")
        chunk += 1
    return (
        pl.concat(chunks)
        .with_columns(path_id=pl.format("{}#{}", "account_id", "chunk"))
        .sort("path_id", "occurred_at", "touchpoint_id")
        .with_columns(position=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("path_id"))
        .drop("chunk")
    )


def _append_null_paths(engine: Engine, config: AttributionConfig, batch: int) -> None:
    """Cut one account batch's null_path touches into pipeline null paths and append them to
    int_markov_paths and int_pipeline_null_paths."""
    outside = engine.frame(read_sql("reads/batch_null_path_candidates.sql"), {"batch": batch})
    paths = pipeline_null_path_rows(outside, config.lookback_days)
    markov_paths = paths.select(
        pl.lit("pipeline").alias("journey_kind"),
        "path_id",
        "account_id",
        pl.lit(False).alias("is_converted"),
        pl.lit(0.0).alias("conversion_value"),
        "touch_count",
        "path",
    )
    engine.write("int_markov_paths", markov_paths, append=True)
    engine.write(
        "int_pipeline_null_paths",
        paths.select("path_id", "account_id", "first_touch_at", "last_touch_at"),
        append=True,
    )


def build_null_paths(
    conn: duckdb.DuckDBPyConnection | Engine, config: AttributionConfig, rows_per_batch: int = 4_000_000
) -> int:
    """(Re)create the Markov chain's non-converting paths (DESIGN §3): `int_pipeline_null_paths`
    (one row per pipeline null path: account, first and last touch time), the views
    `int_touch_roles` (each staged touch's role as of this build, sql/intermediate/
    int_touch_roles.sql) and `int_null_path_touches` (one row per touch of a null path),
    `int_null_path_exclusions`: how many staged touches each role holds, so the share left
    out of the pipeline null paths is visible, and `int_markov_paths`: every path the fits
    read (converting journeys and null paths, one row each, channels as a list); return the
    null-path touch count.

    pipeline: per account, touches in no pipeline journey, outside every sales cycle and
    before the censored last lookback, cut into lookback-long chunks (in batches of accounts,
    so memory stays bounded); revenue: revenue journeys of closed_lost opportunities.
    """
    engine = as_engine(conn)
    engine.define_macros()  # the roles give each null_path touch its account_batch
    engine.create(
        "int_null_path_settings",
        "select cast($as_of as timestamp) as as_of, cast($lookback_days as integer) as lookback_days",
        {"as_of": config.as_of, "lookback_days": config.lookback_days},
    )
    # the views are bound as they are created: each after what it reads
    engine.create("int_touch_roles", read_sql("intermediate/int_touch_roles.sql"), kind="view")
    # the roles, computed once for this build: the exclusions and the candidates read them,
    # each null_path touch with its account's batch (as many batches as the staged touches
    # need, a bound of the null_path touches: each batch then reads its rows by an integer,
    # not by classifying and hashing every touch again, which grew with the square of the
    # batches at 100M touches)
    batches = max(1, -(-engine.count("stg_touchpoints") // rows_per_batch))
    engine.create(
        "_touch_roles",
        "select *, case when role = 'null_path' then account_batch(account_id, $batches) end as batch "
        "from int_touch_roles",
        {"batches": batches},
        kind="temp",
    )
    for table in ("int_null_path_exclusions", "int_pipeline_null_paths", "int_markov_paths"):
        engine.create(table, read_sql(f"intermediate/{table}.sql"))
    engine.drop("int_null_path_touches")  # a table in files of earlier versions
    engine.drop("int_pipeline_null_path_touches")  # the stored touches of earlier versions
    engine.create("int_null_path_touches", read_sql("intermediate/int_null_path_touches.sql"), kind="view")
    for batch in range(batches):
        _append_null_paths(engine, config, batch)
    engine.drop("_touch_roles")
    null_touches = engine.frame(
        "select coalesce(sum(touch_count), 0) as touches from int_markov_paths where not is_converted"
    ).item()
    return int(null_touches)
