-- mart_attribution_credits (a view): one row per (journey_kind, model, opportunity, touch): the
-- credit a model gives the touch and the amount it attributes, in the reporting currency.
-- Empty journeys have one `(none)` row per model with credit 1. The source of truth of every
-- mart, in the long layout analysts and exports read. Only converted journeys appear (every
-- pipeline journey; won revenue).
-- Reads int_attribution_credits (the models' credits, wide: one column per model run),
-- int_journeys, int_journey_touches, stg_opportunities (a milestone kind's journey has no
-- opportunity: no reporting currency). No parameters. A view: the wide
-- credits are joined to their journeys and touches first (one row per touch), then unpivoted
-- (one row per model), so nothing N models long is ever stored.
with credits as (
    select * from int_attribution_credits
),

journeys as (
    select * from int_journeys
),

touchpoints as (
    select journey_kind, opportunity_id, touchpoint_id, occurred_at
    from int_journey_touches
),

opportunities as (
    select opportunity_id, reporting_currency from stg_opportunities
),

touch_credits as (
    select
        credits.journey_kind,
        credits.opportunity_id,
        journeys.account_id,
        credits.touchpoint_id,
        credits.channel,
        credits.campaign,
        touchpoints.occurred_at,
        journeys.event_at,
        journeys.period_month,
        journeys.fiscal_quarter,
        journeys.stage,
        journeys.journey_amount,
        opportunities.reporting_currency,
        -- every other column of the wide credits is one model's credit
        credits.* exclude (journey_kind, opportunity_id, touchpoint_id, channel, campaign)
    from credits
    inner join journeys using (journey_kind, opportunity_id)
    left join opportunities using (opportunity_id)
    left join touchpoints using (journey_kind, opportunity_id, touchpoint_id)
),

model_credits as (
    select *
    from touch_credits
    unpivot include nulls (
        credit for model in (columns(* exclude (
            journey_kind, opportunity_id, account_id, touchpoint_id, channel, campaign, occurred_at,
            event_at, period_month, fiscal_quarter, stage, journey_amount, reporting_currency
        )))
    )
),

final as (
    select
        journey_kind,
        model,
        opportunity_id,
        account_id,
        touchpoint_id,
        channel,
        campaign,
        occurred_at,
        event_at,
        period_month,
        fiscal_quarter,
        stage,
        credit,
        journey_amount,
        credit * journey_amount as attributed_amount,
        reporting_currency
    from model_credits
)

select * from final
