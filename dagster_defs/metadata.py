"""Asset metadata: row count, column schema with the glossary's descriptions, markdown preview."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from attribution.glossary import COLUMN_DESCRIPTIONS

__all__ = ["markdown_rows", "markdown_table", "markdown_text", "table_metadata"]


# characters markdown or HTML would read as syntax: written as entities, so a campaign
# 'x|y' stays one cell and '<b>' or '**' in a name shows as typed
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "&#124;",
        "\\": "&#92;",
        "`": "&#96;",
        "*": "&#42;",
        "[": "&#91;",
        "]": "&#93;",
        "~": "&#126;",
        "\n": " ",
        "\r": " ",
    }
)


def markdown_text(value: object) -> str:
    """A value as literal text inside markdown (every markdown and HTML character escaped)."""
    return str(value).translate(_ESCAPES)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return markdown_text(value)


def markdown_table(frame: pl.DataFrame) -> str:
    """A frame as a GitHub-flavoured markdown table, every cell and header escaped."""
    return markdown_rows(frame.columns, frame.iter_rows())


def markdown_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows of values under these column names as a markdown table (see markdown_table)."""
    header = "| " + " | ".join(markdown_text(c) for c in columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def table_metadata(
    conn: duckdb.DuckDBPyConnection, table: str, preview_rows: int = 10, row_count: int | None = None
) -> dict[str, Any]:
    """Standard metadata of one of our tables (the name is ours, never user input); `row_count`
    when the caller knows it (a view that costs a full computation to count)."""
    # the preview's relation carries the schema: no describe, no frame (two statements a table)
    preview = conn.sql(f'select * from "{table}" limit {int(preview_rows)}')
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=str(dtype), description=COLUMN_DESCRIPTIONS.get(name))
            for name, dtype in zip(preview.columns, preview.types, strict=True)
        ]
    )
    if row_count is None:
        row_count = int(conn.sql(f'select count(*) from "{table}"').fetchall()[0][0])
    return {
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "dagster/column_schema": schema,
        "dagster/table_name": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(markdown_rows(preview.columns, preview.fetchall())),
    }
