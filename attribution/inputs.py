"""Every input of a run loaded into the staging tables: the contract's files, or a folder of
CRM object exports whose touches, contact roles and milestones are derived first; and the
list of input files a run read (the export manifest fingerprints them)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.contracts import SourcePaths
from attribution.crm.derive import (
    DERIVED_MILESTONES,
    DERIVED_ROLES,
    DERIVED_TOUCHES,
    build_self_reported,
    clear_crm_outputs,
    crm_of,
    derive_inputs,
)
from attribution.ingest import (
    InputFileError,
    LoadResult,
    load_fx_rates,
    load_opportunities,
    load_source,
    load_touchpoints,
    resolve_paths,
)
from attribution.ingest.wide_history import wide_history

__all__ = ["input_files", "load_inputs"]


def input_files(sources: SourcePaths) -> list[str]:
    """Every input file the sources resolve to (for fingerprints in the export manifest)."""
    files: list[str] = []
    for paths in (
        sources.touchpoints,
        sources.opportunities,
        sources.fx_rates,
        sources.milestones,
        sources.spend,
        sources.web_events,
        sources.contact_roles,
        sources.opportunity_history,
        sources.experiments,
        sources.experiment_assignments,
    ):
        if paths:
            files.extend(resolve_paths(paths))
    if sources.objects:
        items = [sources.objects] if isinstance(sources.objects, (str, Path)) else list(sources.objects)
        for item in map(str, items):
            if os.path.isdir(item):
                files.extend(sorted(str(p) for p in Path(item).rglob("*") if p.is_file()))
            else:
                files.extend(resolve_paths(item))
    return files


def _load_crm_objects(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    tell: Callable[[str], None],
) -> dict[str, LoadResult]:
    """Derive touches, contact roles and milestones from a folder of CRM object exports and
    load them with the opportunities (a named contact_roles or milestones file wins)."""
    results: dict[str, LoadResult] = {}
    if not sources.objects:
        raise InputFileError(
            f"source_format {config.source.format} reads a folder of object exports: name it as "
            "the objects input (--objects, [inputs] objects, ATTRIBUTION_OBJECTS)"
        )
    tell("crm_objects")
    derived = derive_inputs(conn, crm_of(config.source.format), sources.objects, config, sources.web_events)
    results.update({result.source: result for result in derived.objects})
    tell("opportunities")
    results["opportunities"] = load_opportunities(
        conn, list(derived.opportunity_files), _opportunity_config(config)
    )
    tell("touchpoints")
    results["touchpoints"] = load_source(conn, "touchpoints", None, config, derived=DERIVED_TOUCHES)
    roles = None if sources.contact_roles or not derived.has_contact_roles else DERIVED_ROLES
    results["contact_roles"] = load_source(
        conn, "contact_roles", sources.contact_roles, config, derived=roles
    )
    milestones = None if sources.milestones else DERIVED_MILESTONES
    results["milestones"] = load_source(conn, "milestones", sources.milestones, config, derived=milestones)
    return results


def _opportunity_config(config: AttributionConfig) -> AttributionConfig:
    """The config the opportunities are staged with: a CRM objects folder without a column
    preset reads its opportunities with that CRM's preset."""
    if config.source.format == "contract" or config.mapping.preset != "none":
        return config
    return replace(config, mapping=replace(config.mapping, preset=crm_of(config.source.format)))


def _restage_opportunities(
    conn: duckdb.DuckDBPyConnection, config: AttributionConfig, staged: LoadResult
) -> LoadResult:
    """Stage the opportunities again from the files they were staged from, now with the
    history: each deal's stage and amount at as-of (sql/staging/stg_opportunities.sql,
    opportunity_at_as_of)."""
    conn.execute("set variable attribution_restage_with_history = true")
    try:
        return load_opportunities(conn, list(staged.files), _opportunity_config(config))
    finally:
        conn.execute("reset variable attribution_restage_with_history")


def load_inputs(
    conn: duckdb.DuckDBPyConnection,
    sources: SourcePaths,
    config: AttributionConfig,
    progress: Callable[[str], None] | None = None,
) -> dict[str, LoadResult]:
    """Load every input of the run's source format into the staging tables, in order (fx
    rates first: opportunities convert with them); with a CRM objects folder, first derive
    touches, contact roles and milestones from its objects (attribution.crm), whose loads
    are in the result too (salesforce.CampaignMember, ...). A named contact_roles or
    milestones file wins over the derived ones."""
    tell = progress or (lambda _step: None)
    tell("fx_rates")
    results: dict[str, LoadResult] = {"fx_rates": load_fx_rates(conn, sources.fx_rates, config)}
    if config.source.format == "contract":
        if not sources.touchpoints or not sources.opportunities:
            raise InputFileError(
                "source_format contract needs a touchpoints and an opportunities input; for a folder "
                "of CRM object exports set source_format salesforce_objects or hubspot_objects and "
                "the objects input"
            )
        clear_crm_outputs(conn)
        tell("opportunities")
        results["opportunities"] = load_opportunities(conn, sources.opportunities, config)
        tell("touchpoints")
        results["touchpoints"] = load_touchpoints(conn, sources.touchpoints, config)
        results["contact_roles"] = load_source(conn, "contact_roles", sources.contact_roles, config)
        tell("milestones")
        results["milestones"] = load_source(conn, "milestones", sources.milestones, config)
    else:
        results.update(_load_crm_objects(conn, sources, config, tell))
    tell("opportunity_history")
    results["opportunity_history"] = load_source(
        conn,
        "opportunity_history",
        sources.opportunity_history,
        config,
        derived=wide_history(conn, sources.opportunity_history, config),  # HubSpot's wide form
    )
    if results["opportunity_history"].staged_rows:  # the deals as they stood at as-of
        results["opportunities"] = _restage_opportunities(conn, config, results["opportunities"])
    tell("spend")
    results["spend"] = load_source(conn, "spend", sources.spend, config)
    for source in ("experiments", "experiment_assignments"):
        tell(source)
        results[source] = load_source(conn, source, getattr(sources, source), config)
    build_self_reported(conn, config)
    return results
