"""Input files: which files a path or glob names, how each is read (CSV or Parquet, its
encoding and header), and the clear error when one cannot be."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from attribution.config import CSV_ENCODINGS
from attribution.contracts import SOURCES, SourceSpec
from attribution.mapping import SourceMapping, column_key

__all__ = [
    "MAX_LINE_BYTES",
    "FileColumns",
    "InputFileError",
    "file_columns",
    "is_parquet",
    "quote_ident",
    "read_csv",
    "resolve_paths",
    "sql_literal",
    "unreadable",
]


_PARQUET_SUFFIXES = (".parquet", ".pq")


class InputFileError(Exception):
    """An input file cannot be read at all: missing, unreadable, or without the required columns."""


def resolve_paths(paths: str | Path | Sequence[str | Path]) -> list[str]:
    """Expand globs into a sorted, de-duplicated file list; a pattern matching nothing is an error."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[str] = []
    for item in items:
        text = str(item)
        if glob.has_magic(text) and not os.path.exists(text):
            matched = sorted(glob.glob(text, recursive=True))
            if not matched:
                raise InputFileError(f"{text}: no file matches this pattern")
            files.extend(matched)
        else:
            if not os.path.isfile(text):
                raise InputFileError(f"{text}: file not found")
            files.append(text)
    return list(dict.fromkeys(files))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# a field up to 64 MB reads (DuckDB's default line limit is 2 MB: one long note failed a file)
MAX_LINE_BYTES = 64 * 1024 * 1024


def read_csv(encoding: str) -> str:
    """The CSV reader of one file (the path a parameter; the encoding one of CSV_ENCODINGS)."""
    if encoding not in CSV_ENCODINGS:
        raise InputFileError(f"csv_encoding must be one of {', '.join(CSV_ENCODINGS)}, got {encoding!r}")
    return (
        f"read_csv(?, all_varchar = true, header = true, encoding = '{encoding}', "
        f"max_line_size = {MAX_LINE_BYTES})"
    )


def _first_undecodable_line(path: str) -> int | None:
    """The 1-based line of a file's first byte that is not UTF-8 (None when all are)."""
    line, carry = 1, b""
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            data = carry + block
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.end < len(data) or exc.reason != "unexpected end of data":
                    return line + data[: exc.start].count(b"\n")
                carry = data[exc.start :]
                data = data[: exc.start]
            line += data.count(b"\n")
    return None


def is_parquet(path: str) -> bool:
    return path.lower().endswith(_PARQUET_SUFFIXES)


def unreadable(what: str, kind: str, exc: duckdb.Error) -> InputFileError:
    """The clear error for a file DuckDB cannot read: the file(s), the format, DuckDB's reason
    (its quoted line and reader settings left out: a line may be megabytes long), the real line
    and what to do."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    reasons = [
        line.strip()[:300]
        for line in lines[1:]
        if line.strip() and not line.startswith(("Original Line", "Possible Solution", "  "))
    ]
    head = lines[0].split("CSV Error on Line:")[0].strip(" :") or lines[0][:300]
    text = "; ".join([head, *reasons]) if reasons else lines[0][:300]
    advice = ""
    if kind == "CSV" and ("unicode" in text.lower() or "utf-8" in text.lower()):
        found = _first_undecodable_line(what) if os.path.isfile(what) else None
        where = f" (first at line {found})" if found else ""
        advice = (
            f": the file is not UTF-8{where}; re-export it as UTF-8 (CSV UTF-8 in Excel), or set "
            f"csv_encoding to one of {', '.join(CSV_ENCODINGS)}"
        )
    elif "maximum line size" in text.lower():
        advice = f": a line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB; split or trim that field"
    return InputFileError(f"{what}: cannot be read as {kind}: {text}{advice}")


def _duplicated_header(path: str, names: list[str], encoding: str) -> None:
    """Fail naming the column when a CSV header has a column used here twice (DuckDB would
    rename the second, and the first would be used silently)."""
    try:
        with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as handle:
            header = next(csv.reader(handle), [])
    except (UnicodeError, csv.Error, OSError):
        return  # DuckDB's reader reports what is wrong with the file
    seen: dict[str, str] = {}
    wanted = {column_key(name) for name in names}
    for name in header:
        key = column_key(name)
        if key in wanted and key in seen:
            raise InputFileError(
                f"{path}: the header has the column {name!r} twice (as {seen[key]!r} and {name!r}); "
                "remove or rename one so it is clear which to read"
            )
        seen.setdefault(key, name)


@dataclass(frozen=True)
class FileColumns:
    """How one file spells the contract's columns and the segment columns (dimension -> name),
    and whether it has columns beyond them."""

    names: dict[str, str]
    has_extra: bool
    segments: dict[str, str]


def _require_columns(
    spec: SourceSpec, path: str, mapping: SourceMapping, names: dict[str, str], present: list[str]
) -> None:
    """A clear error naming the file, the missing required columns and the names tried."""
    missing = [c for c in spec.required if c not in names]
    if not missing:
        return
    tried = "; ".join(f"{c}: {' / '.join(mapping.aliases(spec.name, c))}" for c in missing)
    advice = (
        f"(column preset {mapping.preset!r}{', mapping ' + mapping.file if mapping.file else ''}; "
        f"names tried: {tried}); found {', '.join(present) or 'no columns'}. Set "
        "ATTRIBUTION_COLUMN_PRESET (salesforce, hubspot) or map the columns in an "
        "ATTRIBUTION_MAPPING file."
        if spec.name in SOURCES
        else f"(names tried: {tried}); found {', '.join(present) or 'no columns'}. Export the "
        "object with these fields (API names or report labels)."
    )
    raise InputFileError(f"{path}: missing required column(s) {', '.join(missing)} for {spec.name} {advice}")


def file_columns(
    conn: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    path: str,
    mapping: SourceMapping,
    segments: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> FileColumns:
    """Read a file's header and find each contract column under its own name or a mapped one,
    and each segment column (dimension -> name set); a clear error naming the file if it is
    unreadable or lacks a required or a segment column."""
    parquet = is_parquet(path)
    reader = "read_parquet(?)" if parquet else read_csv(encoding)
    try:
        present = conn.sql(f"select * from {reader} limit 0", params=[path]).columns
    except duckdb.Error as exc:
        raise unreadable(path, "Parquet" if parquet else "CSV", exc) from exc
    if not parquet:
        used = [a for column in spec.columns for a in mapping.aliases(spec.name, column)]
        _duplicated_header(path, [*used, *(segments or {}).values()], encoding)
    by_key: dict[str, str] = {}
    for name in present:
        by_key.setdefault(column_key(name), name)
    names: dict[str, str] = {}
    for column in spec.columns:
        for alias in mapping.aliases(spec.name, column):
            if column_key(alias) in by_key:
                names[column] = by_key[column_key(alias)]
                break
    _require_columns(spec, path, mapping, names, present)
    segment_names = {
        dimension: by_key[column_key(name)]
        for dimension, name in (segments or {}).items()
        if column_key(name) in by_key
    }
    unknown = [name for dimension, name in (segments or {}).items() if dimension not in segment_names]
    if unknown:
        raise InputFileError(
            f"{path}: no column {', '.join(map(repr, unknown))} for the segment dimensions of "
            f"{spec.name} (setting segment_columns / ATTRIBUTION_SEGMENT_COLUMNS); found "
            f"{', '.join(present) or 'no columns'}"
        )
    return FileColumns(
        names=names,
        has_extra=bool(set(present) - set(names.values())),
        segments=segment_names,
    )


def sql_literal(value: object) -> str:
    """A SQL literal of a text, a list of texts or None (quotes doubled: never spliced raw)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]::varchar[]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")
