-- mart_channel_comparison: one row per (journey_kind, model, channel): the amount the model
-- attributes to the channel over all converted journeys, its share of the model's total,
-- how many opportunities gave the channel a non-zero credit, and the confidence interval of
-- the amount and the share (int_attribution_intervals: a Poisson bootstrap over
-- opportunities, level in confidence_level; null when intervals are off).
-- Reads int_attributed_by_segment (its '(all)' rows), int_attribution_intervals. No
-- parameters. Money summed exactly (macros.sql).
with intervals as (
    select * from int_attribution_intervals where level = 'channel'
),

by_channel as (
    select
        journey_kind,
        model,
        channel,
        sum(attributed_picos) as attributed_picos,
        sum(opportunities_credited) as opportunities_credited
    from int_attributed_by_segment
    where dimension = '(all)'
    group by journey_kind, model, channel
),

final as (
    select
        by_channel.journey_kind,
        by_channel.model,
        by_channel.channel,
        from_picos(by_channel.attributed_picos) as attributed_amount,
        from_picos(by_channel.attributed_picos) / nullif(from_picos(
            sum(by_channel.attributed_picos) over (partition by by_channel.journey_kind, by_channel.model)
        ), 0) as share_of_total,
        by_channel.opportunities_credited,
        intervals.attributed_low,
        intervals.attributed_high,
        intervals.share_low,
        intervals.share_high,
        intervals.confidence_level
    from by_channel
    left join intervals using (journey_kind, model, channel)
)

select * from final
order by journey_kind, model, attributed_amount desc, channel
