-- mart_channel_comparison: one row per (journey_kind, model, channel): the amount the model
-- attributes to the channel over all converted journeys, its share of the model's total,
-- and how many opportunities gave the channel a non-zero credit.
-- Reads mart_attribution_credits. No parameters. Money summed exactly (macros.sql).
with credits as (
    select * from mart_attribution_credits
),

by_channel as (
    select
        journey_kind,
        model,
        channel,
        sum(to_micros(attributed_amount)) as attributed_micros,
        count(distinct opportunity_id) filter (where credit > 0) as opportunities_credited
    from credits
    group by journey_kind, model, channel
),

final as (
    select
        journey_kind,
        model,
        channel,
        from_micros(attributed_micros) as attributed_amount,
        from_micros(attributed_micros)
            / nullif(from_micros(sum(attributed_micros) over (partition by journey_kind, model)), 0)
            as share_of_total,
        opportunities_credited
    from by_channel
)

select * from final
order by journey_kind, model, attributed_amount desc, channel
