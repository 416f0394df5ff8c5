"""The data contract of DESIGN §2 and §4: the input sources, their columns and reason codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = [
    "AFTER_AS_OF",
    "CENT",
    "CREDIT_TOLERANCE",
    "MAX_AMOUNT",
    "SOURCES",
    "UNATTRIBUTED_CHANNEL",
    "QuarantineReason",
    "SourcePaths",
    "SourceSpec",
]

UNATTRIBUTED_CHANNEL = "(none)"
# an amount within half a cent is the same amount to the cent (sql/marts/mart_reconciliation.sql)
CENT = 0.005
# credits are floats: a journey's credits sum to 1 within this
CREDIT_TOLERANCE = 1e-9
# an amount above this is a typo or an overflow, not a deal (sql/staging/stg_opportunities.sql)
MAX_AMOUNT = 1e12


class QuarantineReason(StrEnum):
    """Why an input row was quarantined instead of staged (DESIGN §2)."""

    MISSING_REQUIRED = "missing_required"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_AMOUNT = "bad_amount"
    BAD_STAGE = "bad_stage"
    CLOSED_BEFORE_CREATED = "closed_before_created"
    MISSING_CLOSED_AT = "missing_closed_at"
    FUTURE_TIMESTAMP = "future_timestamp"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_CURRENCY = "unknown_currency"
    WRONG_BASE_CURRENCY = "wrong_base_currency"
    # opportunity history rows (sql/staging/stg_opportunity_history.sql)
    UNKNOWN_OPPORTUNITY = "unknown_opportunity"
    CHANGED_BEFORE_CREATED = "changed_before_created"
    UNKNOWN_STAGE = "unknown_stage"
    # experiments and their assignments (sql/staging/stg_experiments.sql, ...assignments.sql)
    BAD_WINDOW = "bad_window"
    BAD_EXPERIMENT = "bad_experiment"
    BAD_ARM = "bad_arm"
    UNKNOWN_EXPERIMENT = "unknown_experiment"
    UNKNOWN_UNIT = "unknown_unit"


AFTER_AS_OF = "after_as_of"  # the counted, not quarantined, category of rows later than as-of


@dataclass(frozen=True)
class SourceSpec:
    """An input source: its columns (all read as text first), the SQL model that validates
    and types them (sql/staging/, which also defines the staged table's columns), the
    config field whose value an absent optional column takes, and the sources it needs
    staged first."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    staging_sql: str
    absent_from_config: tuple[tuple[str, str], ...] = ()
    needs: tuple[str, ...] = ()
    # the id column whose repeats are quarantined as duplicate_id (ingest marks them on the
    # checked rows, after its staging SQL)
    unique_id: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


SOURCES: dict[str, SourceSpec] = {
    "fx_rates": SourceSpec(
        name="fx_rates",
        required=("currency", "date", "rate_to_reporting"),
        optional=("to_currency",),
        staging_sql="staging/stg_fx_rates.sql",
    ),
    "opportunities": SourceSpec(
        name="opportunities",
        required=("opportunity_id", "account_id", "created_at", "stage", "amount"),
        optional=(
            "closed_at",
            "currency",
            "is_closed",
            "is_won",
            "lead_source",
            "opportunity_type",
            "self_reported_source",
        ),
        staging_sql="staging/stg_opportunities.sql",
        unique_id="opportunity_id",
        # an absent currency column means the fx base currency (a blank value is quarantined)
        absent_from_config=(("currency", "fx_base_currency"),),
        needs=("fx_rates",),
    ),
    "touchpoints": SourceSpec(
        name="touchpoints",
        required=("touchpoint_id", "occurred_at", "account_id", "channel"),
        optional=("contact_id", "campaign", "touch_type"),
        staging_sql="staging/stg_touchpoints.sql",
        unique_id="touchpoint_id",
    ),
    # optional: funnel milestones of accounts (lead_created, mql, sql, ...), for the
    # milestone models (w_shaped, full_path, custom)
    "milestones": SourceSpec(
        name="milestones",
        required=("account_id", "milestone", "occurred_at"),
        optional=("contact_id",),
        staging_sql="staging/stg_milestones.sql",
    ),
    # optional: the contacts with a role on each opportunity (Salesforce
    # OpportunityContactRole, HubSpot deal-contact associations), for journey_scope
    "contact_roles": SourceSpec(
        name="contact_roles",
        required=("opportunity_id", "contact_id"),
        optional=("role", "is_primary"),
        staging_sql="staging/stg_contact_roles.sql",
    ),
    # optional: one row per change of a deal (Salesforce OpportunityHistory, HubSpot's deal
    # stage history): when it entered which stage with which amount, for the stage funnel
    "opportunity_history": SourceSpec(
        name="opportunity_history",
        required=("opportunity_id", "changed_at", "stage"),
        optional=("amount", "close_date", "probability", "forecast_category", "currency"),
        staging_sql="staging/stg_opportunity_history.sql",
        needs=("opportunities",),
    ),
    # optional: marketing spend by day (or month) and channel, optionally campaign, for the
    # cost and return marts
    "spend": SourceSpec(
        name="spend",
        required=("date", "channel", "amount"),
        optional=("campaign", "currency"),
        staging_sql="staging/stg_spend.sql",
        absent_from_config=(("currency", "fx_base_currency"),),
        needs=("fx_rates",),
    ),
    # optional: pre-registered holdout experiments (one row each) and which units are in
    # which arm (attribution-assign writes that file), for mart_experiment_results
    "experiments": SourceSpec(
        name="experiments",
        required=("experiment_id", "start_at", "end_at"),
        optional=(
            "name",
            "channel",
            "campaign",
            "unit",
            "geo_column",
            "follow_up_days",
            "primary_metric",
            "alpha",
            "control_share",
            "decision_threshold",
        ),
        staging_sql="staging/stg_experiments.sql",
    ),
    "experiment_assignments": SourceSpec(
        name="experiment_assignments",
        required=("experiment_id", "unit_id", "arm"),
        optional=("stratum",),
        staging_sql="staging/stg_experiment_assignments.sql",
        needs=("experiments", "touchpoints", "opportunities", "milestones"),
    ),
}

PathLike = str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class SourcePaths:
    """Where the inputs are: a path, a glob or a list of them per source (fx rates, milestones
    and spend optional)."""

    touchpoints: PathLike | None
    opportunities: PathLike | None
    fx_rates: PathLike | None = None
    milestones: PathLike | None = None
    spend: PathLike | None = None
    # a folder (or glob) of CRM object exports (source_format salesforce_objects /
    # hubspot_objects): touches, opportunities, contact roles and milestones are derived from it
    objects: PathLike | None = None
    # web events or sessions with UTM parameters (with a CRM objects folder)
    web_events: PathLike | None = None
    # opportunity contact roles of contract-format inputs (journey_scope contact_roles, hybrid)
    contact_roles: PathLike | None = None
    # every change of a deal: stage entered, amount (the stage funnel)
    opportunity_history: PathLike | None = None
    # pre-registered holdout experiments and their units' arms (mart_experiment_results)
    experiments: PathLike | None = None
    experiment_assignments: PathLike | None = None
