"""Assets by group: ingest, journeys, models, reporting."""

from __future__ import annotations

INGEST = "ingest"
JOURNEYS = "journeys"
MODELS = "models"
REPORTING = "reporting"
DUCKDB_POOL = "duckdb_writer"
