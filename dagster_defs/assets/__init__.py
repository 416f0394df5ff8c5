"""Assets by group: ingest, journeys, models, reporting."""

from __future__ import annotations

INGEST_GROUP = "ingest"
JOURNEYS_GROUP = "journeys"
MODELS_GROUP = "models"
REPORTING_GROUP = "reporting"
DUCKDB_POOL = "duckdb_writer"
