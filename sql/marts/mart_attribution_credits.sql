-- mart_attribution_credits: one row per (journey_kind, model, opportunity, touch): the credit a
-- model gives the touch and the amount it attributes, in the reporting currency. Empty
-- journeys have one `(none)` row per model with credit 1. The source of truth: every other
-- mart aggregates it. Only converted journeys appear (every pipeline journey; won revenue).
-- Reads int_attribution_credits (written by the models), int_journeys, int_journey_touches,
-- stg_opportunities. No parameters.
with credits as (
    select * from int_attribution_credits
),

journeys as (
    select * from int_journeys
),

touchpoints as (
    select journey_kind, opportunity_id, touchpoint_id, occurred_at, campaign
    from int_journey_touches
),

opportunities as (
    select opportunity_id, reporting_currency from stg_opportunities
),

final as (
    select
        credits.journey_kind,
        credits.model,
        credits.opportunity_id,
        journeys.account_id,
        credits.touchpoint_id,
        credits.channel,
        touchpoints.campaign,
        touchpoints.occurred_at,
        journeys.event_at,
        journeys.period_month,
        journeys.fiscal_quarter,
        journeys.stage,
        credits.credit,
        journeys.journey_amount,
        credits.credit * journeys.journey_amount as attributed_amount,
        opportunities.reporting_currency
    from credits
    inner join journeys using (journey_kind, opportunity_id)
    inner join opportunities using (opportunity_id)
    left join touchpoints using (journey_kind, opportunity_id, touchpoint_id)
)

select * from final
