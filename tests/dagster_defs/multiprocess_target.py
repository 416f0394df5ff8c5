"""A reconstructable job for the multiprocess-executor test (paths come from the environment)."""

from __future__ import annotations

import os

import dagster as dg

from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles


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
        executor=dg.multiprocess_executor.configured({"max_concurrent": 4}),
    )


def multiprocess_job() -> dg.JobDefinition:
    return multiprocess_defs().resolve_job_def("nightly_attribution")
