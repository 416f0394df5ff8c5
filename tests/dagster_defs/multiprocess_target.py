"""A reconstructable job for the multiprocess-executor test (paths come from the environment)."""

from __future__ import annotations

import os

import dagster as dg

from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles

# the marts the test materializes, with everything upstream of them
SELECTED = (
    "mart_reconciliation",
    "mart_channel_comparison",
    "mart_campaign_comparison",
    "mart_period_totals",
)


def multiprocess_defs() -> dg.Definitions:
    root = os.environ["ATTRIBUTION_TEST_ROOT"]
    return build_defs(
        AttributionDuckDB(database=os.path.join(root, "attribution.duckdb"), lock_timeout_seconds=300),
        SourceFiles(
            touchpoints=os.path.join(os.environ["ATTRIBUTION_TEST_SAMPLE"], "touchpoints", "*.csv"),
            opportunities=os.path.join(os.environ["ATTRIBUTION_TEST_SAMPLE"], "opportunities", "*.csv"),
            fx_rates=os.path.join(os.environ["ATTRIBUTION_TEST_SAMPLE"], "fx_rates.csv"),
        ),
        AttributionSettings(as_of="2026-06-01T00:00:00"),
        ExportTarget(directory=os.path.join(root, "exports")),
        # forkserver with the definitions preloaded: each step process starts without importing
        # Dagster and the project again (a second or two each)
        executor=dg.multiprocess_executor.configured(
            {
                "max_concurrent": 4,
                "start_method": {
                    "forkserver": {"preload_modules": ["tests.dagster_defs.multiprocess_target"]}
                },
            }
        ),
    )


def multiprocess_job() -> dg.JobDefinition:
    """SELECTED and what they read, without their checks: a step process each (the checks'
    own processes only added start-up time)."""
    selection = dg.AssetSelection.assets(*selected_keys()).without_checks()
    job = dg.define_asset_job("concurrency", selection=selection)
    return dg.Definitions.merge(multiprocess_defs(), dg.Definitions(jobs=[job])).resolve_job_def(
        "concurrency"
    )


def selected_keys() -> list[dg.AssetKey]:
    """SELECTED and everything upstream, with every asset of a multi-asset step any of them is in
    (a step writes all of its tables)."""
    graph = multiprocess_defs().resolve_asset_graph()
    keys = dg.AssetSelection.assets(*SELECTED).upstream().resolve(graph)
    return sorted({k for key in keys for k in graph.get(key).assets_def.keys}, key=str)
