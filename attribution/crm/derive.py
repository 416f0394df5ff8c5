"""From a folder of CRM object exports (and web events) to the contract's inputs: every object
row staged or quarantined, every touch row a touch, an unmatched touch (by reason) or
excluded, each touch traceable to its object, file, row and record id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.crm.accounting import mark_object_rows, object_result, quarantine_object, reference_result
from attribution.crm.channel_rules import RULE_FIELDS, UNCLASSIFIED, load_checked_rules, normalized_fields_sql
from attribution.crm.files import discover_objects, stage_objects
from attribution.crm.objects import CRM_OBJECTS
from attribution.ingest import InputFileError, LoadResult, prepare_connection, resolve_paths, write_audit
from attribution.sql import bind_config, read_sql, table_exists

__all__ = ["FREE_MAIL_FILE", "CrmInputs", "crm_of", "derive_inputs"]

FREE_MAIL_FILE = Path(__file__).with_name("free_mail_domains.txt")
# the touches, roles and milestones ingest loads in place of files (temp tables)
DERIVED_TOUCHES = "derived_touchpoints"
DERIVED_ROLES = "derived_contact_roles"
DERIVED_MILESTONES = "derived_milestones"
_TOUCH_COLUMNS = (
    "source_object",
    "source_file",
    "source_row",
    "source_id",
    "reason",
    "unmatched_reason",
    "identity_method",
    "touchpoint_id",
    "occurred_at",
    "account_id",
    "contact_id",
    "campaign",
    "touch_type",
    "is_excluded",
    "record",
)


@dataclass(frozen=True)
class CrmInputs:
    """What a CRM objects folder gave: the opportunity files (for the opportunities loader with
    the CRM's column preset), the object loads (one audit row each; the files no object claims
    under `<crm>.(not recognized)`, none of their rows read) and whether contact roles were
    exported."""

    crm: str
    opportunity_files: tuple[str, ...]
    objects: tuple[LoadResult, ...]
    has_contact_roles: bool


def crm_of(source_format: str) -> str:
    """The CRM of an objects source format (salesforce_objects -> salesforce)."""
    return source_format.removesuffix("_objects")


def _crm_sql(crm: str, name: str) -> str:
    return read_sql(f"crm/{crm}/{name}.sql")


def _free_mail_domains(conn: duckdb.DuckDBPyConnection) -> None:
    domains = [
        line.strip().lower()
        for line in FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    conn.sql(
        "create or replace temp table free_mail_domains as select distinct unnest(?::varchar[]) as domain",
        params=[domains],
    )


def _classify(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> None:
    """`int_derived_touches`: every touch row with its channel and the rule that gave it (the
    rules run once per distinct combination of the fields they read)."""
    rules = load_checked_rules(conn, config.source.channel_rules or None)
    fields = ", ".join(RULE_FIELDS)
    conn.sql(
        "create or replace temp table _rule_inputs as "
        f"select distinct {normalized_fields_sql(RULE_FIELDS)} from _touch_rows"
    )
    conn.sql(
        "create or replace temp table _rule_outputs as "
        f"select {fields}, {rules.channel_sql()} as channel, {rules.rule_sql()} as channel_rule "
        "from _rule_inputs"
    )
    keyed = " and ".join(f"coalesce(lower(trim(t.{f})), '') = o.{f}" for f in RULE_FIELDS)
    conn.sql(
        "create or replace table int_derived_touches as "
        "select t.* exclude (record), o.channel, o.channel_rule, t.record from _touch_rows t "
        f"left join _rule_outputs o on {keyed} "
        "order by t.source_object, t.source_file, t.source_row"
    )
    conn.sql("drop table _rule_inputs")
    conn.sql("drop table _rule_outputs")


# the objects each CRM's touch rows come from: object -> its source_object values
_TOUCH_OBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "salesforce": {"CampaignMember": ("campaign_member",), "Task": ("task",), "Event": ("event",)},
    "hubspot": {
        "form_submissions": ("form_submission",),
        "email_events": ("email_event",),
        "meetings": ("meeting",),
    },
}


def _object_files(
    crm: str, objects: str | Path | Sequence[str | Path], web_events: str | Path | Sequence[str | Path] | None
) -> tuple[dict[str, list[str]], list[str], str]:
    """(object -> its files, the files not recognized, the opportunities object's name); a
    clear error when there is no opportunities export."""
    if crm not in CRM_OBJECTS:
        raise InputFileError(f"unknown CRM {crm!r}; objects of {', '.join(CRM_OBJECTS)} can be read")
    location = [str(p) for p in ([objects] if isinstance(objects, (str, Path)) else objects)]
    files, unused = discover_objects(location, crm)
    if web_events:
        files.setdefault("web_events", []).extend(resolve_paths(web_events))
    opportunity_name = next(s.name for s in CRM_OBJECTS[crm] if s.kind == "opportunities")
    if not files.get(opportunity_name):
        raise InputFileError(
            f"{', '.join(location)}: no {opportunity_name} export found (a file or folder named like "
            f"{opportunity_name}.csv); found {', '.join(sorted(files)) or 'no object export'}"
            + (f"; not recognized: {', '.join(Path(u).name for u in unused)}" if unused else "")
        )
    return files, unused, opportunity_name


def _build_people(conn: duckdb.DuckDBPyConnection, crm: str) -> None:
    """Accounts, person candidates and `int_crm_people` (with the email look-up) of the CRM."""
    _free_mail_domains(conn)
    for table in ("int_crm_accounts", "int_crm_person_candidates"):
        conn.sql(f"create or replace temp table {table} as\n{_crm_sql(crm, table)}")
    for table in ("int_crm_domain_accounts", "int_crm_name_accounts"):
        conn.sql(f"create or replace temp table {table} as\n{read_sql(f'crm/{table}.sql')}")
    conn.sql(f"create or replace table int_crm_people as\n{read_sql('crm/int_crm_people.sql')}")
    conn.sql(
        "create or replace temp table int_crm_people_by_email as\n"
        f"{read_sql('crm/int_crm_people_by_email.sql')}"
    )


def _build_touch_rows(conn: duckdb.DuckDBPyConnection, crm: str, config: AttributionConfig) -> None:
    """`int_derived_touches`: the CRM's touch rows and the web events, classified."""
    touch_sql = _crm_sql(crm, "int_crm_touch_rows")
    columns = ", ".join(_TOUCH_COLUMNS)
    rule_columns = ", ".join(
        f for f in RULE_FIELDS if f not in ("source_object", "touch_type", "self_reported")
    )
    conn.sql(
        f"create or replace temp table _touch_rows as select {columns}, {rule_columns}, "
        f"null::varchar as self_reported from ({touch_sql}) union all by name "
        f"select {columns}, {rule_columns}, null::varchar as self_reported from "
        f"({read_sql('crm/int_web_touch_rows.sql')})",
        params=bind_config(touch_sql, config) or None,
    )
    _classify(conn, config)
    conn.sql("drop table _touch_rows")


def _touch_results(
    conn: duckdb.DuckDBPyConnection, crm: str, files: dict[str, list[str]], config: AttributionConfig
) -> list[LoadResult]:
    """The accounting of every touch object (sales activities excluded unless the settings
    include them) and, for HubSpot, of the contacts' property touches."""
    object_of = {s.name: s for s in CRM_OBJECTS[crm]}
    results: list[LoadResult] = []
    if crm == "hubspot":  # the property touches of valid contacts (the rows count as people)
        where = "source_object in ('contact_original_source', 'contact_latest_source')"
        source = "hubspot.contact_source_properties"
        results.append(object_result(conn, source, files.get("contacts", []), "int_derived_touches", where))
    for name, derived_objects in {**_TOUCH_OBJECTS[crm], "web_events": ("web_event",)}.items():
        spec = object_of[name]
        where = "source_object in (" + ", ".join(f"'{o}'" for o in derived_objects) + ")"
        if name in ("Task", "Event") and not config.source.include_sales_activities:
            conn.sql("delete from quarantine where source = ?", params=[spec.source])
            results.append(reference_result(conn, spec, files.get(name, []), excluded=True))
        else:
            quarantine_object(conn, spec.source, "int_derived_touches", where, config)
            results.append(
                object_result(conn, spec.source, files.get(name, []), "int_derived_touches", where)
            )
    return results


def _derived_touches(conn: duckdb.DuckDBPyConnection, crm: str, files: dict[str, list[str]]) -> None:
    """`unmatched_touches`, the answers, the coverage tables and the temp relation of the
    touches ingest loads, each keyed by (file_index, source_row)."""
    conn.sql(
        "create or replace table unmatched_touches as select source_object, source_file, source_row, "
        "source_id, unmatched_reason, touchpoint_id, occurred_at, contact_id, channel, campaign, "
        "touch_type, record from int_derived_touches where reason is null and not is_excluded "
        "and unmatched_reason is not null order by source_object, source_file, source_row"
    )
    _answers_table(conn, from_people=True)
    for table in ("crm_identity_coverage", "crm_unclassified_values"):
        conn.sql(f"create or replace table {table} as\n{read_sql(f'crm/{table}.sql')}")
    touch_objects = (*_TOUCH_OBJECTS[crm], "web_events")
    touch_files = sorted(
        {f for name in touch_objects for f in files.get(name, [])} | _property_files(crm, files)
    )
    # (file_index, source_row) is a raw row's key: a HubSpot contact row gives two property
    # touches, the latest-source one gets a file index of its own (its file and row stay true)
    conn.sql(
        f"create or replace temp table {DERIVED_TOUCHES} as select "
        "list_position(?::varchar[], source_file) - 1 + case when source_object = 'contact_latest_source' "
        "then len(?::varchar[]) else 0 end as file_index, source_file, source_row, touchpoint_id, "
        "occurred_at, account_id, contact_id, channel, campaign, touch_type, record "
        "from int_derived_touches where reason is null and not is_excluded and unmatched_reason is null "
        "order by file_index, source_row",
        params=[touch_files, touch_files],
    )


def _derived_roles(
    conn: duckdb.DuckDBPyConnection, crm: str, files: dict[str, list[str]], config: AttributionConfig
) -> list[LoadResult]:
    """The contact roles' accounting and temp relation (when the CRM has a roles object)."""
    results: list[LoadResult] = []
    for spec in (s for s in CRM_OBJECTS[crm] if s.kind == "roles"):
        conn.sql(f"create or replace temp table _roles as\n{_crm_sql(crm, 'int_crm_contact_roles')}")
        quarantine_object(conn, spec.source, "_roles", "true", config)
        relation = "(select *, null as unmatched_reason, false as is_excluded from _roles)"
        results.append(object_result(conn, spec.source, files.get(spec.name, []), relation))
        conn.sql(
            f"create or replace temp table {DERIVED_ROLES} as select list_position(?::varchar[], source_file) - 1 "
            "as file_index, source_file, source_row, opportunity_id, contact_id, role, is_primary, record "
            "from _roles where reason is null order by file_index, source_row",
            params=[files.get(spec.name, [])],
        )
        conn.sql("drop table _roles")
    return results


def derive_inputs(
    conn: duckdb.DuckDBPyConnection,
    crm: str,
    objects: str | Path | Sequence[str | Path],
    config: AttributionConfig,
    web_events: str | Path | Sequence[str | Path] | None = None,
) -> CrmInputs:
    """Stage the object exports of `objects` (a folder or glob) and derive from them the
    temp relations ingest loads: derived_touchpoints, derived_contact_roles (when roles were
    exported) and derived_milestones; write `int_crm_people`, `int_derived_touches` (every
    touch row, its identity method and channel rule), `unmatched_touches`, the object rows'
    quarantine and one load_audit row per object. A clear error when the folder holds no
    opportunities export or an object file lacks a required column."""
    files, unused, opportunity_name = _object_files(crm, objects, web_events)
    prepare_connection(conn)
    stage_objects(conn, crm, files, config)
    specs = {s.name: s for s in CRM_OBJECTS[crm] if s.kind != "opportunities"}
    for spec in specs.values():
        mark_object_rows(conn, spec)
    _build_people(conn, crm)
    _build_touch_rows(conn, crm, config)
    results = _touch_results(conn, crm, files, config)
    # HubSpot contacts are people and the source of two property touches: their rows count as
    # people (staged or quarantined); their property touches are in int_derived_touches
    for spec in specs.values():
        if spec.kind == "reference" or (crm == "hubspot" and spec.name == "contacts"):
            quarantine_object(conn, spec.source, spec.table, "true", config)
            results.append(reference_result(conn, spec, files.get(spec.name, [])))
    _derived_touches(conn, crm, files)
    results += _derived_roles(conn, crm, files, config)
    conn.sql(  # one file index per (file, milestone): a contact row gives up to three milestones
        f"create or replace temp table {DERIVED_MILESTONES} as select dense_rank() over (order by source_file, "
        "milestone) - 1 as file_index, source_file, source_row, account_id, milestone, occurred_at, contact_id "
        f"from ({_crm_sql(crm, 'int_crm_milestones')})"
    )
    if unused:  # listed where every input is accounted for; none of their rows is read
        results.append(LoadResult(f"{crm}.(not recognized)", tuple(unused), 0, 0, 0))
    for result in results:
        write_audit(conn, result, config)
    return CrmInputs(
        crm=crm,
        opportunity_files=tuple(files[opportunity_name]),
        objects=tuple(results),
        has_contact_roles=any(files.get(s.name) for s in specs.values() if s.kind == "roles"),
    )


CRM_TABLES: tuple[str, ...] = (
    "crm_self_reported_answers",
    "int_crm_people",
    "int_derived_touches",
    "unmatched_touches",
    "crm_identity_coverage",
    "crm_unclassified_values",
)


def clear_crm_outputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Remove what an earlier run on CRM objects left (its tables, object tables, audit and
    quarantine rows): a contract-format run holds nothing of it."""
    prepare_connection(conn)
    names = [
        r[0]
        for r in conn.sql(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and (table_name like 'crm\\_%' escape '\\' or list_contains(?::varchar[], table_name))",
            params=[list(CRM_TABLES)],
        ).fetchall()
    ]
    for name in names:
        conn.sql(f'drop table if exists "{name}"')
    conn.sql("delete from load_audit where contains(source, '.')")
    conn.sql("delete from quarantine where contains(source, '.')")


def _answers_table(conn: duckdb.DuckDBPyConnection, from_people: bool) -> None:
    """`crm_self_reported_answers`: one row per person with an account who answered "how did you
    hear about us" (from int_crm_people; empty without CRM objects)."""
    source = (
        "select person_id, contact_id, account_id, self_reported as answer, created_at as answered_at "
        "from int_crm_people where self_reported is not null and account_id is not null"
        if from_people
        else "select null::varchar as person_id, null::varchar as contact_id, null::varchar as account_id, "
        "null::varchar as answer, null::varchar as answered_at limit 0"
    )
    conn.sql(f"create or replace table crm_self_reported_answers as {source}")


def build_self_reported(conn: duckdb.DuckDBPyConnection, config: AttributionConfig) -> int:
    """`int_self_reported`: one row per opportunity with a self-reported answer
    (sql/crm/int_self_reported_answers.sql), its channel by the channel rules (the answer read as
    the self_reported and crm_source fields; keyed like every channel); return the row count."""
    prepare_connection(conn)
    if not table_exists(conn, "crm_self_reported_answers"):
        _answers_table(conn, from_people=False)
    rules = load_checked_rules(conn, config.source.channel_rules or None)
    conn.sql(f"create or replace temp table _answers as\n{read_sql('crm/int_self_reported_answers.sql')}")
    fields = normalized_fields_sql(("self_reported", "crm_source"))
    conn.sql(
        "create or replace table int_self_reported as "
        f"select opportunity_id, answer, answer_source, name_key({rules.channel_sql()}) as channel "
        f"from (select *, {fields} from (select *, answer as self_reported, answer as crm_source from _answers)) "
        "order by opportunity_id"
    )
    conn.sql("drop table _answers")
    return int(conn.sql("select count(*) from int_self_reported").fetchall()[0][0])


def _property_files(crm: str, files: dict[str, list[str]]) -> set[str]:
    """The files whose rows give property touches (HubSpot contacts)."""
    return set(files.get("contacts", [])) if crm == "hubspot" else set()


__all__ += [
    "CRM_TABLES",
    "DERIVED_MILESTONES",
    "DERIVED_ROLES",
    "DERIVED_TOUCHES",
    "UNCLASSIFIED",
    "clear_crm_outputs",
]
