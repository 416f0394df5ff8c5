"""Restatement history: each run that publishes keeps what it published as a dated snapshot,
and `mart_restatements` compares every period's first-reported figures with the latest ones
and counts why they moved (sql/snapshots/, sql/marts/mart_restatements.sql).

Snapshots are appended under the run's id and never rewritten by a later run; a retried step
of the same run replaces that run's own rows. A snapshot is pending until its run has
published (`publish_snapshot`, after the exports are in place): only published runs count as
"first reported", and a pending snapshot of a run that never published (export folder not
writable, killed) is deleted by the next run's snapshot. Runs older than the retention
setting (`snapshot_retention_days`, 0 = keep all) are pruned when a new one is taken.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from attribution.config import AttributionConfig
from attribution.sql import bind_config, define_macros, read_sql

__all__ = ["SNAPSHOT_TABLES", "build_restatements", "publish_snapshot", "take_snapshot"]

SNAPSHOT_TABLES: tuple[str, ...] = ("snapshot_runs", "snapshot_attributed_by_month", "snapshot_opportunities")


def take_snapshot(
    conn: duckdb.DuckDBPyConnection, run_id: str, config: AttributionConfig, taken_at: datetime | None = None
) -> int:
    """Append this run's month figures and journeys under `run_id` as a pending snapshot
    (replacing only that run's own rows, and deleting the pending snapshots of runs that never
    published), prune runs beyond the retention, in one transaction; return how many runs the
    history holds."""
    define_macros(conn)
    conn.execute(read_sql("snapshots/snapshot_tables.sql"))
    moment = taken_at or datetime.now(UTC).replace(tzinfo=None)
    values = {
        "run_id": run_id,
        "as_of": config.as_of,
        "taken_at": moment,
        "reporting_currency": config.reporting_currency,
        "retention_days": config.snapshot_retention_days,
    }
    conn.sql("begin transaction")
    try:
        unpublished = [
            r[0]
            for r in conn.sql(
                "select run_id from snapshot_runs where not is_published or run_id = ?", params=[run_id]
            ).fetchall()
        ]
        for table in SNAPSHOT_TABLES:
            conn.sql(f"delete from {table} where list_contains(?::varchar[], run_id)", params=[unpublished])
        for table in SNAPSHOT_TABLES:
            sql = read_sql(f"snapshots/{table}.sql")
            conn.sql(sql, params=bind_config(sql, config, values))
        prune = read_sql("snapshots/prune_snapshots.sql")
        expired = [r[0] for r in conn.sql(prune, params=bind_config(prune, config, values)).fetchall()]
        for table in SNAPSHOT_TABLES:
            conn.sql(f"delete from {table} where list_contains(?::varchar[], run_id)", params=[expired])
        conn.sql("commit")
    except BaseException:
        conn.sql("rollback")
        raise
    return int(conn.sql("select count(*) from snapshot_runs").fetchall()[0][0])


def publish_snapshot(conn: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Mark `run_id`'s snapshot published: its run's exports are in place (or, for a run
    without exports, its tables are)."""
    conn.execute(read_sql("snapshots/snapshot_tables.sql"))
    conn.sql("update snapshot_runs set is_published = true where run_id = ?", params=[run_id])


def build_restatements(conn: duckdb.DuckDBPyConnection) -> int:
    """(Re)create `mart_restatements` from the snapshots (empty history: an empty table with
    its columns); return its row count."""
    conn.execute(read_sql("snapshots/snapshot_tables.sql"))
    conn.sql("create or replace table mart_restatements as\n" + read_sql("marts/mart_restatements.sql"))
    return int(conn.sql("select count(*) from mart_restatements").fetchall()[0][0])
