"""Journeys group: journey windows and the ordered touches inside them."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.journeys import build_journeys, build_null_paths
from dagster_defs.assets import DUCKDB_POOL, JOURNEYS_GROUP
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings

_JOURNEYS = dg.AssetSpec(
    "int_journeys",
    group_name=JOURNEYS_GROUP,
    kinds={"duckdb"},
    deps=["stg_opportunities", "stg_touchpoints"],
    description="One row per (journey_kind, opportunity): window, conversion event, value, "
    f"company-calendar month, touch count. {GLOSSARY['pipeline journey']} "
    f"{GLOSSARY['revenue journey']}",
)
_JOURNEY_TOUCHES = dg.AssetSpec(
    "int_journey_touches",
    group_name=JOURNEYS_GROUP,
    kinds={"duckdb"},
    deps=["stg_opportunities", "stg_touchpoints"],
    description="One row per (journey_kind, opportunity, touch) inside the journey window, with "
    "position (ordered by occurred_at, touchpoint_id), touch count and days before the event.",
)


@dg.multi_asset(specs=[_JOURNEYS, _JOURNEY_TOUCHES], pool=DUCKDB_POOL)
def journeys(duckdb: DuckDBResource, settings: AttributionSettings) -> Iterator[dg.MaterializeResult]:
    """Both tables from one window definition (sql/intermediate/int_journey_windows.sql)."""
    config = settings.to_config()
    with duckdb.get_connection() as conn:
        build_journeys(conn, config)
        yield dg.MaterializeResult(
            asset_key="int_journeys",
            metadata={
                **table_metadata(conn, "int_journeys"),
                "lookback_days": dg.MetadataValue.int(config.lookback_days),
            },
        )
        yield dg.MaterializeResult(
            asset_key="int_journey_touches", metadata=table_metadata(conn, "int_journey_touches")
        )


_NULL_PATHS = dg.AssetSpec(
    "int_null_path_touches",
    group_name=JOURNEYS_GROUP,
    kinds={"duckdb", "polars"},
    deps=["int_journey_touches"],
    description="The Markov chain's non-converting paths, one row per touch. pipeline: per "
    "account, touches in no pipeline journey, outside every opportunity's sales cycle (created "
    "to closed, or to as-of while open) and before the last lookback before as-of (those "
    "accounts may still convert), cut into chunks no longer than the lookback (each chunk "
    "starts at its first touch); revenue: revenue journeys of closed_lost opportunities (open "
    "ones are left out).",
)
_EXCLUSIONS = dg.AssetSpec(
    "int_null_path_exclusions",
    group_name=JOURNEYS_GROUP,
    kinds={"duckdb"},
    deps=["int_journey_touches"],
    description="One row per role a staged touch plays for the pipeline Markov chain "
    "(in_pipeline_journey, in_sales_cycle, censored, null_path): touch_count and share.",
)


@dg.multi_asset(specs=[_NULL_PATHS, _EXCLUSIONS], pool=DUCKDB_POOL)
def null_paths(duckdb: DuckDBResource, settings: AttributionSettings) -> Iterator[dg.MaterializeResult]:
    """The non-converting paths, and how many touches each rule left out of them."""
    with duckdb.get_connection() as conn:
        build_null_paths(conn, settings.to_config())
        paths = conn.sql(
            "select journey_kind, count(distinct path_id) from int_null_path_touches group by 1"
        ).fetchall()
        roles = conn.sql(
            "select role, touch_count, round(share_of_touches, 4) as share_of_touches "
            "from int_null_path_exclusions order by role"
        ).pl()
        shares = dict(zip(roles["role"], roles["share_of_touches"], strict=True))
        yield dg.MaterializeResult(
            asset_key="int_null_path_touches",
            metadata={
                **table_metadata(conn, "int_null_path_touches"),
                **{f"{kind}_null_paths": dg.MetadataValue.int(int(n)) for kind, n in paths},
                "share_left_out_in_sales_cycle": dg.MetadataValue.float(
                    float(shares.get("in_sales_cycle", 0.0))
                ),
                "share_left_out_censored": dg.MetadataValue.float(float(shares.get("censored", 0.0))),
            },
        )
        yield dg.MaterializeResult(
            asset_key="int_null_path_exclusions",
            metadata={
                **table_metadata(conn, "int_null_path_exclusions"),
                "staged_touches_by_role": dg.MetadataValue.md(markdown_table(roles)),
            },
        )
