-- mart_segment_comparison: one row per (journey_kind, model, dimension, segment_value,
-- channel): the amount the model attributes to the channel within the segment (all periods),
-- its share of the segment's total, and how many of the segment's opportunities gave the
-- channel a non-zero credit. Per (journey_kind, model, dimension, segment_value) the rows sum
-- to the segment's pipeline / won revenue; per (journey_kind, model, dimension) to the total.
-- Reads int_attributed_by_segment (its segment rows). No parameters. Money summed
-- exactly (macros.sql).
with by_segment as (
    select
        journey_kind,
        model,
        dimension,
        segment_value,
        channel,
        sum(attributed_picos) as attributed_picos,
        sum(opportunities_credited) as opportunities_credited
    from int_attributed_by_segment
    where dimension <> '(all)'
    group by journey_kind, model, dimension, segment_value, channel
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
