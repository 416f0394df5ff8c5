"""Ingest group: validated staging tables and the quarantine, from the configured input files."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from attribution import describe
from attribution.checks import contact_role_coverage
from attribution.engine import as_engine
from attribution.glossary import GLOSSARY
from attribution.ingest import InputFileError, LoadResult
from attribution.mapping import MappingError
from attribution.pipeline import hand_over, load_inputs
from dagster_defs.assets import DUCKDB_POOL, INGEST_GROUP, step_on_engine
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings, SourceFiles


def _load_metadata(conn: duckdb.DuckDBPyConnection, result: LoadResult) -> dict[str, dg.MetadataValue]:
    by_reason = describe.quarantine_by_reason(conn, result.source)
    return {
        "files": dg.MetadataValue.text("\n".join(result.files) or "(none)"),
        "raw_rows": dg.MetadataValue.int(result.raw_rows),
        "staged_rows": dg.MetadataValue.int(result.staged_rows),
        "quarantined_rows": dg.MetadataValue.int(result.quarantined_rows),
        "after_as_of_rows": dg.MetadataValue.int(result.after_as_of_rows),
        "excluded_rows": dg.MetadataValue.int(result.excluded_rows),
        "quarantined_by_reason": dg.MetadataValue.md(markdown_table(by_reason) if len(by_reason) else "none"),
    }


def _opportunity_metadata(conn: duckdb.DuckDBPyConnection) -> dict[str, dg.MetadataValue]:
    """Stage labels as the CRM gave them, with counts and the stage each maps to (a typo shows
    up here as an unexpected open stage), and the point-in-time and fx counts."""
    labels = describe.stage_labels(conn)
    types = describe.opportunity_types(conn)
    return {
        "stage_labels": dg.MetadataValue.md(markdown_table(labels) if len(labels) else "none"),
        **{name: dg.MetadataValue.int(count) for name, count in describe.opportunity_counts(conn).items()},
        "opportunity_types_staged": dg.MetadataValue.md(markdown_table(types)),
    }


_STAGED = {
    "stg_fx_rates": (
        "fx_rates",
        "FX rates: one row per (currency, date); a rate converts one unit into the fx base "
        "currency from that date on; other pairs cross through the base.",
    ),
    "stg_opportunities": (
        "opportunities",
        "Opportunities: one row per valid opportunity as it stood at as-of (stage mapped from "
        "the CRM label; created after as-of or of a type the type filter leaves out: counted, "
        "not staged), with its type and segment columns, amounts converted to the "
        f"reporting currency. {GLOSSARY['opportunity']} {GLOSSARY['pipeline']} "
        f"{GLOSSARY['as-of']} {GLOSSARY['expected close date']} {GLOSSARY['date-only value']}",
    ),
    "stg_milestones": (
        "milestones",
        "Milestones: one row per valid funnel milestone of an account (lead_created, mql, sql, "
        "...) up to as-of; optional (ATTRIBUTION_MILESTONES), for the milestone models.",
    ),
    "stg_spend": (
        "spend",
        "Spend: one row per valid spend line (date or month, channel, campaign when given) up to "
        "as-of's date, converted to the reporting currency at the rate of its date; optional "
        f"(ATTRIBUTION_SPEND), for the cost and return marts. {GLOSSARY['spend']}",
    ),
    "stg_contact_roles": (
        "contact_roles",
        "Contact roles: one row per (opportunity, contact) with a role on it (Salesforce "
        "OpportunityContactRole, HubSpot deal-contact associations, or a contact_roles file); "
        "journey_scope contact_roles / primary_contact_role / hybrid keeps only these contacts' "
        "touches in the opportunity's journeys.",
    ),
    "stg_opportunity_history": (
        "opportunity_history",
        "Opportunity history: one row per valid change of a staged opportunity up to as-of "
        "(Salesforce OpportunityHistory, HubSpot's deal stage history): when it entered which "
        "stage, its funnel position, the amount; optional (ATTRIBUTION_OPPORTUNITY_HISTORY), "
        f"for the stage funnel. {GLOSSARY['opportunity history']} {GLOSSARY['funnel stage']}",
    ),
    "stg_experiments": (
        "experiments",
        "Experiments: one row per valid pre-registered holdout experiment: the tested channel "
        "and/or campaign, the unit (account or geo), the window and follow-up, the primary "
        "metric, alpha, the intended control share and the decision threshold; optional "
        "(ATTRIBUTION_EXPERIMENTS), for mart_experiment_results.",
    ),
    "stg_experiment_assignments": (
        "experiment_assignments",
        "Experiment assignments: one row per (experiment, unit) with its arm (treatment or "
        "control) and stratum, as attribution-assign writes them; an unknown experiment or "
        "account is quarantined. Optional (ATTRIBUTION_EXPERIMENT_ASSIGNMENTS).",
    ),
    "stg_touchpoints": (
        "touchpoints",
        "Touchpoints: one row per valid touch of the whole export, whatever its date, UTC "
        "timestamps; touches after as-of are counted, not staged. "
        f"{GLOSSARY['touchpoint']} {GLOSSARY['channel']} {GLOSSARY['date-only value']}",
    ),
}
_SPECS = [
    *(
        dg.AssetSpec(table, group_name=INGEST_GROUP, kinds={"duckdb"}, description=text)
        for table, (_, text) in _STAGED.items()
    ),
    *(
        dg.AssetSpec(table, group_name=INGEST_GROUP, kinds={"duckdb"}, description=text)
        for table, text in {
            "int_derived_touches": "Every touch row of the CRM objects and web events "
            "(source_format salesforce_objects / hubspot_objects): its source object, file, row and "
            "record id, the touch it became, its account and identity method (contact, "
            "converted_lead, email_domain, company_name, company_domain, account) or why it has "
            "none, and the channel rule that named its channel. Empty in a contract-format run.",
            "unmatched_touches": "The touch rows no account was found for, with the reason "
            "(free_mail_domain, ambiguous_email_domain, ambiguous_company_name, no_account_match, "
            "no_email_or_company, anonymous, unknown_contact, unknown_email): never dropped silently.",
            "crm_identity_coverage": "Per source object: the share of its touch rows matched per "
            "identity method, and unmatched per reason.",
            "int_funnel_stages": "The funnel's stages in order: position, stage key and label, what "
            "the stage means (open, closed_won); the setting stage_order, else the column preset's CRM "
            "sequence (Salesforce's without a preset).",
            "int_self_reported": 'One row per opportunity with a "how did you hear about us" '
            "answer (its own field, its contact roles' or its account's people): the answer, where it "
            "came from and its channel by the channel rules.",
        }.items()
    ),
    dg.AssetSpec(
        "quarantine",
        group_name=INGEST_GROUP,
        kinds={"duckdb"},
        description="Every input row that was not staged for a reason: source, file, row number, "
        "the row as JSON and a reason code.",
    ),
    dg.AssetSpec(
        "load_audit",
        group_name=INGEST_GROUP,
        kinds={"duckdb"},
        description="One row per source: files and raw = staged + quarantined + after as-of + "
        "excluded by the opportunity-type filter.",
    ),
]


def _crm_results(
    conn: duckdb.DuckDBPyConnection, source_format: str, results: dict[str, LoadResult]
) -> Iterator[dg.MaterializeResult[Any]]:
    """The CRM-derived tables' materializations: the object loads, identity coverage and the
    values no channel rule matched (a contract-format run says it used none)."""
    if source_format == "contract":
        for table in ("int_derived_touches", "unmatched_touches", "crm_identity_coverage"):
            yield dg.MaterializeResult(
                asset_key=table,
                metadata={"note": dg.MetadataValue.text("contract-format inputs: no CRM objects read")},
            )
        return
    objects = pl.DataFrame(
        [
            {
                "object": r.source,
                "raw_rows": r.raw_rows,
                "handed_on": r.staged_rows,
                "quarantined": r.quarantined_rows,
                "excluded": r.excluded_rows,
                "unmatched": r.unmatched_rows,
            }
            for name, r in results.items()
            if "." in name
        ]
    )
    coverage = describe.identity_coverage(conn)
    unclassified = describe.unclassified_values(conn)
    yield dg.MaterializeResult(
        asset_key="int_derived_touches",
        metadata={
            **table_metadata(conn, "int_derived_touches"),
            "objects": dg.MetadataValue.md(markdown_table(objects)),
            "unclassified_values": dg.MetadataValue.md(
                markdown_table(unclassified) if len(unclassified) else "none: every touch row matched a rule"
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key="unmatched_touches", metadata=table_metadata(conn, "unmatched_touches")
    )
    yield dg.MaterializeResult(
        asset_key="crm_identity_coverage",
        metadata={
            **table_metadata(conn, "crm_identity_coverage"),
            "coverage": dg.MetadataValue.md(markdown_table(coverage) if len(coverage) else "no touch rows"),
        },
    )


@dg.multi_asset(specs=_SPECS, pool=DUCKDB_POOL)
def ingest_sources(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    source_files: SourceFiles,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """Load every source in full (fx rates first: opportunities convert with them); an input
    or mapping problem fails the step naming the file, not with a traceback."""
    try:
        run = source_files.spec()  # the inputs, the run file and where each came from
        paths = run.sources
        config = settings.to_config(context)
    except ValueError as exc:  # a run file, mapping or setting that cannot be used
        raise dg.Failure(description=f"Run settings problem: {exc}", allow_retries=False) from exc
    with duckdb.get_connection() as conn:
        try:
            results = load_inputs(conn, paths, config)
        except (InputFileError, MappingError) as exc:
            raise dg.Failure(description=f"Input file problem: {exc}", allow_retries=False) from exc
        runner = step_on_engine(conn, config)
        if runner is not conn:  # the later steps run on Spark: they read the staged tables there
            hand_over(conn, as_engine(runner), config)
        for table, (source, _) in _STAGED.items():
            result = results[source]
            metadata = {**table_metadata(conn, table), **_load_metadata(conn, result)}
            if source == "opportunities":
                metadata.update(_opportunity_metadata(conn))
            if source == "contact_roles":
                with_roles, total = contact_role_coverage(conn)
                metadata["opportunities_without_contact_roles"] = dg.MetadataValue.text(
                    f"{total - with_roles:,} of {total:,} ({100 * (total - with_roles) / max(total, 1):.1f}%): "
                    f"journey_scope {config.journey_scope}"
                    + (
                        ""
                        if config.journey_scope == "account"
                        else "; contact_roles leaves their journeys empty, hybrid takes the account's touches"
                    )
                )
            if result.staged_rows == 0:
                metadata["warning"] = dg.MetadataValue.text(
                    f"no {source} row staged ({result.quarantined_rows} quarantined, "
                    f"{result.after_as_of_rows} after as-of, {result.excluded_rows} excluded by type): "
                    "the run goes on with an empty table"
                )
            yield dg.MaterializeResult(asset_key=table, metadata=metadata)
        yield from _crm_results(conn, config.source.format, results)
        yield dg.MaterializeResult(
            asset_key="int_funnel_stages", metadata=table_metadata(conn, "int_funnel_stages")
        )
        answers = describe.self_reported_answers(conn)
        yield dg.MaterializeResult(
            asset_key="int_self_reported",
            metadata={
                **table_metadata(conn, "int_self_reported"),
                "answers": dg.MetadataValue.md(
                    markdown_table(answers) if len(answers) else "nobody answered"
                ),
            },
        )
        by_reason = describe.quarantine_by_source(conn)
        yield dg.MaterializeResult(
            asset_key="quarantine",
            metadata={
                **table_metadata(conn, "quarantine"),
                "by_reason": dg.MetadataValue.md(markdown_table(by_reason) if len(by_reason) else "none"),
            },
        )
        origins = pl.DataFrame({"value": list(run.origins), "from": list(run.origins.values())})
        yield dg.MaterializeResult(
            asset_key="load_audit",
            metadata={
                **table_metadata(conn, "load_audit", preview_rows=10),
                "run_file": dg.MetadataValue.text(run.run_file or "(none: defaults and environment)"),
                "is_sample": dg.MetadataValue.bool(run.is_sample),
                "values_from": dg.MetadataValue.md(markdown_table(origins)),
            },
        )
