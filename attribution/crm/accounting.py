"""The accounting of CRM object rows: each row's reason, the object rows' quarantine, and one
load_audit result per object (raw rows = staged + quarantined + excluded + unmatched)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from attribution.config import AttributionConfig
from attribution.crm.objects import ObjectSpec
from attribution.ingest import LoadResult

__all__ = ["mark_object_rows", "object_result", "quarantine_object", "reference_result"]


def mark_object_rows(conn: duckdb.DuckDBPyConnection, spec: ObjectSpec) -> None:
    """Give each row of an object table its own reason: missing_required (a required column
    blank), then duplicate_id (an earlier valid row by file and row has its id)."""
    required = " or ".join(f"nullif(trim({c}), '') is null" for c in spec.required) or "false"
    duplicate = "null"
    if spec.id_column:
        duplicate = (
            "case when row_number() over (partition by "
            f"{spec.id_column}, ({required}) order by file_index, source_row) > 1 then 'duplicate_id' end"
        )
    conn.sql(
        f"create or replace table {spec.table} as select *, "
        f"case when {required} then 'missing_required' else {duplicate} end as reason "
        f"from {spec.table} order by file_index, source_row"
    )


def quarantine_object(
    conn: duckdb.DuckDBPyConnection, source: str, relation: str, where: str, config: AttributionConfig
) -> None:
    """Replace the quarantine rows of `source` with the rows of `relation` holding a reason."""
    conn.sql("delete from quarantine where source = ?", params=[source])
    conn.sql(
        f"insert into quarantine select ?, source_file, source_row, coalesce(record, to_json(r)::varchar), "
        f"reason, ? from {relation} as r where reason is not null and {where} order by source_file, source_row",
        params=[source, config.as_of],
    )


def object_result(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    files: Sequence[str],
    relation: str,
    where: str = "true",
) -> LoadResult:
    """An object's load_audit result from the rows of `relation` (`where`): staged, quarantined,
    excluded by the settings, or without an account (unmatched)."""
    raw, staged, quarantined, excluded, unmatched = conn.sql(
        "select count(*), "
        "count(*) filter (where reason is null and not coalesce(is_excluded, false) "
        "and unmatched_reason is null), "
        "count(*) filter (where reason is not null), "
        "count(*) filter (where reason is null and coalesce(is_excluded, false)), "
        "count(*) filter (where reason is null and not coalesce(is_excluded, false) "
        f"and unmatched_reason is not null) from {relation} where {where}"
    ).fetchall()[0]
    return LoadResult(
        source,
        tuple(files),
        int(raw),
        int(staged),
        int(quarantined),
        excluded_rows=int(excluded),
        unmatched_rows=int(unmatched),
    )


def reference_result(
    conn: duckdb.DuckDBPyConnection, spec: ObjectSpec, files: Sequence[str], excluded: bool = False
) -> LoadResult:
    """A reference object's accounting: valid rows staged (in its crm_ table), the others
    quarantined; `excluded`: an object the settings leave out (sales activities off)."""
    raw, quarantined = conn.sql(
        f"select count(*), count(*) filter (where reason is not null) from {spec.table}"
    ).fetchall()[0]
    if excluded:
        return LoadResult(spec.source, tuple(files), int(raw), 0, 0, excluded_rows=int(raw))
    return LoadResult(spec.source, tuple(files), int(raw), int(raw) - int(quarantined), int(quarantined))
