"""Multi-touch attribution engine: the pure library (no Dagster import)."""

from __future__ import annotations

from attribution.config import AttributionConfig

__all__ = ["AttributionConfig"]
