"""Exports: every table as Parquet, and as CSV while a spreadsheet can hold it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution import export
from attribution.config import AttributionConfig


def test_a_table_longer_than_a_spreadsheet_is_exported_as_parquet_only(
    published_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cap of 100 rows stands for Excel's 1,048,576: tables above it keep their Parquet file
    # (every row, the same sums) and lose only the CSV, which the manifest names with the
    # row count; tables within it keep both.
    database = tmp_path / "run.duckdb"
    shutil.copy(published_sample.parent / "run.duckdb", database)
    monkeypatch.setattr(export, "CSV_MAX_ROWS", 100)
    with duckdb.connect(str(database)) as conn:
        rows = {
            t: int(conn.sql(f'select count(*) from "{t}"').fetchall()[0][0]) for t in export.EXPORT_TABLES
        }
        export.export_marts(conn, tmp_path / "exports", AttributionConfig())
        credits_total = conn.sql("select sum(attributed_amount) from mart_attribution_credits").fetchall()[0][
            0
        ]
    long_tables = {t for t, n in rows.items() if n > 100}
    assert "mart_attribution_credits" in long_tables and len(long_tables) < len(rows)
    manifest = json.loads((tmp_path / "exports" / export.MANIFEST).read_text())
    assert set(manifest["csv_skipped"]) == long_tables
    assert all(f"{rows[t]:,} rows" in manifest["csv_skipped"][t] for t in long_tables)
    for table, count in rows.items():
        assert (tmp_path / "exports" / f"{table}.parquet").exists()
        assert (tmp_path / "exports" / f"{table}.csv").exists() == (count <= 100), table
        assert manifest["files"][f"{table}.parquet"]["rows"] == count
    credits = pl.read_parquet(tmp_path / "exports" / "mart_attribution_credits.parquet")
    assert credits.height == rows["mart_attribution_credits"]
    assert credits["attributed_amount"].sum() == pytest.approx(credits_total)
