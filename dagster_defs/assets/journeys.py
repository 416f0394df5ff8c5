"""Journeys group: journey windows and the ordered touches inside them."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from attribution import describe
from attribution.glossary import GLOSSARY
from attribution.journeys import build_journeys, build_null_paths, touches_left_out
from attribution.pipeline import mirror
from attribution.steps import STEP_OUTPUTS
from dagster_defs.assets import DUCKDB_POOL, JOURNEYS_GROUP, step_deps, step_on_engine
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings


def _step_spec(
    name: str, step: str, description: str, kinds: frozenset[str] = frozenset({"duckdb"})
) -> dg.AssetSpec:
    """A table of the journeys group that `step` writes (its deps: what the step's SQL reads)."""
    return dg.AssetSpec(
        name, group_name=JOURNEYS_GROUP, kinds=set(kinds), deps=step_deps(step), description=description
    )


_JOURNEYS = _step_spec(
    "int_journeys",
    "journeys",
    "One row per (journey_kind, opportunity): window, conversion event, value, "
    f"company-calendar month, touch count. {GLOSSARY['pipeline journey']} "
    f"{GLOSSARY['revenue journey']}",
)
_JOURNEY_TOUCHES = _step_spec(
    "int_journey_touches",
    "journeys",
    "One row per (journey_kind, opportunity, touch) inside the journey window, with "
    "position (ordered by occurred_at, touchpoint_id), touch count and days before the event.",
)


_MILESTONES = _step_spec(
    "int_journey_milestones",
    "journeys",
    "One row per (journey_kind, opportunity, milestone) a touch holds: first_touch, "
    "lead_created (the last touch at or before the account's first lead_created milestone in "
    "the window; else the first touch of a lead touch type), other milestones of the custom "
    "model, opportunity_created, closed_won. For the w_shaped, full_path and custom models.",
)


_TOUCH_RULES = _step_spec(
    "int_touch_rules",
    "journeys",
    "The touch rules of the run, one row: excluded touch types and channels (what "
    "int_eligible_touches leaves out of journeys and null paths).",
)
_ELIGIBLE_TOUCHES = _step_spec(
    "int_eligible_touches",
    "journeys",
    "A view: the staged touches the touch rules keep, with touch_row (the touch's row "
    "id in stg_touchpoints: a join key within one statement, never stored).",
)


@dg.multi_asset(
    specs=[_JOURNEYS, _JOURNEY_TOUCHES, _MILESTONES, _TOUCH_RULES, _ELIGIBLE_TOUCHES], pool=DUCKDB_POOL
)
def journeys(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """Both tables from one window definition (sql/intermediate/int_journey_windows.sql)."""
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, config)
        build_journeys(runner, config)
        mirror(runner, conn, *STEP_OUTPUTS["journeys"])
        excluded = touches_left_out(conn)
        yield dg.MaterializeResult(
            asset_key="int_journeys",
            metadata={
                **table_metadata(conn, "int_journeys"),
                "lookback_days": dg.MetadataValue.int(config.lookback_days),
                "touches_left_out_by_touch_rules": dg.MetadataValue.int(
                    int(excluded["touches_left_out"].sum())
                ),
                "touch_rules": dg.MetadataValue.md(
                    markdown_table(describe.touch_rules(conn))
                    if config.excluded_touch_types or config.excluded_channels or config.touch_type_weights
                    else "none (defaults off)"
                ),
                "left_out_by_touch_type_and_channel": dg.MetadataValue.md(
                    markdown_table(excluded.head(20)) if len(excluded) else "none"
                ),
            },
        )
        yield dg.MaterializeResult(
            asset_key="int_journey_touches", metadata=table_metadata(conn, "int_journey_touches")
        )
        lead = describe.lead_creation_sources(conn)
        missing = int(lead.filter(lead["lead_created_by"] == "(no lead-creation touch)")["journeys"].sum())
        yield dg.MaterializeResult(
            asset_key="int_journey_milestones",
            metadata={
                **table_metadata(conn, "int_journey_milestones"),
                "lead_creation_touch_by_source": dg.MetadataValue.md(
                    markdown_table(lead) if len(lead) else "none"
                ),
                "journeys_without_lead_creation_touch": dg.MetadataValue.int(missing),
            },
        )
        for table in ("int_touch_rules", "int_eligible_touches"):
            yield dg.MaterializeResult(asset_key=table, metadata=table_metadata(conn, table))


_NULL_PATHS = _step_spec(
    "int_null_path_touches",
    "null_paths",
    "The Markov chain's non-converting paths, one row per touch. pipeline: per "
    "account, touches in no pipeline journey, outside every opportunity's sales cycle (created "
    "to closed, or to as-of while open) and before the last lookback before as-of (those "
    "accounts may still convert), cut into chunks no longer than the lookback (each chunk "
    "starts at its first touch); revenue: revenue journeys of closed_lost opportunities (open "
    "ones are left out). A view over the stored paths (int_pipeline_null_paths: account, first "
    "and last touch) and the touch roles (int_touch_roles).",
    kinds=frozenset({"duckdb", "polars"}),
)
_EXCLUSIONS = _step_spec(
    "int_null_path_exclusions",
    "null_paths",
    "One row per role a staged touch plays for the pipeline Markov chain "
    "(in_pipeline_journey, in_sales_cycle, censored, null_path): touch_count and share.",
)


_MARKOV_PATHS = _step_spec(
    "int_markov_paths",
    "null_paths",
    "One row per path the Markov chain and the Shapley model are fitted on: each "
    "converting journey with touches (path_id = opportunity_id, conversion_value = its amount) "
    "and each non-converting path, with its account, touch count and channels in order. The "
    "fits, the order selection and the confidence intervals read paths from here.",
)


_PIPELINE_NULL_PATHS = _step_spec(
    "int_pipeline_null_paths",
    "null_paths",
    "One row per pipeline non-converting path: account, first and last touch time "
    "(the chunks the null paths are cut into; their channels are in int_markov_paths).",
)
_TOUCH_ROLES = _step_spec(
    "int_touch_roles",
    "null_paths",
    "A view: each eligible touch's role for the pipeline chain (in a pipeline "
    "journey, in a sales cycle, censored, null path), as of the as-of and lookback of "
    "int_null_path_settings; reading it all recomputes the roles.",
)
_NULL_PATH_SETTINGS = _step_spec(
    "int_null_path_settings",
    "null_paths",
    "One row: the as-of and lookback the null paths were built with (what int_touch_roles classifies by).",
)


@dg.multi_asset(
    specs=[_NULL_PATHS, _EXCLUSIONS, _MARKOV_PATHS, _PIPELINE_NULL_PATHS, _TOUCH_ROLES, _NULL_PATH_SETTINGS],
    pool=DUCKDB_POOL,
)
def null_paths(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """The non-converting paths, how many touches each rule left out of them, and every
    path the fits read."""
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        runner = step_on_engine(conn, config)
        null_touches = build_null_paths(runner, config)
        mirror(runner, conn, *STEP_OUTPUTS["null_paths"])
        paths = describe.null_paths_by_kind(conn)
        roles = describe.null_path_roles(conn)
        shares = dict(zip(roles["role"], roles["share_of_touches"], strict=True))
        yield dg.MaterializeResult(
            asset_key="int_null_path_touches",
            metadata={
                # a view: its touch count is the paths' (int_markov_paths), not a second count
                **table_metadata(conn, "int_null_path_touches", row_count=null_touches),
                **{f"{kind}_null_paths": dg.MetadataValue.int(n) for kind, n in paths.items()},
                "share_left_out_in_sales_cycle": dg.MetadataValue.float(
                    float(shares.get("in_sales_cycle", 0.0))
                ),
                "share_left_out_censored": dg.MetadataValue.float(float(shares.get("censored", 0.0))),
            },
        )
        yield dg.MaterializeResult(
            asset_key="int_null_path_exclusions",
            metadata={
                **table_metadata(conn, "int_null_path_exclusions"),
                "staged_touches_by_role": dg.MetadataValue.md(markdown_table(roles)),
            },
        )
        path_counts = describe.markov_path_counts(conn)
        yield dg.MaterializeResult(
            asset_key="int_markov_paths",
            metadata={
                **table_metadata(conn, "int_markov_paths"),
                "paths_by_kind": dg.MetadataValue.md(markdown_table(path_counts)),
            },
        )
        for table in ("int_pipeline_null_paths", "int_touch_roles", "int_null_path_settings"):
            yield dg.MaterializeResult(asset_key=table, metadata=table_metadata(conn, table))
