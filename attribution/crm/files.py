"""CRM object export files: which file is which object (by its name, or its folder's under the
export root), and their staging into `crm_<crm>_<object>` tables, every row kept with its
file and row number."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.crm.objects import CRM_OBJECTS
from attribution.ingest import InputFileError, resolve_paths, stage_raw
from attribution.mapping import column_key
from attribution.sql import drop_relation

__all__ = ["discover_objects", "stage_objects"]

# the files an export folder is read for
_SUFFIXES = (".csv", ".parquet", ".pq")


def _object_key(path: str, root: str | None) -> str:
    """The name a file goes by: its folder's name when it sits in a folder of its own under the
    export root (warehouse loaders: campaign_member/part-0.parquet), else its stem."""
    relative = os.path.relpath(path, root) if root else os.path.basename(path)
    parts = Path(relative).parts
    name = parts[0] if len(parts) > 1 else Path(path).name.split(".")[0]
    return column_key(name)


def discover_objects(location: str | Sequence[str], crm: str) -> tuple[dict[str, list[str]], list[str]]:
    """The object files of an export folder (or glob): object name -> its files (a name's key
    starting with an object's file key, the longest key first: CampaignMember before Campaign),
    and the files no object of `crm` claims (reported, not read)."""
    items = [location] if isinstance(location, str) else list(location)
    files: list[str] = []
    roots: dict[str, str | None] = {}
    for item in items:
        if os.path.isdir(item):
            found = sorted(
                os.path.join(d, f)
                for d, _, names in os.walk(item)
                for f in names
                if f.lower().endswith(_SUFFIXES)
            )
            if not found:
                raise InputFileError(f"{item}: no CSV or Parquet file in this folder")
            for path in found:
                roots[path] = item
            files.extend(found)
        else:
            for path in resolve_paths(item):
                roots.setdefault(path, None)
                files.append(path)
    keys = sorted(
        ((key, spec.name) for spec in CRM_OBJECTS[crm] for key in spec.file_keys),
        key=lambda pair: -len(pair[0]),
    )
    claimed: dict[str, list[str]] = {}
    unused: list[str] = []
    for path in dict.fromkeys(files):
        key = _object_key(path, roots[path])
        owner = next((name for k, name in keys if key.startswith(k)), None)
        if owner is None:
            unused.append(path)
        else:
            claimed.setdefault(owner, []).append(path)
    return claimed, unused


def stage_objects(
    conn: duckdb.DuckDBPyConnection, crm: str, files: dict[str, list[str]], config: AttributionConfig
) -> dict[str, int]:
    """Read every object file of `files` (object name -> files) into `crm_<crm>_<object>`:
    file_index, source_file, source_row, the object's columns as text (Salesforce record ids as
    18 characters), `record` (the whole row as JSON when the file has other columns too); an
    object without files is an empty table. Return raw rows by object."""
    counts: dict[str, int] = {}
    for spec in CRM_OBJECTS[crm]:
        if spec.kind == "opportunities":
            continue
        source = spec.source_spec()
        stage_raw(conn, source, files.get(spec.name, []), spec.mapping(), encoding=config.source.csv_encoding)
        normalized = ", ".join(
            f"sfdc_id({c}) as {c}" if c in spec.record_ids else c for c in (c for c, _ in spec.columns)
        )
        conn.sql(
            f"create or replace table {spec.table} as select file_index, source_file, source_row, "
            f"{normalized}, record from raw_{spec.table} order by file_index, source_row"
        )
        drop_relation(conn, f"raw_{spec.table}")
        counts[spec.name] = int(conn.sql(f"select count(*) from {spec.table}").fetchall()[0][0])
    return counts
