-- shapley_set_counts (model input): one row per (journey_kind, distinct channel set): how many
-- converting journeys and how many non-converting paths have exactly that set of channels
-- (sorted, distinct). What models.shapley.count_channel_sets computes from journey touches,
-- here from the paths (int_markov_paths). No parameters.
select
    journey_kind,
    list_sort(list_distinct(path)) as channel_set,
    cast(count_if(is_converted) as bigint) as conversions,
    cast(count_if(not is_converted) as bigint) as nulls
from int_markov_paths
group by journey_kind, channel_set
order by journey_kind, channel_set
