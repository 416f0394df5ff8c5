"""Assets by group: ingest, journeys, models, reporting."""

from __future__ import annotations

import dagster as dg

INGEST = "ingest"
JOURNEYS = "journeys"
MODELS = "models"
REPORTING = "reporting"
DUCKDB_POOL = "duckdb_writer"
# One run loads any range of days (a first full load is one run, not one per day); the CLI's
# --partition-range needs this policy on every selected asset.
SINGLE_RUN = dg.BackfillPolicy.single_run()
