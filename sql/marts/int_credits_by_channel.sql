-- int_credits_by_channel: one row per (journey_kind, model, opportunity, channel): the credit the
-- model gives the channel's touches in that journey (summed) and the amount it attributes to
-- them, in exact micro-units (the sum of each touch's to_micros(credit x journey amount), so
-- every mart built on it adds up to the same micro-unit as the touch-level credits), with
-- the journey's company-calendar month and fiscal quarter. Empty journeys: channel `(none)`.
-- The shared grain of the channel-level marts (by month, quarter, channel, segment and the
-- reconciliation): N models long but one row per channel, not per touch, and an opportunity
-- appears once per (model, channel), so "opportunities credited" is a count, not a
-- count(distinct).
-- Reads int_attribution_credits (wide: one credit column per model run), int_journeys.
-- No parameters.
with credits as (
    select * from int_attribution_credits
),

journeys as (
    select journey_kind, opportunity_id, period_month, fiscal_quarter, journey_amount
    from int_journeys
),

touch_credits as (
    select
        credits.journey_kind,
        credits.opportunity_id,
        credits.channel,
        journeys.period_month,
        journeys.fiscal_quarter,
        journeys.journey_amount,
        -- every other column of the wide credits is one model's credit
        credits.* exclude (journey_kind, opportunity_id, touchpoint_id, channel)
    from credits
    inner join journeys using (journey_kind, opportunity_id)
),

model_credits as (
    select *
    from touch_credits
    unpivot include nulls (
        credit for model in (columns(* exclude (
            journey_kind, opportunity_id, channel, period_month, fiscal_quarter, journey_amount
        )))
    )
),

final as (
    select
        journey_kind,
        model,
        opportunity_id,
        channel,
        period_month,
        fiscal_quarter,
        sum(credit) as credit,
        sum(to_micros(credit * journey_amount)) as attributed_micros
    from model_credits
    group by journey_kind, model, opportunity_id, channel, period_month, fiscal_quarter
)

select * from final
