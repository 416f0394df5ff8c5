-- mart_channel_comparison: one row per (journey_kind, model, channel): the amount the model
-- attributes to the channel over all converted journeys, its share of the model's total,
-- and how many opportunities gave the channel a non-zero credit.
-- Reads mart_attribution_credits. No parameters.
-- Sums run in a fixed order (order by inside the aggregate) so reruns are byte-identical.
with credits as (
    select * from mart_attribution_credits
),

by_channel as (
    select
        journey_kind,
        model,
        channel,
        sum(attributed_amount order by opportunity_id, touchpoint_id) as attributed_amount,
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
        attributed_amount / nullif(sum(attributed_amount) over (
            partition by journey_kind, model order by channel
            rows between unbounded preceding and unbounded following
        ), 0)
            as share_of_total,
        opportunities_credited
    from by_channel
)

select * from final
order by journey_kind, model, attributed_amount desc, channel
