"""Build customer journeys in DuckDB from the staged touchpoints and opportunities."""

from __future__ import annotations

import duckdb
import polars as pl

from attribution.config import AttributionConfig
from attribution.sql import read_sql

__all__ = ["JOURNEY_TOUCH_COLUMNS", "build_journey_touches", "build_journeys", "converted_journey_touches"]

JOURNEY_TOUCH_COLUMNS: tuple[str, ...] = (
    "journey_kind",
    "opportunity_id",
    "touchpoint_id",
    "channel",
    "position",
    "touch_count",
    "days_before_event",
)


def build_journeys(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """(Re)create `int_journeys` (one row per journey kind and opportunity); return its row count."""
    conn.sql(
        "create or replace table int_journeys as\n" + read_sql("intermediate/int_journeys.sql"),
        params={"lookback_days": config.lookback_days},
    )
    return int(conn.sql("select count(*) from int_journeys").fetchall()[0][0])


def build_journey_touches(conn: duckdb.DuckDBPyConnection) -> int:
    """(Re)create `int_journey_touches` from `int_journeys`; return its row count."""
    conn.sql(
        "create or replace table int_journey_touches as\n"
        + read_sql("intermediate/int_journey_touches.sql")
    )
    return int(conn.sql("select count(*) from int_journey_touches").fetchall()[0][0])


def converted_journey_touches(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The touches of converted journeys, in the columns every model takes."""
    columns = ", ".join(JOURNEY_TOUCH_COLUMNS)
    return conn.sql(
        f"select {columns} from int_journey_touches where is_converted "
        "order by journey_kind, opportunity_id, position"
    ).pl()
