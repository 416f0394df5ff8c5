"""Load input files into DuckDB staging tables; every row is staged or quarantined with a reason."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from attribution.config import CSV_ENCODINGS, AttributionConfig
from attribution.contracts import MAX_AMOUNT, SOURCES, SourceSpec
from attribution.keys import register_name_key
from attribution.mapping import SourceMapping, column_key
from attribution.sql import bind_config, define_macros, drop_relation, read_sql

__all__ = [
    "InputFileError",
    "LoadResult",
    "create_ingest_tables",
    "ensure_loaded",
    "load_fx_rates",
    "load_opportunities",
    "load_source",
    "load_touchpoints",
    "prepare_connection",
    "resolve_paths",
    "stage_raw",
    "write_audit",
]

_PARQUET_SUFFIXES = (".parquet", ".pq")


class InputFileError(Exception):
    """An input file cannot be read at all: missing, unreadable, or without the required columns."""


@dataclass(frozen=True)
class LoadResult:
    """Row accounting of one load: raw = staged + quarantined + after as-of + excluded by the
    type filter (the last two counted and left out)."""

    source: str
    files: tuple[str, ...]
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    after_as_of_rows: int = 0
    excluded_rows: int = 0
    # a CRM object's touch rows without an account (kept in unmatched_touches, by reason)
    unmatched_rows: int = 0

    @property
    def balanced(self) -> bool:
        return self.raw_rows == (
            self.staged_rows
            + self.quarantined_rows
            + self.after_as_of_rows
            + self.excluded_rows
            + self.unmatched_rows
        )


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


_QUARANTINE_COLUMNS = ("source", "source_file", "source_row", "record", "reason", "loaded_at")
_AUDIT_COLUMNS = (
    "source",
    "files",
    "raw_rows",
    "staged_rows",
    "quarantined_rows",
    "after_as_of_rows",
    "excluded_rows",
    "unmatched_rows",
    "as_of",
    "loaded_at",
)
# the checked relation's bookkeeping columns; every other column is a staged column
_BOOKKEEPING = ("file_index", "source_row", "reason", "is_after_as_of", "is_excluded")


def _columns_of(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    return tuple(
        r[0]
        for r in conn.sql(
            "select column_name from information_schema.columns where table_name = ? "
            "and table_schema = 'main' order by ordinal_position",
            params=[table],
        ).fetchall()
    )


def create_ingest_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create `quarantine` and `load_audit` (sql/staging/) if they do not exist yet; a file
    written by an older version, with other columns, gets them afresh (both are rebuilt by
    every load)."""
    for table, columns in (("quarantine", _QUARANTINE_COLUMNS), ("load_audit", _AUDIT_COLUMNS)):
        present = _columns_of(conn, table)
        if present and present != columns:
            conn.sql(f"drop table {table}")
        conn.sql(read_sql(f"staging/{table}.sql"))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# a field up to 64 MB reads (DuckDB's default line limit is 2 MB: one long note failed a file)
MAX_LINE_BYTES = 64 * 1024 * 1024


def _read_csv(encoding: str) -> str:
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


def _is_parquet(path: str) -> bool:
    return path.lower().endswith(_PARQUET_SUFFIXES)


def _unreadable(what: str, kind: str, exc: duckdb.Error) -> InputFileError:
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
class _FileColumns:
    """How one file spells the contract's columns and the segment columns (dimension -> name),
    and whether it has columns beyond them."""

    names: dict[str, str]
    has_extra: bool
    segments: dict[str, str]


def _file_columns(
    conn: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    path: str,
    mapping: SourceMapping,
    segments: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> _FileColumns:
    """Read a file's header and find each contract column under its own name or a mapped one,
    and each segment column (dimension -> name set); a clear error naming the file if it is
    unreadable or lacks a required or a segment column."""
    parquet = _is_parquet(path)
    reader = "read_parquet(?)" if parquet else _read_csv(encoding)
    try:
        present = conn.sql(f"select * from {reader} limit 0", params=[path]).columns
    except duckdb.Error as exc:
        raise _unreadable(path, "Parquet" if parquet else "CSV", exc) from exc
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
    missing = [c for c in spec.required if c not in names]
    if missing:
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
        raise InputFileError(
            f"{path}: missing required column(s) {', '.join(missing)} for {spec.name} {advice}"
        )
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
    return _FileColumns(
        names=names,
        has_extra=bool(set(present) - set(names.values())),
        segments=segment_names,
    )


def _literal(value: object) -> str:
    """A SQL literal of a text, a list of texts or None (quotes doubled: never spliced raw)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]::varchar[]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def stage_raw(
    conn: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    files: list[str],
    mapping: SourceMapping,
    absent: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> int:
    """Collect every row of `files` into temp table `raw_<source>`: file_index, source_file,
    source_row (1-based within its file), the contract's columns as text and `segments`, a
    map of the segment columns (dimension -> text; empty when none is set).

    A column a file does not have reads as null, or as `absent[column]` when given (an absent
    currency column means the base currency). `record` (the whole row as JSON) is kept only
    for files with columns beyond the contract; otherwise the quarantine builds it from the
    contract columns, which are the whole row. Parquet files are read in one scan; CSV files
    one by one (row order = file order).
    """
    absent = absent or {}
    raw = f"raw_{spec.name}"
    columns = ", ".join(f"{_quote_ident(c)} varchar" for c in spec.columns)
    drop_relation(conn, raw)
    conn.sql(
        f"create temp table {raw} (file_index integer, source_file varchar, "
        f"source_row bigint, {columns}, segments map(varchar, varchar), record varchar)"
    )
    layouts = {path: _file_columns(conn, spec, path, mapping, segments, encoding) for path in files}
    dimensions = list(segments or {})

    def segment_map(names: dict[str, str], cast: bool, keys: str = "?") -> str:
        values = [
            f"cast({_quote_ident(names[d])} as varchar)" if cast else _quote_ident(names[d])
            for d in dimensions
        ]
        return f"map({keys}::varchar[], [{', '.join(values)}]::varchar[])"

    parquet = [p for p in files if _is_parquet(p)]
    if parquet:
        spelled: dict[str, str] = {}  # union_by_name: the first file's spelling names a column
        for path in parquet:
            for column, name in layouts[path].names.items():
                spelled.setdefault(column, name)
        selected_columns = []
        for c in spec.columns:
            value = f"cast({_quote_ident(spelled[c])} as varchar)" if c in spelled else "null"
            lacking = [p for p in parquet if c not in layouts[p].names]
            if c in absent and lacking:
                value = (
                    f"case when list_contains({_literal(lacking)}, filename) "
                    f"then {_literal(absent[c])} else {value} end"
                )
            selected_columns.append(f"{value} as {_quote_ident(c)}")
        spelled_segments: dict[str, str] = {}
        for path in parquet:
            for dimension, name in layouts[path].segments.items():
                spelled_segments.setdefault(dimension, name)
        # every value is a literal (quotes doubled): a view takes no parameters
        select = f"""
                select list_position({_literal(parquet)}, filename) - 1 as file_index,
                       filename as source_file, file_row_number + 1 as source_row,
                       {", ".join(selected_columns)},
                       {segment_map(spelled_segments, True, _literal(dimensions))} as segments,
                       null::varchar as record
                from read_parquet({_literal(parquet)}, union_by_name = true, filename = true,
                                  file_row_number = true)
                """
        try:
            if len(parquet) == len(files):
                # only Parquet: a view, so the validation reads the files' own (dictionary)
                # vectors instead of a copy of every row as text
                drop_relation(conn, raw)
                conn.sql(f"create temp view {raw} as {select}")
                return int(conn.sql(f"select count(*) from {raw}").fetchall()[0][0])
            conn.sql(f"insert into {raw} {select}")
        except duckdb.Error as exc:
            raise _unreadable(", ".join(parquet), "Parquet", exc) from exc
    for index, path in enumerate(files):
        if _is_parquet(path):
            continue
        layout = layouts[path]
        try:
            conn.sql(
                f"create or replace temp table _raw_file as select * from {_read_csv(encoding)}",
                params=[path],
            )
        except duckdb.Error as exc:
            raise _unreadable(path, "CSV", exc) from exc
        values: list[object] = [index, path]
        selected = []
        for c in spec.columns:
            if c in layout.names:
                selected.append(_quote_ident(layout.names[c]))
            elif c in absent:
                selected.append("?")
                values.append(absent[c])
            else:
                selected.append("null")
        record = "to_json(_raw_file)" if layout.has_extra else "null"
        values.append(dimensions)
        conn.sql(
            f"insert into {raw} select ?, ?, rowid + 1, {', '.join(selected)}, "
            f"{segment_map(layout.segments, False)}, {record} from _raw_file",
            params=values,
        )
    conn.sql("drop table if exists _raw_file")
    return int(conn.sql(f"select count(*) from {raw}").fetchall()[0][0])


def _checked_table(source: str) -> str:
    return f"_checked_{source}"


def _check(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, config: AttributionConfig) -> None:
    """Validate and type the raw rows into table `_checked_<source>` (a table of the
    database, not a temp table: its valid rows become `stg_<source>` in place), then mark
    the repeats of its id."""
    sql = read_sql(spec.staging_sql)
    params = bind_config(sql, config, {"max_amount": MAX_AMOUNT})
    conn.sql(f"create or replace table {_checked_table(spec.name)} as\n{sql}", params=params)
    if spec.unique_id is not None:
        _mark_duplicates(conn, spec.name, spec.unique_id)


def _mark_duplicates(conn: duckdb.DuckDBPyConnection, source: str, column: str) -> None:
    """Give reason duplicate_id to every valid checked row whose id an earlier valid row (by
    file, then row) has. Whether any id repeats is asked first, of the ids' hashes (a collision
    only costs the exact numbering), on the checked table: numbering every row, or a pass over
    the raw files before the check, cost a third of the validation at ten million touches."""
    checked, key = _checked_table(source), _quote_ident(column)
    repeated = conn.sql(
        f"select count(*) - count(distinct hash({key})) from {checked} where reason is null"
    ).fetchall()[0][0]
    if not repeated:
        return
    conn.sql(
        f"""
        update {checked} as checked set reason = 'duplicate_id'
        from (
            select file_index, source_row
            from (
                select
                    file_index,
                    source_row,
                    row_number() over (partition by {key} order by file_index, source_row) as occurrence
                from {checked}
                where reason is null
                    and {key} in (
                        select {key} from {checked} where reason is null group by {key} having count(*) > 1
                    )
            )
            where occurrence > 1
        ) as repeats
        where checked.file_index = repeats.file_index and checked.source_row = repeats.source_row
        """
    )


def _counts(conn: duckdb.DuckDBPyConnection, spec: SourceSpec) -> tuple[int, int, int, int]:
    """(staged, quarantined, after as-of, excluded) counts of the checked rows (a row is in
    one category: a reason first, then after as-of, then excluded)."""
    staged, quarantined, after_as_of, excluded = conn.sql(
        "select count(*) filter (where reason is null and not is_after_as_of and not is_excluded), "
        "count(*) filter (where reason is not null), "
        "count(*) filter (where reason is null and is_after_as_of), "
        "count(*) filter (where reason is null and not is_after_as_of and is_excluded) "
        f"from {_checked_table(spec.name)}"
    ).fetchall()[0]
    return int(staged), int(quarantined), int(after_as_of), int(excluded)


def _replace_staged(conn: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """Make the checked table `stg_<source>`: delete the rows that are not staged, drop the
    bookkeeping columns and rename it (no copy of the valid rows: at ten million touches
    the copy cost as much as the validation)."""
    checked = _checked_table(spec.name)
    conn.sql(f"delete from {checked} where reason is not null or is_after_as_of or is_excluded")
    for column in _BOOKKEEPING:
        conn.sql(f"alter table {checked} drop column {column}")
    conn.sql(f"drop table if exists stg_{spec.name}")
    conn.sql(f"alter table {checked} rename to stg_{spec.name}")


def _quarantine(
    conn: duckdb.DuckDBPyConnection, spec: SourceSpec, config: AttributionConfig, quarantined: int
) -> None:
    """Replace the source's quarantine rows: file, row, the row as JSON, reason (the raw rows
    are read again only when some row is quarantined)."""
    conn.sql("delete from quarantine where source = ?", params=[spec.name])
    if not quarantined:
        return
    row_json = (
        "to_json(struct_pack("
        + ", ".join(f"{_quote_ident(c)} := r.{_quote_ident(c)}" for c in spec.columns)
        + "))"
    )
    conn.sql(
        f"""
        insert into quarantine
        select ?, r.source_file, c.source_row, coalesce(r.record, {row_json}), c.reason, ?
        from {_checked_table(spec.name)} c
        inner join raw_{spec.name} r using (file_index, source_row)
        where c.reason is not null
        order by c.file_index, c.source_row
        """,
        params=[spec.name, config.as_of],
    )


def write_audit(conn: duckdb.DuckDBPyConnection, result: LoadResult, config: AttributionConfig) -> None:
    """Replace the source's load_audit row."""
    conn.sql("delete from load_audit where source = ?", params=[result.source])
    conn.sql(
        "insert into load_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params=[
            result.source,
            list(result.files),
            result.raw_rows,
            result.staged_rows,
            result.quarantined_rows,
            result.after_as_of_rows,
            result.excluded_rows,
            result.unmatched_rows,
            config.as_of,
            config.run_started_at,
        ],
    )


def prepare_connection(conn: duckdb.DuckDBPyConnection) -> None:
    """Make a connection ready to load: UTC session, name_key, the macros, the audit tables."""
    conn.sql("set TimeZone = 'UTC'")
    register_name_key(conn)
    define_macros(conn)
    create_ingest_tables(conn)


def _prepare_opportunities(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """The stage map the opportunities model joins: normalized label -> stage (the user's
    labels win over the defaults)."""
    labels = config.mapping.stage_labels()
    conn.sql(
        "create or replace temp table stage_map as "
        "select distinct on (stage_key(label)) stage_key(label) as stage_key, stage "
        "from (select unnest(?::varchar[]) as label, unnest(?::varchar[]) as stage, "
        "generate_subscripts(?::varchar[], 1) as i) order by stage_key(label), i desc",
        params=[list(labels), list(labels.values()), list(labels)],
    )
    motions = config.deal_motion_map()
    conn.sql(
        "create or replace temp table deal_motion_map as "
        "select unnest(?::varchar[]) as type_key, unnest(?::varchar[]) as motion",
        params=[list(motions), list(motions.values())],
    )


_SOURCE_SETUP = {"opportunities": _prepare_opportunities}


def ensure_loaded(conn: duckdb.DuckDBPyConnection, source: str, config: AttributionConfig) -> None:
    """Load `source` empty when it was never loaded (an optional input nobody gave)."""
    if not _columns_of(conn, f"stg_{source}"):
        load_source(conn, source, None, config)


def _stage_derived(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, derived: str) -> list[str]:
    """Make `raw_<source>` from a relation of rows derived from CRM objects (file_index,
    source_file, source_row, record and the contract's columns it has; the others null);
    return the files its rows come from."""
    present = set(conn.sql(f"select * from {derived} limit 0").columns)
    columns = ", ".join(
        f"cast({_quote_ident(c)} as varchar) as {_quote_ident(c)}"
        if c in present
        else f"null::varchar as {_quote_ident(c)}"
        for c in spec.columns
    )
    record = "cast(record as varchar)" if "record" in present else "null::varchar"
    raw = f"raw_{spec.name}"
    drop_relation(conn, raw)
    conn.sql(
        f"create temp table {raw} as select cast(file_index as integer) as file_index, source_file, "
        f"cast(source_row as bigint) as source_row, {columns}, "
        f"map([]::varchar[], []::varchar[]) as segments, {record} as record from {derived}"
    )
    return [r[0] for r in conn.sql(f"select distinct source_file from {raw} order by 1").fetchall()]


def _apply_channel_rules(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """Re-map the channel labels of a contract-format touchpoints file by the run's channel
    rules file (the label is the rules' channel_label; a label no rule matches is kept)."""
    from attribution.crm.channel_rules import load_checked_rules, normalized_fields_sql

    rules = load_checked_rules(conn, config.channel_rules)
    conn.sql(
        "create or replace temp table _channel_labels as "
        f"select label, {rules.channel_sql()} as ruled from (select label, "
        f"{normalized_fields_sql(('channel_label', 'touch_type'))} from (select distinct channel as "
        "label, channel as channel_label, touch_type from raw_touchpoints))"
    )
    conn.sql(
        "create or replace temp table _ruled_touchpoints as select raw.* replace (coalesce(nullif("
        "labels.ruled, '(unclassified)'), raw.channel) as channel) from raw_touchpoints as raw "
        "left join (select label, min(ruled) as ruled from _channel_labels group by label) as labels "
        "on labels.label = raw.channel"
    )
    drop_relation(conn, "raw_touchpoints")
    conn.sql("alter table _ruled_touchpoints rename to raw_touchpoints")
    conn.sql("drop table _channel_labels")


def load_source(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    paths: str | Path | Sequence[str | Path] | None,
    config: AttributionConfig,
    derived: str | None = None,
) -> LoadResult:
    """Load every row of a source's files (no files: an empty source) into `stg_<source>`,
    each row staged, quarantined with a reason or counted as after as-of, in one
    transaction; a source it needs that was never loaded is loaded empty first. `derived`:
    the rows come from that relation (touches, roles, milestones derived from CRM objects,
    each with its object file and row) instead of files."""
    spec = SOURCES[source]
    prepare_connection(conn)
    for needed in spec.needs:
        ensure_loaded(conn, needed, config)
    files = resolve_paths(paths) if paths and derived is None else []
    absent = {column: str(getattr(config, field)) for column, field in spec.absent_from_config}
    segments: dict[str, str] = {}
    layout_spec = spec
    if source == "opportunities":
        segments = config.segment_dimensions
        if config.filters_opportunity_types:  # the type filter needs the type in every file
            layout_spec = replace(
                spec,
                required=(*spec.required, "opportunity_type"),
                optional=tuple(c for c in spec.optional if c != "opportunity_type"),
            )
    if derived is not None:
        files = _stage_derived(conn, spec, derived)
        raw_rows = int(conn.sql(f"select count(*) from raw_{source}").fetchall()[0][0])
    else:
        raw_rows = stage_raw(conn, layout_spec, files, config.mapping, absent, segments, config.csv_encoding)
        if source == "touchpoints" and config.channel_rules and config.source_format == "contract":
            _apply_channel_rules(conn, config)
    if source in _SOURCE_SETUP:
        _SOURCE_SETUP[source](conn, config)
    _check(conn, spec, config)
    staged, quarantined, after_as_of, excluded = _counts(conn, spec)
    result = LoadResult(source, tuple(files), raw_rows, staged, quarantined, after_as_of, excluded)
    conn.sql("begin transaction")
    try:
        _quarantine(conn, spec, config, quarantined)
        write_audit(conn, result, config)
        _replace_staged(conn, spec)
        conn.sql("commit")
    except BaseException:
        conn.sql("rollback")
        raise
    conn.sql(f"drop table if exists {_checked_table(source)}")  # left by a rollback
    drop_relation(conn, f"raw_{source}")
    return result


def load_fx_rates(
    conn: duckdb.DuckDBPyConnection,
    paths: str | Path | Sequence[str | Path] | None,
    config: AttributionConfig,
) -> LoadResult:
    """`load_source(conn, "fx_rates", ...)`: rates to the base currency (no file: only the
    base currency converts)."""
    return load_source(conn, "fx_rates", paths, config)


def load_opportunities(
    conn: duckdb.DuckDBPyConnection, paths: str | Path | Sequence[str | Path], config: AttributionConfig
) -> LoadResult:
    """`load_source(conn, "opportunities", ...)`: opportunities as they stood at as-of."""
    return load_source(conn, "opportunities", paths, config)


def load_touchpoints(
    conn: duckdb.DuckDBPyConnection, paths: str | Path | Sequence[str | Path], config: AttributionConfig
) -> LoadResult:
    """`load_source(conn, "touchpoints", ...)`: every touch of the files, whatever its date."""
    return load_source(conn, "touchpoints", paths, config)
