-- mart_channel_comparison: one row per (journey_kind, model, channel): the amount the model
-- attributes to the channel over all converted journeys, its share of the model's total,
-- how many opportunities gave the channel a non-zero credit, and the confidence interval of
-- the amount and the share (int_attribution_intervals: a Poisson bootstrap over
-- opportunities, level in confidence_level; null when intervals are off).
-- Reads int_credits_by_channel, int_attribution_intervals. No parameters. Money summed
-- exactly (macros.sql).
with -- the models as columns, summed at this grain
wide as (
    select
        journey_kind, channel,
        sum(columns('^picos_(.*)$')) as "picos_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from int_credits_by_channel
    group by journey_kind, channel
),

-- then one row per model: its amount and the opportunities that gave a non-zero credit
amounts as (
    select journey_kind, channel, substr(model, 7) as model, attributed_picos
    from wide
    unpivot (attributed_picos for model in (columns('^picos_')))
),

credited as (
    select journey_kind, channel, substr(model, 10) as model, opportunities_credited
    from wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

credits as (
    select *
    from amounts
    inner join credited using (journey_kind, channel, model)
),

intervals as (
    select * from int_attribution_intervals where level = 'channel'
),

by_channel as (
    select journey_kind, model, channel, attributed_picos, opportunities_credited from credits
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
