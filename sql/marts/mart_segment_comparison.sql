-- mart_segment_comparison: one row per (journey_kind, model, dimension, segment_value,
-- channel): the amount the model attributes to the channel within the segment (all periods),
-- its share of the segment's total, and how many of the segment's opportunities gave the
-- channel a non-zero credit. Per (journey_kind, model, dimension, segment_value) the rows sum
-- to the segment's pipeline / won revenue; per (journey_kind, model, dimension) to the total.
-- Reads int_credits_by_channel, int_opportunity_segments. No parameters. Money summed
-- exactly (macros.sql).
with credits as (
    select journey_kind, model, channel, opportunity_id, credit, attributed_micros
    from int_credits_by_channel
),

by_segment as (
    select
        credits.journey_kind,
        credits.model,
        segments.dimension,
        segments.segment_value,
        credits.channel,
        sum(credits.attributed_micros) as attributed_micros,
        count(*) filter (where credits.credit > 0) as opportunities_credited
    from credits
    inner join int_opportunity_segments as segments using (opportunity_id)
    group by all
),

final as (
    select
        journey_kind,
        model,
        dimension,
        segment_value,
        channel,
        from_micros(attributed_micros) as attributed_amount,
        from_micros(attributed_micros) / nullif(from_micros(sum(attributed_micros) over (
            partition by journey_kind, model, dimension, segment_value
        )), 0) as share_of_segment,
        opportunities_credited
    from by_segment
)

select * from final
order by journey_kind, model, dimension, segment_value, attributed_amount desc, channel
