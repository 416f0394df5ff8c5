-- shapley_set_counts (model input): one row per (journey_kind, distinct channel set): how many
-- converting journeys and how many non-converting paths have exactly that set of channels
-- (sorted, distinct). What models.shapley.count_channel_sets computes from journey touches,
-- aggregated where the touches are. No parameters.
with journey_sets as (
    select journey_kind, list(distinct channel order by channel) as channel_set, 1 as conversions, 0 as nulls
    from int_journey_touches
    where is_converted
    group by journey_kind, opportunity_id
),

null_path_sets as (
    select journey_kind, list(distinct channel order by channel) as channel_set, 0 as conversions, 1 as nulls
    from int_null_path_touches
    group by journey_kind, path_id
)

select
    journey_kind,
    channel_set,
    cast(sum(conversions) as bigint) as conversions,
    cast(sum(nulls) as bigint) as nulls
from (select * from journey_sets union all select * from null_path_sets)
group by journey_kind, channel_set
order by journey_kind, channel_set
