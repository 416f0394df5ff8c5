-- mart_channel_comparison: one row per (journey_kind, model, channel): the amount the model
-- attributes to the channel over all converted journeys, its share of the model's total,
-- and how many opportunities gave the channel a non-zero credit.
-- Reads mart_attribution_credits. No parameters.
-- Money is summed as integers (micro-units of attributed amounts, cents of opportunity
-- amounts): exact, so the result does not depend on the order DuckDB adds rows in.
with credits as (
    select * from mart_attribution_credits
),

by_channel as (
    select
        journey_kind,
        model,
        channel,
        cast(sum(cast(round(attributed_amount * 1e6) as hugeint)) as double) / 1e6 as attributed_amount,
        count(distinct opportunity_id) filter (where credit > 0) as opportunities_credited
    from credits
    group by all
),

final as (
    select
        journey_kind,
        model,
        channel,
        attributed_amount,
        attributed_amount / nullif((cast(sum(cast(round(attributed_amount * 1e6) as hugeint)) over (
            partition by journey_kind, model
        ) as double) / 1e6), 0)
            as share_of_total,
        opportunities_credited
    from by_channel
)

select * from final
order by journey_kind, model, attributed_amount desc, channel
