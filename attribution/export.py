"""Publish the marts as Parquet and CSV files with a manifest, each file written atomically.

Every file is written to a temporary name in the export folder and renamed into place only
when all of them are complete, so a reader never sees a half-written file and a crash leaves
the previously published set. The manifest (written last, also atomically) lists as-of time,
row counts, the config used, fingerprints of the input files and a SHA-256 per file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from attribution.config import AttributionConfig
from attribution.pipeline import MART_TABLES

__all__ = [
    "CSV_MAX_ROWS",
    "EXPORT_TABLES",
    "MANIFEST",
    "export_marts",
    "file_sha256",
    "fingerprint_inputs",
    "write_atomically",
]

# the finance-facing marts (not the int_ helpers), the credits and the Markov effects
EXPORT_TABLES: tuple[str, ...] = (
    *(t for t in MART_TABLES if not t.startswith("int_")),
    "mart_attribution_credits",
    "markov_removal_effects",
    "shapley_channel_values",
    "markov_order_selection",
    "mart_restatements",
)
MANIFEST = "manifest.json"
# Excel's row limit: a CSV longer than this opens in no spreadsheet (the credits at ten
# million touches are 37 million rows, 7 GB of CSV); such a table is exported as Parquet only
CSV_MAX_ROWS = 1_048_576


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_inputs(files: Sequence[str]) -> list[dict[str, Any]]:
    """Path, size and SHA-256 of each input file, so an export names exactly what it read."""
    return [
        {"path": str(f), "bytes": os.path.getsize(f), "sha256": file_sha256(Path(f))}
        for f in files
        if os.path.isfile(f)
    ]


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, fsync it, then rename it into place."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    _fsync(temporary)
    os.replace(temporary, path)


def export_marts(
    conn: duckdb.DuckDBPyConnection,
    export_dir: Path,
    config: AttributionConfig,
    input_files: Sequence[str] = (),
    tables: Sequence[str] = EXPORT_TABLES,
) -> dict[str, Any]:
    """Write each table as `<table>.parquet` and `<table>.csv` under `export_dir` (rows in a
    stable order, so the same tables give byte-identical files) and return the manifest.
    A table longer than a spreadsheet holds (CSV_MAX_ROWS) is written as Parquet only: the
    manifest says so under `csv_skipped`."""
    export_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    entries: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    try:
        for table in tables:
            relation = conn.sql(f'select * from "{table}" order by all')
            rows = int(conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])
            suffixes = ("parquet", "csv") if rows <= CSV_MAX_ROWS else ("parquet",)
            if rows > CSV_MAX_ROWS:
                skipped[table] = f"{rows:,} rows: more than a spreadsheet holds ({CSV_MAX_ROWS:,})"
            for suffix in suffixes:
                final = export_dir / f"{table}.{suffix}"
                temporary = export_dir / f".{table}.{suffix}.tmp-{os.getpid()}"
                if suffix == "parquet":
                    relation.write_parquet(str(temporary))
                else:
                    relation.write_csv(str(temporary))
                _fsync(temporary)
                staged.append((temporary, final))
                entries[final.name] = {"table": table, "rows": rows, "sha256": file_sha256(temporary)}
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in staged:
        os.replace(temporary, final)
    config_used = json.loads(
        json.dumps(asdict(config), default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
    )
    manifest = {
        "as_of": config.as_of.isoformat(),
        "written_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "config": config_used,
        "inputs": fingerprint_inputs(input_files),
        "files": entries,
        "csv_skipped": skipped,
    }
    write_atomically(export_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
