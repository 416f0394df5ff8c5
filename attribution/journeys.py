"""Build customer journeys in DuckDB from the staged touchpoints and opportunities."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from attribution.config import AttributionConfig
from attribution.ingest import ensure_loaded
from attribution.sql import bind_config, define_macros, drop_relation, read_sql, run_sql

__all__ = [
    "build_journeys",
    "build_null_paths",
    "pipeline_null_paths",
    "touches_left_out",
]


def write_touch_rules(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """(Re)create `int_touch_rules` (one row per rule: excluded touch types and channels,
    touch-type weights) and the view `int_eligible_touches` (touches_left_out counts what
    they leave out)."""
    rules = (
        [("excluded_touch_type", t, None) for t in config.excluded_touch_types]
        + [("excluded_channel", c, None) for c in config.excluded_channels]
        + [("touch_type_weight", t, w) for t, w in config.touch_type_weight_map().items()]
    )
    frame = pl.DataFrame(
        rules, schema={"rule": pl.String, "value": pl.String, "weight": pl.Float64}, orient="row"
    )
    conn.register("_touch_rules", frame)
    try:
        conn.sql("create or replace table int_touch_rules as select * from _touch_rules")
    finally:
        conn.unregister("_touch_rules")
    conn.sql(
        "create or replace view int_eligible_touches as\n" + read_sql("intermediate/int_eligible_touches.sql")
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


def build_journeys(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> dict[str, int]:
    """(Re)create `int_journey_touches` and `int_journeys` from one window definition
    (sql/intermediate/int_journey_windows.sql), and `int_journey_milestones` (the touch
    holding each milestone of each journey); return the row counts."""
    write_touch_rules(conn, config)
    conn.sql(
        "create or replace temp table int_journey_windows as\n"
        + read_sql("intermediate/int_journey_windows.sql"),
        params=bind_config(read_sql("intermediate/int_journey_windows.sql"), config),
    )
    counts = {}
    for table in ("int_journey_touches", "int_journeys"):
        conn.sql(f"create or replace table {table} as\n" + read_sql(f"intermediate/{table}.sql"))
        counts[table] = int(conn.sql(f"select count(*) from {table}").fetchall()[0][0])
    conn.sql("drop table int_journey_windows")
    ensure_loaded(conn, "milestones", config)
    conn.sql(
        "create or replace table int_journey_milestones as\n"
        + read_sql("intermediate/int_journey_milestones.sql"),
        params={
            "lead_touch_types": list(config.lead_touch_types),
            "milestone_names": list(config.milestone_names),
        },
    )
    counts["int_journey_milestones"] = int(
        conn.sql("select count(*) from int_journey_milestones").fetchall()[0][0]
    )
    return counts


def pipeline_null_paths(touches: pl.DataFrame, lookback_days: int) -> pl.DataFrame:
    """Cut each account's touches (outside every pipeline journey) into chunks: a chunk starts
    at its first touch and takes every touch up to `lookback_days` later. Input columns:
    account_id, touchpoint_id, occurred_at, channel; output adds path_id and position, each
    chunk's touches contiguous and in position order."""
    ordered = touches.sort("account_id", "occurred_at", "touchpoint_id")
    if ordered.is_empty():
        return touches.with_columns(
            path_id=pl.lit(None, dtype=pl.String), position=pl.lit(None, dtype=pl.Int64)
        )
    account = ordered["account_id"]
    first = (account != account.shift(1)).fill_null(True).to_numpy()
    micros = ordered["occurred_at"].dt.epoch("us").to_numpy().astype(np.int64)
    starts = _chunk_starts(first, micros, lookback_days * 86_400_000_000)
    if starts is None:  # a span too wide for one integer key: chunk by the loop
        return _null_paths_by_loop(ordered, lookback_days)
    chunk_number = np.cumsum(starts)
    account_start = np.maximum.accumulate(np.where(first, np.arange(first.size), 0))
    chunk_start = np.maximum.accumulate(np.where(starts, np.arange(starts.size), 0))
    return (
        ordered.with_columns(
            chunk=pl.Series(chunk_number - chunk_number[account_start], dtype=pl.Int64),
            position=pl.Series(np.arange(starts.size) - chunk_start + 1, dtype=pl.Int64),
        )
        .with_columns(path_id=pl.format("{}#{}", "account_id", "chunk"))
        .select(*touches.columns, "path_id", "position")
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


def build_null_paths(
    conn: duckdb.DuckDBPyConnection, config: AttributionConfig, rows_per_batch: int = 4_000_000
) -> int:
    """(Re)create the view `int_null_path_touches`: the Markov chain's non-converting paths
    (DESIGN §3; the pipeline ones stored in `int_pipeline_null_path_touches`),
    `int_null_path_exclusions`: how many staged touches each role (sql/intermediate/
    int_touch_roles.sql) holds, so the share left out of the pipeline null paths is visible,
    and `int_markov_paths`: every path the fits read (converting journeys and null paths, one
    row each, channels as a list); return the null-path touch count.

    pipeline: per account, touches in no pipeline journey, outside every sales cycle and
    before the censored last lookback, cut into lookback-long chunks (in batches of accounts,
    so memory stays bounded); revenue: revenue journeys of closed_lost opportunities.
    """
    define_macros(conn)  # batch_null_path_candidates selects accounts with in_batch
    conn.sql(
        "create or replace temp table int_touch_roles as\n" + read_sql("intermediate/int_touch_roles.sql"),
        params={"as_of": config.as_of, "lookback_days": config.lookback_days},
    )
    for table in ("int_null_path_exclusions", "int_pipeline_null_path_touches", "int_markov_paths"):
        conn.sql(f"create or replace table {table} as\n" + read_sql(f"intermediate/{table}.sql"))
    drop_relation(conn, "int_null_path_touches")  # a table before the revenue part was a view
    conn.sql("create view int_null_path_touches as\n" + read_sql("intermediate/int_null_path_touches.sql"))
    outside_rows = int(
        conn.sql("select count(*) from int_touch_roles where role = 'null_path'").fetchall()[0][0]
    )
    batches = max(1, -(-outside_rows // rows_per_batch))
    for batch in range(batches):
        outside = run_sql(
            conn, "intermediate/batch_null_path_candidates.sql", {"batch": batch, "batches": batches}
        ).pl()
        chunks = pipeline_null_paths(outside, config.lookback_days).select(
            pl.lit("pipeline").alias("journey_kind"),
            "path_id",
            "account_id",
            "touchpoint_id",
            "occurred_at",
            "channel",
            pl.col("position").cast(pl.Int64),
        )
        # each chunk is contiguous and in position order: one path row per chunk
        paths = (
            chunks.group_by("path_id", maintain_order=True)
            .agg(
                pl.col("journey_kind").first(),
                pl.col("account_id").first(),
                touch_count=pl.len().cast(pl.Int64),
                path=pl.col("channel"),
            )
            .with_columns(is_converted=pl.lit(False), conversion_value=pl.lit(0.0))
        )
        for table, frame in (("int_pipeline_null_path_touches", chunks), ("int_markov_paths", paths)):
            conn.register("_null_paths", frame)
            try:
                conn.sql(f"insert into {table} by name select * from _null_paths")
            finally:
                conn.unregister("_null_paths")
    conn.sql("drop table if exists int_touch_roles")
    return int(conn.sql("select count(*) from int_null_path_touches").fetchall()[0][0])
