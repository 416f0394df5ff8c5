"""Load input files into DuckDB staging tables; every row is staged or quarantined with a reason.

The package: files.py (which files, how read), staging.py (raw text -> checked -> staged or
quarantined), audit.py (quarantine, load_audit, LoadResult); here the per-source load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.contracts import SOURCES, SourceSpec
from attribution.ingest.audit import LoadResult, columns_of, create_ingest_tables, write_audit
from attribution.ingest.files import InputFileError, quote_ident, resolve_paths
from attribution.ingest.staging import (
    check_rows,
    checked_table,
    load_counts,
    quarantine_rows,
    replace_staged,
    stage_raw,
)
from attribution.keys import register_name_key
from attribution.sql import define_macros, drop_relation

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


def prepare_connection(conn: duckdb.DuckDBPyConnection) -> None:
    """Make a connection ready to load: UTC session, name_key, the macros, the audit tables."""
    conn.sql("set TimeZone = 'UTC'")
    register_name_key(conn)
    define_macros(conn)
    create_ingest_tables(conn)


def _create_stage_map(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """The stage map: normalized label -> stage (the user's labels win over the defaults)."""
    labels = config.mapping.stage_labels()
    conn.sql(
        "create or replace temp table stage_map as "
        "select distinct on (stage_key(label)) stage_key(label) as stage_key, stage "
        "from (select unnest(?::varchar[]) as label, unnest(?::varchar[]) as stage, "
        "generate_subscripts(?::varchar[], 1) as i) order by stage_key(label), i desc",
        params=[list(labels), list(labels.values()), list(labels)],
    )


# per deal with history rows up to as-of: its outcome then (its latest row's stage), since
# when (changed_at: the first row after its last row of another outcome, so an amount change
# after a close does not move the close), its last amount given in the deal's currency (a row
# in another currency keeps the one before: the deal's amount is read in its own currency) and
# when it first reached the qualification stage or a later one
_AT_AS_OF = """
with rows as (
    select
        history.*,
        arg_max(history.stage_outcome, [epoch_us(history.changed_at), history.stage_position])
            over (partition by history.opportunity_id) as final_outcome,
        history.currency is null or history.currency = deals.currency as is_deal_currency
    from {history} as history
    left join stg_opportunities as deals using (opportunity_id)
),
marked as (
    select *, max(case when stage_outcome <> final_outcome then changed_at end)
        over (partition by opportunity_id) as left_other_at
    from rows
)
select
    opportunity_id,
    any_value(final_outcome) as stage_outcome,
    min(changed_at) filter (where left_other_at is null or changed_at > left_other_at) as changed_at,
    arg_max(amount, changed_at) filter (where amount is not null and is_deal_currency) as amount,
    min(changed_at) filter (where stage_position >= {qualified}) as qualified_at
from marked
group by opportunity_id
"""


def _prepare_opportunities(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """What the opportunities model joins: the stage map, each deal at as-of from this run's
    history, the deal motions of opportunity types."""
    _create_stage_map(conn, config)
    # each deal's latest staged change (all up to as-of): its stage and last given amount at
    # as-of, which the opportunities model takes over the export's, and when it first reached
    # the qualification stage or a later one (qualified_at); empty unless this run's
    # history was just staged (attribution.inputs sets the variable to stage them again)
    use_history = conn.execute("select getvariable('attribution_restage_with_history')").fetchall() == [
        (True,)
    ]
    history = (
        "stg_opportunity_history" if use_history and columns_of(conn, "stg_opportunity_history") else None
    )
    conn.sql(
        "create or replace temp table opportunity_at_as_of as "
        + (
            _AT_AS_OF.format(history=history, qualified=int(config.qualified_position))
            if history
            else "select null::varchar as opportunity_id, null::varchar as stage_outcome, "
            "null::timestamp as changed_at, null::double as amount, null::timestamp as qualified_at where false"
        )
    )
    motions = config.deal_motion_map()
    conn.sql(
        "create or replace temp table deal_motion_map as "
        "select unnest(?::varchar[]) as type_key, unnest(?::varchar[]) as motion",
        params=[list(motions), list(motions.values())],
    )


def _prepare_history(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """The stage map and `int_funnel_stages` (the funnel's stages in order: position, key,
    label and what the stage means) the opportunity history model and the funnel join."""
    _create_stage_map(conn, config)
    # written by the opportunities' load (absent in a file an older version wrote)
    conn.sql(f"create table if not exists {EXCLUDED_OPPORTUNITIES} (opportunity_id varchar)")
    labels = list(config.funnel_stages)
    conn.sql(
        "create or replace table int_funnel_stages as "
        "select position as stage_position, stage_key(label) as stage_key, label as stage_label, "
        "coalesce(stage_map.stage, 'open') as stage_outcome "
        "from (select unnest(?::varchar[]) as label, generate_subscripts(?::varchar[], 1) as position) "
        "left join stage_map on stage_map.stage_key = stage_key(label) order by position",
        params=[labels, labels],
    )


# the ids of the opportunities the type filter left out (counted, not staged): their history
# rows are counted as excluded, not quarantined as of an unknown opportunity
EXCLUDED_OPPORTUNITIES = "_excluded_opportunities"

_SOURCE_SETUP = {"opportunities": _prepare_opportunities, "opportunity_history": _prepare_history}


def ensure_loaded(conn: duckdb.DuckDBPyConnection, source: str, config: AttributionConfig) -> None:
    """Load `source` empty when it was never loaded (an optional input nobody gave)."""
    if not columns_of(conn, f"stg_{source}"):
        load_source(conn, source, None, config)


def _stage_derived(conn: duckdb.DuckDBPyConnection, spec: SourceSpec, derived: str) -> list[str]:
    """Make `raw_<source>` from a relation of rows derived from CRM objects (file_index,
    source_file, source_row, record and the contract's columns it has; the others null);
    return the files its rows come from."""
    present = set(conn.sql(f"select * from {derived} limit 0").columns)
    columns = ", ".join(
        f"cast({quote_ident(c)} as varchar) as {quote_ident(c)}"
        if c in present
        else f"null::varchar as {quote_ident(c)}"
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

    rules = load_checked_rules(conn, config.source.channel_rules)
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
    absent = {column: str(config.setting(name)) for column, name in spec.absent_from_config}
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
        raw_rows = stage_raw(
            conn, layout_spec, files, config.mapping, absent, segments, config.source.csv_encoding
        )
        if source == "touchpoints" and config.source.channel_rules and config.source.format == "contract":
            _apply_channel_rules(conn, config)
    if source in _SOURCE_SETUP:
        _SOURCE_SETUP[source](conn, config)
    check_rows(conn, spec, config)
    staged, quarantined, after_as_of, excluded = load_counts(conn, spec)
    result = LoadResult(source, tuple(files), raw_rows, staged, quarantined, after_as_of, excluded)
    conn.sql("begin transaction")
    try:
        quarantine_rows(conn, spec, config, quarantined)
        write_audit(conn, result, config)
        if source == "opportunities":  # their history rows are counted as excluded too
            conn.sql(
                f"create or replace table {EXCLUDED_OPPORTUNITIES} as select distinct opportunity_id "
                f"from {checked_table(source)} where reason is null and not is_after_as_of and is_excluded"
            )
        replace_staged(conn, spec)
        conn.sql("commit")
    except BaseException:
        conn.sql("rollback")
        raise
    conn.sql(f"drop table if exists {checked_table(source)}")  # left by a rollback
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
