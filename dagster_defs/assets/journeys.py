"""Journeys group: journey windows and the ordered touches inside them."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.journeys import build_journey_touches, build_journeys, build_null_paths
from dagster_defs.assets import DUCKDB_POOL, JOURNEYS
from dagster_defs.assets.ingest import stg_opportunities, stg_touchpoints
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings


@dg.asset(
    group_name=JOURNEYS,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[stg_opportunities, stg_touchpoints],
    description="One row per (journey_kind, opportunity): window, conversion event, value, touch "
    f"count. {GLOSSARY['pipeline journey']} {GLOSSARY['revenue journey']}",
)
def int_journeys(duckdb: DuckDBResource, settings: AttributionSettings) -> dg.MaterializeResult:
    config = settings.to_config()
    with duckdb.get_connection() as conn:
        build_journeys(conn, config)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "int_journeys"),
                "lookback_days": dg.MetadataValue.int(config.lookback_days),
            }
        )


@dg.asset(
    group_name=JOURNEYS,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[int_journeys],
    description="One row per (journey_kind, opportunity, touch) inside the journey window, with "
    "position (ordered by occurred_at, touchpoint_id), touch count and days before the event.",
)
def int_journey_touches(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_journey_touches(conn)
        return dg.MaterializeResult(metadata=table_metadata(conn, "int_journey_touches"))


@dg.asset(
    group_name=JOURNEYS,
    pool=DUCKDB_POOL,
    kinds={"duckdb", "polars"},
    deps=[int_journey_touches],
    description="The Markov chain's non-converting paths, one row per touch. pipeline: per "
    "account, touches in no pipeline journey, outside every opportunity's sales cycle (created "
    "to closed, or to as-of while open) and before the last lookback before as-of (those "
    "accounts may still convert), cut into chunks no longer than the lookback (each chunk "
    "starts at its first touch); revenue: revenue journeys of closed_lost opportunities (open "
    "ones are left out).",
)
def int_null_path_touches(
    duckdb: DuckDBResource, settings: AttributionSettings
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        build_null_paths(conn, settings.to_config())
        paths = conn.sql(
            "select journey_kind, count(distinct path_id) from int_null_path_touches group by 1"
        ).fetchall()
        roles = conn.sql(
            "select role, touches, round(share_of_touches, 4) as share_of_touches "
            "from int_null_path_exclusions order by role"
        ).pl()
        shares = dict(zip(roles["role"], roles["share_of_touches"], strict=True))
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "int_null_path_touches"),
                **{f"{kind}_null_paths": dg.MetadataValue.int(int(n)) for kind, n in paths},
                "staged_touches_by_role": dg.MetadataValue.md(markdown_table(roles)),
                "share_left_out_in_sales_cycle": dg.MetadataValue.float(
                    float(shares.get("in_sales_cycle", 0.0))
                ),
                "share_left_out_censored": dg.MetadataValue.float(
                    float(shares.get("censored", 0.0))
                ),
            }
        )
