"""What every section of the report shares: its inputs and its entry in the navigation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from attribution.config import AttributionConfig

__all__ = ["REPORT_FILE", "TREND_MODEL", "ReportInputs", "Section"]

REPORT_FILE = "attribution_report.html"
# the model the trend, campaigns and segments are shown under (every model is in the comparison)
TREND_MODEL = "linear"


@dataclass(frozen=True)
class ReportInputs:
    """What a section reads: the DuckDB file, the reporting currency, the as-of text, the run's
    config and the export folder (its manifest)."""

    conn: duckdb.DuckDBPyConnection
    currency: str
    as_of: str
    config: AttributionConfig
    export_dir: Path


@dataclass(frozen=True)
class Section:
    """One section: its anchor id (and template `sections/<id>.html.j2`), its navigation
    label, and the function that builds what its template reads as `data`."""

    id: str
    label: str
    build: Callable[[ReportInputs], dict[str, Any]]
