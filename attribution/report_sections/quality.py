"""The report's "Data quality" section (id `quality`)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from attribution.report_sections.base import ReportInputs, Section
from attribution.report_sections.format import (
    make_table,
    text_cell,
)
from attribution.sql import query_frame, table_exists

__all__ = ["SECTION"]


def _audit_rows(audit: pl.DataFrame) -> list[list[dict[str, Any]]]:
    return [
        [
            text_cell(r["source"]),
            text_cell(f"{r['raw_rows']:,}"),
            text_cell(f"{r['staged_rows']:,}"),
            text_cell(f"{r['quarantined_rows']:,}"),
            text_cell(f"{r['after_as_of_rows']:,}"),
            text_cell(f"{r.get('excluded_rows') or 0:,}"),
            text_cell(f"{r.get('unmatched_rows') or 0:,}"),
        ]
        for r in audit.iter_rows(named=True)
    ]


def _reason_rows(conn: duckdb.DuckDBPyConnection) -> list[list[dict[str, Any]]]:
    reasons = query_frame(
        conn,
        "select source, reason, count(*) as row_count, any_value(record) as example from quarantine "
        "group by all order by source, reason",
    )
    return [
        [
            text_cell(r["source"]),
            text_cell(r["reason"]),
            text_cell(f"{r['row_count']:,}"),
            text_cell(str(r["example"])[:160]),
        ]
        for r in reasons.iter_rows(named=True)
    ]


def _contact_roles_sentence(conn: duckdb.DuckDBPyConnection) -> str:
    """How many opportunities have no contact role (empty without a contact roles input)."""
    from attribution.checks import contact_role_coverage

    if not (
        table_exists(conn, "stg_contact_roles")
        and conn.sql("select count(*) from stg_contact_roles").fetchall()[0][0]
    ):
        return ""
    with_roles, total = contact_role_coverage(conn)
    return (
        f" {total - with_roles:,} of {total:,} opportunities ({100 * (total - with_roles) / max(total, 1):.1f}%) "
        "have no contact role."
    )


def _identity(conn: duckdb.DuckDBPyConnection) -> tuple[list[list[dict[str, Any]]], str]:
    """The CRM identity coverage rows and their sentence (none for contract-format runs)."""
    if not table_exists(conn, "crm_identity_coverage"):
        return [], ""
    identity = query_frame(conn, "select * from crm_identity_coverage")
    rows = [
        [
            text_cell(r["source_object"]),
            text_cell(r["method"] or f"unmatched: {r['unmatched_reason']}"),
            text_cell(f"{r['touches']:,}"),
            text_cell(f"{100 * r['share_of_touches']:.1f}%", r["share_of_touches"]),
        ]
        for r in identity.iter_rows(named=True)
    ]
    matched = int(identity.filter(pl.col("method").is_not_null())["touches"].sum())
    total = int(identity["touches"].sum())
    sentence = (
        f" CRM objects: {matched:,} of {total:,} touch rows ({100 * matched / max(total, 1):.1f}%) found "
        "their account; the rest are in unmatched_touches with a reason."
    )
    return rows, sentence


_RULE_FIELDS = ("campaign_type", "utm_source", "utm_medium", "referrer_domain", "crm_source")


def _unclassified_rows(conn: duckdb.DuckDBPyConnection) -> list[list[dict[str, Any]]]:
    if not table_exists(conn, "crm_unclassified_values"):
        return []
    unclassified = query_frame(conn, "select * from crm_unclassified_values limit 15")
    return [
        [
            text_cell(r["source_object"]),
            text_cell(", ".join(f"{k}={r[k]}" for k in _RULE_FIELDS if r[k]) or "(no field set)"),
            text_cell(f"{r['touches']:,}"),
        ]
        for r in unclassified.iter_rows(named=True)
    ]


def _quality(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    from attribution.checks import markov_warnings

    audit = query_frame(conn, "select * from load_audit order by source")
    stale = int(conn.sql("select count(*) from stg_opportunities where is_fx_stale").fetchall()[0][0])
    quarantined = int(audit["quarantined_rows"].sum()) if len(audit) else 0
    raw = int(audit["raw_rows"].sum()) if len(audit) else 0
    identity_rows, identity_sentence = _identity(conn)
    reading = (
        f"{raw:,} input rows: every one is staged, quarantined with a reason ({quarantined:,}), after as-of "
        f"or excluded by type; {stale:,} opportunities converted with a stale fx rate."
        + _contact_roles_sentence(conn)
        + identity_sentence
    )
    return {
        "audit": make_table(
            ["source", "rows read", "staged", "quarantined", "after as-of", "excluded", "unmatched"],
            _audit_rows(audit),
        ),
        "identity": make_table(["object", "identity method", "touch rows", "share"], identity_rows),
        "unclassified": make_table(
            ["object", "values no channel rule matched", "touch rows"], _unclassified_rows(conn)
        ),
        "self_reported": _self_reported(conn),
        "reasons": make_table(["source", "reason", "rows", "example row"], _reason_rows(conn)),
        "warnings": markov_warnings(conn),
        "reading": reading,
    }


def _self_reported(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What buyers say next to what each model says (mart_self_reported_comparison): the
    agreement rate per model and the shares per channel of the first and last touch models."""
    if not table_exists(conn, "mart_self_reported_comparison"):
        return {"agreement": make_table([], []), "shares": make_table([], []), "answered": 0}
    frame = query_frame(conn, "select * from mart_self_reported_comparison")
    if frame.is_empty():
        return {"agreement": make_table([], []), "shares": make_table([], []), "answered": 0}
    agreement = (
        frame.group_by("model")
        .agg(pl.col("agreement_rate").first())
        .sort("agreement_rate", "model", descending=[True, False])
    )
    agreement_rows = [
        [text_cell(r["model"]), text_cell(f"{100 * r['agreement_rate']:.1f}%", r["agreement_rate"])]
        for r in agreement.iter_rows(named=True)
    ]
    models = sorted(set(frame["model"]))
    wide = frame.pivot(on="model", index="channel", values="model_share").join(
        frame.group_by("channel").agg(pl.col("self_reported_share").first()), on="channel"
    )
    share_rows = [
        [
            text_cell(r["channel"]),
            text_cell(f"{100 * r['self_reported_share']:.1f}%", r["self_reported_share"]),
            *(text_cell(f"{100 * (r[m] or 0):.1f}%", r[m] or 0) for m in models),
        ]
        for r in wide.sort("self_reported_share", descending=True).iter_rows(named=True)
    ]
    return {
        "agreement": make_table(["model", "agrees with the answer"], agreement_rows),
        "shares": make_table(["channel", "buyers say", *models], share_rows),
        "answered": int(frame["answered_opportunities"][0]),
    }


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _quality(inputs.conn)


SECTION = Section("quality", "Data quality", build)
