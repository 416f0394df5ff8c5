"""Models group: per-touch credits of every attribution model."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution.contracts import GLOSSARY
from attribution.pipeline import run_models
from dagster_defs.assets import DUCKDB_POOL, MODELS
from dagster_defs.assets.journeys import int_journey_touches
from dagster_defs.metadata import table_metadata
from dagster_defs.resources import AttributionSettings


@dg.asset(
    group_name=MODELS,
    pool=DUCKDB_POOL,
    kinds={"duckdb", "polars"},
    deps=[int_journey_touches],
    description="One row per (journey_kind, model, opportunity, touch): credit and attributed "
    f"amount in the reporting currency; the source of truth of every mart. {GLOSSARY['credit']} "
    f"{GLOSSARY['unattributed']}",
)
def mart_attribution_credits(
    duckdb: DuckDBResource, settings: AttributionSettings
) -> dg.MaterializeResult:
    config = settings.to_config()
    with duckdb.get_connection() as conn:
        run_models(conn, config)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(conn, "mart_attribution_credits"),
                "time_decay_half_life_days": dg.MetadataValue.float(config.time_decay_half_life_days),
            }
        )
