-- mart_segment_comparison: one row per (journey_kind, model, dimension, segment_value,
-- channel): the amount the model attributes to the channel within the segment (all periods),
-- its share of the segment's total, and how many of the segment's opportunities gave the
-- channel a non-zero credit. Per (journey_kind, model, dimension, segment_value) the rows sum
-- to the segment's pipeline / won revenue; per (journey_kind, model, dimension) to the total.
-- Reads int_credits_by_channel, int_opportunity_segments. No parameters. Money summed
-- exactly (macros.sql).
with segment_credits as (
    select
        segments.dimension,
        segments.segment_value,
        credits.*
    from int_credits_by_channel as credits
    inner join int_opportunity_segments as segments using (opportunity_id)
),

-- the models as columns, summed at this grain
wide as (
    select
        journey_kind, dimension, segment_value, channel,
        sum(columns('^picos_(.*)$')) as "picos_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from segment_credits
    group by journey_kind, dimension, segment_value, channel
),

-- then one row per model: its amount and the opportunities that gave a non-zero credit
amounts as (
    select journey_kind, dimension, segment_value, channel, substr(model, 7) as model, attributed_picos
    from wide
    unpivot (attributed_picos for model in (columns('^picos_')))
),

credited as (
    select journey_kind, dimension, segment_value, channel, substr(model, 10) as model, opportunities_credited
    from wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

credits as (
    select *
    from amounts
    inner join credited using (journey_kind, dimension, segment_value, channel, model)
),

by_segment as (
    select journey_kind, model, dimension, segment_value, channel, attributed_picos, opportunities_credited
    from credits
),

final as (
    select
        journey_kind,
        model,
        dimension,
        segment_value,
        channel,
        from_picos(attributed_picos) as attributed_amount,
        from_picos(attributed_picos) / nullif(from_picos(sum(attributed_picos) over (
            partition by journey_kind, model, dimension, segment_value
        )), 0) as share_of_segment,
        opportunities_credited
    from by_segment
)

select * from final
order by journey_kind, model, dimension, segment_value, attributed_amount desc, channel
