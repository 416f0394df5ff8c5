"""The glossary (DESIGN §1): terms, model definitions and column descriptions, one text each
for the tables, the asset descriptions, the report and docs/tables.md."""

from __future__ import annotations

__all__ = ["COLUMN_DESCRIPTIONS", "GLOSSARY", "QUARANTINE_REASONS", "glossary_terms"]

GLOSSARY: dict[str, str] = {
    "touchpoint": "One recorded marketing or sales interaction of an account (optionally of a "
    "contact): an ad click, form fill, email click, webinar attended, event visit, meeting.",
    "channel": "The normalized marketing channel of a touchpoint, lower snake case.",
    "opportunity": "A sales deal of an account, with an amount, a stage (open, closed_won, "
    "closed_lost) and created / closed dates.",
    "pipeline": "The sum of amounts of opportunities created in a period, in the reporting currency.",
    "pipeline journey": "The touches of the opportunity's account in [created_at - lookback, "
    "created_at], ordered by (occurred_at, touchpoint_id).",
    "revenue journey": "For a closed opportunity, the touches of its account in [created_at - "
    "lookback, closed_at], ordered by (occurred_at, touchpoint_id).",
    "influenced pipeline / revenue": "Amounts of opportunities (won opportunities) whose "
    "pipeline (revenue) journey has at least one touch: a yes/no measure, independent of model.",
    "attributed pipeline / revenue": "For a model and a channel (or campaign, or touch): the sum "
    "over journeys of credit x amount. Every model attributes the full amount of every "
    "opportunity, so totals agree across models.",
    "unattributed": "The pseudo-channel (none) that takes credit 1 for an opportunity whose "
    "journey is empty, so totals still reconcile.",
    "credit": "The fraction of one journey's value a model gives one touch; per journey, credits "
    "sum to exactly 1.",
    "as-of": "The point in time the run reports: opportunities and touches after it are left out "
    "(counted), deals closed after it are open at it.",
    "expected close date": "The closed_at of an open opportunity: a forecast, kept as "
    "expected_close_at, never validated as a close.",
    "spend": "What marketing paid for a channel (and campaign) in a period, in the reporting "
    "currency at the fx rate of the spend date; a month given as YYYY-MM is its first day.",
    "opportunity history": "One row per change of a deal (Salesforce OpportunityHistory, "
    "HubSpot's deal stage history): when it entered which stage, with which amount.",
    "funnel stage": "A stage of the CRM's sequence (setting stage_order, else the column preset's "
    "default: Salesforce Prospecting ... Negotiation/Review, Closed Won); closed lost ends a "
    "deal without being a step.",
    "qualified pipeline": "The pipeline of the opportunities qualified by as-of: a deal is "
    "qualified when its stage history shows it entered the qualification stage (setting "
    "qualified_stage, else the CRM's: Salesforce Needs Analysis, HubSpot qualifiedtobuy) or any "
    "later one, closed won included; without a history row, a won deal counts as qualified at "
    "its close. No history input: no qualified pipeline. With setting qualified_milestone, the "
    "account's first such milestone (from a lookback before the deal's creation to its close, "
    "not before its creation) qualifies the deal instead.",
    "qualified journey": "For a qualified opportunity, the touches of its account in "
    "[created_at - lookback, qualified_at]; a deal lost without qualifying is a Markov null path "
    "up to its close.",
    "lead funnel": "The milestones of setting lead_funnel_milestones in order (lead_created, mql, "
    "sal, sql), then the account's first opportunity and first won deal. A lead is an account "
    "with a milestone of it; it reached a step when it had that step or any later one by as-of.",
    "sales acceptance rate": "Of the leads that reached mql, the share that reached sal (the "
    "lead funnel's next-step conversion at sal).",
    "time to qualification": "Days from a lead's first step to its sql milestone (median and "
    "90th percentile of the leads that have one).",
    "milestone journey": "For a milestone kind of setting journey_kinds (mql, sal, ...): an "
    "account's touches in [its first such milestone - lookback, that milestone], worth 1; leads "
    "that never had it are its Markov null paths.",
    "sourced": "An opportunity is sourced by one channel: its pipeline journey's first-touch "
    "channel, or the CRM's lead_source (setting sourced_by). Additive: sourced amounts sum to "
    "the total.",
    "any-touch influence": "A channel (campaign) influenced an opportunity when its journey "
    "touched it at least once: model-independent, and not additive across channels (one deal "
    "touched by three channels counts in all three).",
    "segment": "A dimension of opportunities carried from the CRM export (segment, region, type, "
    "...; setting segment_columns); a blank value is '(not set)'.",
    "opportunity type": "new_business, renewal, expansion, ... from the export's type column; "
    "the type filter keeps types out of pipeline (counted as excluded, not staged).",
    "fiscal quarter": "FY2027-Q1: quarters of the fiscal year starting in fiscal_year_start_month, "
    "named by the calendar year the fiscal year ends in.",
    "confidence interval": "The range that holds the attributed amount (or share) in the "
    "configured fraction (default 90%) of Poisson-bootstrap replicates over opportunities with "
    "their journeys: how much the figure would move with another draw of deals like these. It "
    "does not cover the choice of model (compare the models for that).",
    "calibrated model": "calibrated_<model> (opt-in, setting calibrated_models): the model's "
    "credits with an experiment's tested channel (or campaign) scaled by measured incremental / "
    "attributed on its treated units (the latest experiment per target; clipped at 0), the "
    "credit removed given to the (baseline) pseudo-channel and, where the ratio exceeds 1, "
    "taken from the journey's other touches; every journey still sums to 1. An estimate "
    "bounded by one experiment's window and units, applied to every journey of every kind.",
    "(baseline)": "The calibrated models' pseudo-channel: the credit an experiment says the "
    "tested channel did not cause (what would have happened without it). Only in calibrated_ "
    "models.",
    "date-only value": "A date without a time of day covers that whole day (in the company time "
    "zone): an event on 2026-03-15 includes that day's touches.",
}


def glossary_terms() -> dict[str, str]:
    """The glossary with one `model <name>` entry per model, from the models' specs."""
    from attribution.models import MODEL_DEFINITIONS  # the models read the glossary's columns

    return {**GLOSSARY, **{f"model {name}": text for name, text in MODEL_DEFINITIONS.items()}}


COLUMN_DESCRIPTIONS: dict[str, str] = {
    "touchpoint_id": "Unique id of the touchpoint (trimmed text).",
    "occurred_at": "When the touch happened, UTC.",
    "account_id": "The account (company) the touch or opportunity belongs to.",
    "contact_id": "The contact (person) of the touch, when known.",
    "channel": GLOSSARY["channel"] + " '(none)' is the unattributed pseudo-channel.",
    "campaign": "The campaign of the touch, when known.",
    "touch_type": "The kind of interaction (click, form_fill, attended, ...), when known.",
    "opportunity_id": "Unique id of the opportunity.",
    "created_at": "When the opportunity was created, UTC: the pipeline conversion event.",
    "closed_at": "When the opportunity was closed, UTC: the revenue conversion event (null while "
    "open at as-of). A date-only close date is the start of its day; its journey covers the day.",
    "expected_close_at": GLOSSARY["expected close date"] + " UTC.",
    "stage": "open, closed_won or closed_lost at as-of (mapped from stage_label; a deal closed "
    "after as-of is open).",
    "stage_label": "The stage exactly as the CRM export gave it.",
    "lead_source": "The opportunity's lead source from the CRM, normalized like a channel (lower "
    "snake case), when the export has one.",
    "sourced_amount": "Pipeline (won revenue) of the opportunities the channel sourced: the "
    "first-touch channel of the journey, or the lead_source column (setting sourced_by). "
    "Additive: sums to the total.",
    "sourced_opportunities": "How many opportunities the channel sourced.",
    "is_created_date_only": "created_at was a date without a time: the pipeline journey covers "
    "that whole day.",
    "is_closed_date_only": "closed_at was a date without a time: the revenue journey covers that whole day.",
    "is_fx_stale": "A conversion used an fx rate older than fx_max_age_days.",
    "fx_base_currency": "The currency fx rates convert into; other currencies cross through it.",
    "amount": "Opportunity amount in its own currency.",
    "currency": "ISO 4217 currency of the amount.",
    "pipeline_amount": "Amount in the reporting currency at the fx rate of created_at's date.",
    "revenue_amount": "Amount in the reporting currency at the fx rate of closed_at's date "
    "(closed opportunities only).",
    "reporting_currency": "The currency every reported amount is expressed in.",
    "journey_kind": "pipeline (touches up to created_at), revenue (touches up to closed_at), "
    "qualified (touches up to qualified_at) or a milestone kind (touches up to the account's "
    "first such milestone).",
    "event_at": "The conversion event of the journey: created_at (pipeline), closed_at (revenue) "
    "or qualified_at (qualified; closed_at for a deal lost without qualifying).",
    "window_start_at": "Start of the journey window: created_at - lookback.",
    "journey_amount": "The value the journey distributes: pipeline_amount (pipeline, qualified) "
    "or revenue_amount.",
    "is_converted": "True when the journey ends in the measured conversion (every pipeline "
    "journey; won revenue journeys; qualified journeys of qualified deals). Only converted "
    "journeys get credits.",
    "figure": "Which velocity figure the interval is of: win_rate, average_deal_size, "
    "sales_cycle_days or pipeline_velocity_per_day.",
    "milestones": "The milestones (journeys of a milestone kind) worth the channel under the "
    "model: each account's journey weighed by the channel's credit in it.",
    "reached_milestones": "Of those milestones' worth, the part whose account reached the step.",
    "p90_days_in_stage": "90th percentile of the days spent in the stage over stays that ended.",
    "is_outside_interval": "The model's attributed figure lies outside the interval the experiment measured.",
    "measured_incremental": "The experiment's incremental total: CUPED lift per treated unit x "
    "treated units.",
    "experiment_id": "The experiment's id (it seeds the assignment's draw).",
    "decision": "The pre-registered rule's verdict: scale (the interval's lower bound above the "
    "threshold), stop (its upper bound below it), inconclusive, or no_decision (too few units, "
    "or the test starts after as-of).",
    "cuped_lift": "The lift per treated unit after CUPED: each unit's outcome minus theta x its "
    "pre-period outcome's distance from the mean.",
    "variance_reduction": "1 - var(CUPED-adjusted outcome) / var(outcome): what the pre-period "
    "took out of the noise.",
    "total_incremental": "cuped_lift x treated units: the metric the treatment added in total.",
    "sample_ratio_p": "Chi-square p of the arms' sizes against the intended control share; below "
    "0.001 is a sample-ratio mismatch.",
    "contaminated_control_units": "Control units touched by the tested channel or campaign during the test.",
    "cohort_grain": "How the deals are grouped into cohorts: all (every deal), month or "
    "fiscal_quarter of creation.",
    "cohort": "The cohort within its grain: (all), the month's first day, or the fiscal quarter.",
    "channel_basis": "sourced (each deal under the one channel that sourced it) or influenced "
    "(under every channel its pipeline journey touched: not additive).",
    "cohort_leads": "The leads of the cohort (month of their first step, or every month) and channel.",
    "reached_leads": "Of cohort_leads, those that reached the step (it or any later step).",
    "first_touch_channel": "The channel of the lead's first kept touch at or before its first "
    "step; (none) without one.",
    "step": "A step of the lead funnel: a milestone, opportunity or closed_won.",
    "step_position": "The step's place in the lead funnel (1 = first).",
    "median_days_to_reach": "Median days from the lead's first step to this step (leads that "
    "have the step itself).",
    "p90_days_to_reach": "90th percentile of those days.",
    "qualified_at": "When the deal first entered the qualification stage or a later one by "
    "as-of (its stage history; a won deal without history rows: its close); null when not "
    "qualified.",
    "touch_count": "Number of touches in the journey.",
    "position": "1-based position of the touch in its journey, ordered by (occurred_at, touchpoint_id).",
    "days_before_event": "Days from the touch to the conversion event (fractional).",
    "model": "The attribution model: each model's 'model <name>' entry of the glossary says how it "
    "gives credit.",
    "credit": GLOSSARY["credit"],
    "attributed_amount": "credit x journey_amount, in the reporting currency.",
    "period_month": "First day of the month of the conversion event (company calendar): "
    "created_at for pipeline, closed_at for revenue.",
    "fiscal_quarter": "The fiscal quarter of period_month, e.g. FY2027-Q1 (fiscal years named by "
    "the calendar year they end in; setting fiscal_year_start_month).",
    "share_of_total": "attributed_amount / total of the journey kind and model.",
    "opportunities_credited": "Distinct opportunities that gave this channel a non-zero credit.",
    "source": "The input the row came from: touchpoints, opportunities, fx_rates or milestones.",
    "milestone": "A funnel milestone of an account (lead_created, mql, sql, ...), or a journey "
    "position (first_touch, lead_created, opportunity_created, closed_won) held by a touch.",
    "source_file": "The file the row was read from.",
    "source_row": "1-based row number within the source load.",
    "record": "The input row as JSON, exactly as read (text).",
    "reason": "Why the row was quarantined (a QuarantineReason code).",
    "loaded_at": "When the load ran (the run's as-of time), UTC.",
    "is_closed_after_as_of": "The deal closed after as-of: it is reported as open at as-of.",
    "created_event_at": "The pipeline conversion instant: created_at, or the last instant of "
    "its day for a date-only value.",
    "closed_event_at": "The revenue conversion instant: closed_at, or the last instant of its "
    "day for a date-only value.",
    "role": "What a staged touch is to the pipeline Markov chain: in_pipeline_journey, "
    "in_sales_cycle, censored (last lookback before as-of) or null_path.",
    "share_of_touches": "touch_count / all staged touches.",
    "channel_touch_count": "Touches of the channel in the journey.",
    "path_id": "A Markov path: the opportunity_id of a journey, or account#chunk for a pipeline null path.",
    "path": "The channels of a Markov path, in journey order.",
    "conversion_value": "The value a Markov path converts: its journey amount for a converting "
    "journey, 0 for a non-converting path.",
    "fraction": "The channel's fitted Markov share of the journey (split over its touches).",
    "opportunities": "Number of opportunities (won ones for revenue).",
    "influenced_opportunities": "Opportunities whose journey has at least one touch.",
    "total_amount": "Total pipeline (or won revenue) in the reporting currency.",
    "influenced_amount": "The part of total_amount whose journeys have at least one touch "
    "(model-independent).",
    "removal_effect": "1 - P(conversion without the channel) / P(conversion).",
    "share": "removal_effect / sum of removal effects of the journey kind.",
    "canonical_conversions": "share x converting journeys: the Markov answer in conversions "
    "(what ChannelAttribution and DP6 report).",
    "fitted_conversions": "Sum of the channel's per-journey Markov credits: the canonical "
    "conversions wherever reachable.",
    "conversion_gap": "fitted_conversions - canonical_conversions.",
    "canonical_value": "share x total value (value split by share, ignoring deal size).",
    "fitted_value": "Sum of credit x journey amount: the Markov value, following deal size; the "
    "markov column of every mart.",
    "p_conversion": "P(conversion) of the absorbing chain, solved exactly; 1 when there is no "
    "non-converting path.",
    "after_as_of_rows": "Input rows later than as-of: counted, left out, not quarantined.",
    "excluded_rows": "Opportunity rows of a type the type filter leaves out of pipeline: counted, "
    "not staged, not quarantined.",
    "opportunity_type": "The opportunity's type from the CRM (new_business, renewal, expansion, "
    "...), lower snake case, when the export has one.",
    "segments": "The segment columns of the settings as read (dimension -> value).",
    "dimension": "A segment dimension: the lower-snake name of a segment column (segment, region, type).",
    "segment_value": "The opportunity's value of the dimension as the CRM wrote it; blank: '(not set)'.",
    "share_of_segment": "attributed_amount / the segment value's total for the journey kind and model.",
    "quarter_start": "First day of the fiscal quarter.",
    "share_of_quarter": "attributed_amount / the fiscal quarter's total for the journey kind and model.",
    "spend_date": "The day of the spend line (a month given as YYYY-MM is its first day).",
    "spend_amount": "Spend in the reporting currency at the fx rate of the spend date.",
    "period_grain": "month, quarter (fiscal) or all: the period a row covers; sum within one grain only.",
    "period_start": "First day of the row's month or fiscal quarter (null for all periods).",
    "attributed_pipeline": "Pipeline the model attributes (opportunities created in the period).",
    "attributed_revenue": "Won revenue the model attributes (opportunities won in the period).",
    "cost_per_pipeline_dollar": "spend_amount / attributed_pipeline: what one dollar of attributed "
    "pipeline cost (null without attributed pipeline).",
    "pipeline_per_spend_dollar": "attributed_pipeline / spend_amount (null without spend).",
    "revenue_per_spend_dollar": "attributed_revenue / spend_amount (null without spend).",
    "median_days_to_opportunity": "Median days from the channel's first journey touch to the "
    "opportunity's creation.",
    "p90_days_to_opportunity": "90th percentile of the days to the opportunity's creation.",
    "won_opportunities": "How many of the opportunities were won (at as-of).",
    "median_days_to_won": "Median days from the channel's first journey touch to the won close.",
    "p90_days_to_won": "90th percentile of the days to the won close.",
    "median_touches_per_journey": "Median touches of the pipeline journeys counted.",
    "p90_touches_per_journey": "90th percentile of touches per pipeline journey.",
    "mean_touches_per_journey": "Mean touches per pipeline journey.",
    "table_name": "The reporting table a reconciliation row checks.",
    "cut": "What a reconciliation row cuts by: total, period_month, fiscal_quarter or segment:<dimension>.",
    "cut_value": "The cell of the cut (a month, a fiscal quarter, a segment value, or (all)).",
    "expected_amount": "What the opportunities hold in the cell: their pipeline or won revenue.",
    "reported_amount": "What the table reports for the cell.",
    "difference": "reported - expected (attributed - total in mart_reconciliation).",
    "is_reconciled": "The two agree to the cent.",
    "attributed_low": "Lower end of the confidence interval of attributed_amount.",
    "attributed_high": "Upper end of the confidence interval of attributed_amount.",
    "share_low": "Lower end of the confidence interval of the share of the total.",
    "share_high": "Upper end of the confidence interval of the share of the total.",
    "confidence_level": "The level of the interval (setting interval_level, default 0.9).",
    "replicates": "Bootstrap replicates behind the interval (setting interval_replicates).",
    "level": "channel or campaign: what an interval row is about.",
    "markov_order": "The order of the Markov chain: how many past channels a state remembers.",
    "training_paths": "Paths (converting journeys and non-converting paths) the chain was fitted on.",
    "holdout_paths": "Paths of the held-out fifth of the accounts it was scored on.",
    "training_states": "Transient states the fitted chain has.",
    "holdout_log_likelihood": "Mean log-likelihood of a held-out path under the chain (higher is better).",
    "holdout_log_likelihood_per_step": "The same per transition.",
    "holdout_auc": "AUC of conversion on the held-out paths (0.5 = chance).",
    "is_recommended": "The order the held-out likelihood recommends.",
    "is_configured": "The order the settings run (markov_order).",
    "first_run_id": "The run that first reported the period (earliest retained snapshot).",
    "first_as_of": "That run's as-of.",
    "current_run_id": "The latest run.",
    "current_as_of": "The latest run's as-of.",
    "first_reported_amount": "The amount the first run reported for the row.",
    "current_amount": "The amount the latest run reports.",
    "new_opportunities": "Journeys of the period in the latest run and not in the first.",
    "removed_opportunities": "Journeys of the period in the first run and not in the latest.",
    "stage_changes": "Journeys of the period whose stage changed.",
    "amount_changes": "Journeys of the period whose amount or currency changed.",
    "fx_changes": "Journeys of the period with the same amount and currency but another converted value.",
    "journey_changes": "Journeys of the period whose touches changed (late or removed touches).",
}

# why an input row was quarantined: one sentence per QuarantineReason (attribution.contracts)
QUARANTINE_REASONS: dict[str, str] = {
    "missing_required": "A required value is blank (a blank currency in a present currency column included).",
    "bad_timestamp": "A timestamp or date that does not parse.",
    "bad_amount": "An amount that is not a number, NaN or infinite, negative, or above 1e12.",
    "bad_stage": "An is_closed / is_won value that is not a boolean.",
    "closed_before_created": "A closed deal whose close is before its creation (an open deal's "
    "date is an expectation and is kept).",
    "missing_closed_at": "A closed deal without a close date.",
    "future_timestamp": "Later than the run's wall clock plus a day: bad data, not merely after "
    "as-of (rows after as-of are counted as after_as_of_rows, not quarantined).",
    "duplicate_id": "A repeated id; the first valid occurrence is kept.",
    "unknown_currency": "No fx rate on or before the event's date for the currency.",
    "wrong_base_currency": "An fx row whose to_currency is not the fx base currency.",
    "unknown_opportunity": "A history row of an opportunity no staged opportunity has (absent "
    "from the opportunities export, or quarantined itself).",
    "changed_before_created": "A history row more than a minute before its opportunity's creation.",
    "unknown_stage": "A history row's stage label is neither in the funnel's stages (setting "
    "stage_order, else the CRM's default sequence) nor in the stage map: add it to one of them.",
    "bad_window": "An experiment that ends before it starts, or has negative follow-up days.",
    "bad_experiment": "An experiment whose unit is neither account nor geo (or a geo without its "
    "column), whose alpha or control share is outside (0, 1), whose threshold or follow-up is no "
    "number, or that names neither a channel nor a campaign.",
    "bad_arm": "An assignment whose arm is neither treatment nor control.",
    "unknown_experiment": "An assignment of an experiment no staged experiment has (absent, or "
    "quarantined itself).",
    "unknown_unit": "An account unit of an assignment that no staged touch, opportunity or "
    "milestone names: a typo, or an account outside the export.",
}
