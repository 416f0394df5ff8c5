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
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from attribution.config import AttributionConfig
from attribution.steps import MART_TABLES

__all__ = [
    "CSV_MAX_ROWS",
    "EXIT_EXPORT_FAILED",
    "EXPORT_TABLES",
    "MANIFEST",
    "ExportError",
    "csv_safe_select",
    "export_marts",
    "file_sha256",
    "fingerprint_inputs",
    "remove_stale_temporaries",
    "write_atomically",
]

# the finance-facing marts (not the int_ helpers), the credits and the Markov effects
EXPORT_TABLES: tuple[str, ...] = (
    *(t for t in MART_TABLES if not t.startswith("int_")),
    "mart_attribution_credits",
    "mart_markov_removal_effects",
    "mart_shapley_channel_values",
    "mart_markov_order_selection",
    "mart_restatements",
    "mart_velocity_intervals",
    "mart_experiment_results",
    "mart_experiment_vs_attribution",
    "mart_lift_tests_pymc",
    "mart_lift_tests_robyn",
)
MANIFEST = "manifest.json"
# Excel's row limit: a CSV longer than this opens in no spreadsheet (the credits at ten
# million touches are 37 million rows, 7 GB of CSV); such a table is exported as Parquet only
CSV_MAX_ROWS = 1_048_576
EXPORT_SORTED = "export_sorted_rows"  # one table's rows sorted once for its Parquet and CSV
# a text cell a spreadsheet would read as a formula starts with one of these (OWASP, CSV
# injection); the CSV exports prefix such a cell with a single quote
FORMULA_PREFIX = "^[=+\\-@\t\r]"
# the exit code of a command whose export folder cannot be written (sysexits' EX_CANTCREAT)
EXIT_EXPORT_FAILED = 73
_TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)$")


class ExportError(Exception):
    """The export folder cannot be written: one line naming the path and the cause."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(export_dir: Path) -> list[Path]:
    """Delete the temporary files (`.<name>.tmp-<pid>`) a killed run left in `export_dir`
    (those of a live process stay); return what was removed."""
    removed: list[Path] = []
    if not export_dir.is_dir():
        return removed
    for path in export_dir.iterdir():
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _prepare_folder(export_dir: Path) -> None:
    """Create the export folder and prove it writable, or raise ExportError naming why."""
    if export_dir.exists() and not export_dir.is_dir():
        raise ExportError(f"{export_dir}: the export folder is a file; remove it or choose another folder")
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
        probe = export_dir / f".write-test.tmp-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ExportError(
            f"{export_dir}: cannot write the export folder ({exc.strerror or exc}); check its "
            "permissions or choose another folder (ATTRIBUTION_EXPORT_DIR, --export-dir, run file "
            "[outputs] export_dir)"
        ) from exc


def csv_safe_select(conn: duckdb.DuckDBPyConnection, table: str, ordered: bool = True) -> str:
    """A select of `table` whose text columns have every cell that a spreadsheet would run as
    a formula (leading =, +, -, @, tab, carriage return) prefixed with a single quote; sorted
    by every column unless `ordered` is False (the table's own order)."""
    columns = []
    for name, dtype, *_ in conn.sql(f'describe "{table}"').fetchall():
        quoted = '"' + str(name).replace('"', '""') + '"'
        if str(dtype) == "VARCHAR":
            columns.append(
                f"case when regexp_matches({quoted}, '{FORMULA_PREFIX}') then '''' || {quoted} "
                f"else {quoted} end as {quoted}"
            )
        else:
            columns.append(quoted)
    return f'select {", ".join(columns)} from "{table}"' + (" order by all" if ordered else "")


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
    """Write `text` to a temporary file beside `path`, fsync it, then rename it into place
    (ExportError naming the path and the cause when the folder cannot be written)."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        _fsync(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


def _stage_files(
    conn: duckdb.DuckDBPyConnection, export_dir: Path, tables: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Write every table's files as temporaries, then rename them into place: (the manifest's
    entries, the tables written as Parquet only). A failure removes the
    temporaries and raises ExportError; the previous set is untouched until the renames."""
    staged: list[tuple[Path, Path]] = []
    entries: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    try:
        for table in tables:
            rows = int(conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])
            if rows > CSV_MAX_ROWS:
                skipped[table] = f"{rows:,} rows: more than a spreadsheet holds ({CSV_MAX_ROWS:,})"
                writes = [("parquet", conn.sql(f'select * from "{table}" order by all'))]
            else:
                # sorted once for both files (a temporary table keeps its insertion order)
                conn.execute(
                    f'create or replace temp table {EXPORT_SORTED} as select * from "{table}" order by all'
                )
                writes = [
                    ("parquet", conn.sql(f"select * from {EXPORT_SORTED}")),
                    ("csv", conn.sql(csv_safe_select(conn, EXPORT_SORTED, ordered=False))),
                ]
            for suffix, relation in writes:
                final = export_dir / f"{table}.{suffix}"
                temporary = export_dir / f".{table}.{suffix}.tmp-{os.getpid()}"
                if suffix == "parquet":
                    relation.write_parquet(str(temporary))
                else:
                    relation.write_csv(str(temporary))
                _fsync(temporary)
                staged.append((temporary, final))
                entries[final.name] = {"table": table, "rows": rows, "sha256": file_sha256(temporary)}
    except BaseException as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError | duckdb.IOException):
            raise ExportError(
                f"{export_dir}: writing the exports failed ({exc}); nothing was replaced"
            ) from exc
        raise
    finally:
        conn.execute(f"drop table if exists {EXPORT_SORTED}")
    try:
        for temporary, final in staged:
            os.replace(temporary, final)
    except OSError as exc:
        raise ExportError(f"{export_dir}: renaming the exports into place failed ({exc})") from exc
    return entries, skipped


def export_marts(
    conn: duckdb.DuckDBPyConnection,
    export_dir: Path,
    config: AttributionConfig,
    input_files: Sequence[str] = (),
    tables: Sequence[str] = EXPORT_TABLES,
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write each table as `<table>.parquet` and `<table>.csv` under `export_dir` (rows in a
    stable order, so the same tables give byte-identical files) and return the manifest
    (with `run`: the run file and where each input and setting came from).
    A table longer than a spreadsheet holds (CSV_MAX_ROWS) is written as Parquet only: the
    manifest says so under `csv_skipped`. CSV text cells that would run as a spreadsheet
    formula get a leading single quote; Parquet keeps the exact text. An export folder that
    cannot be written raises ExportError (nothing of the previous set is touched)."""
    _prepare_folder(export_dir)
    remove_stale_temporaries(export_dir)
    entries, skipped = _stage_files(conn, export_dir, tables)
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
        "run": dict(run or {}),
    }
    write_atomically(export_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
