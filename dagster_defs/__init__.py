"""Dagster code location of the attribution engine: thin assets over the `attribution` library."""

from __future__ import annotations

from dagster_defs.definitions import defs

__all__ = ["defs"]
