-- int_credits_by_channel: one row per (journey_kind, opportunity, channel), wide: per model run,
-- `credit_<model>` (the credit of the channel's touches in that journey, summed) and
-- `picos_<model>` (the amount it attributes to them, in exact pico-units: the sum of each
-- touch's to_picos(credit x journey amount), so every mart built on it adds up to the same
-- pico-unit as the touch-level credits), `units_<model>` (the credit in exact pico-units:
-- reruns give the same shares to the bit), with the journey's company-calendar month and
-- fiscal quarter. Empty journeys: channel `(none)`.
-- The shared grain of the channel-level marts (by month, quarter, channel, segment and the
-- reconciliation): they sum the model columns at their own grain, where an opportunity is one
-- row per channel (so "opportunities credited" is a count_if, not a count(distinct)), and
-- unpivot only their result rows into one row per model.
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
        credits.* exclude (journey_kind, opportunity_id, touchpoint_id, channel, campaign)
    from credits
    inner join journeys using (journey_kind, opportunity_id)
),

final as (
    select
        journey_kind,
        opportunity_id,
        channel,
        period_month,
        fiscal_quarter,
        sum(columns(* exclude (journey_kind, opportunity_id, channel, period_month, fiscal_quarter, journey_amount)))
            as "credit_\0",
        sum(to_picos(
            columns(* exclude (journey_kind, opportunity_id, channel, period_month, fiscal_quarter, journey_amount))
            * journey_amount
        )) as "picos_\0",
        -- the credit again in exact pico-units (an integer sum: the same in any order, where
        -- the float sum above may differ in its last bit between runs): the deal shares
        sum(to_picos(
            columns(* exclude (journey_kind, opportunity_id, channel, period_month, fiscal_quarter, journey_amount))
        )) as "units_\0"
    from touch_credits
    group by journey_kind, opportunity_id, channel, period_month, fiscal_quarter
)

select * from final
