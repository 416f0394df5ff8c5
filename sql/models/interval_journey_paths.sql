-- interval_journey_paths (model input): one row per converted journey of $journey_kind with
-- touches: its channels in journey order (the Markov path), its distinct channels sorted
-- (the Shapley channel set) and the rank of its path among the distinct paths (0-based).
with paths as (
    select opportunity_id, list(channel order by position) as path
    from int_journey_touches
    where is_converted and journey_kind = $journey_kind
    group by opportunity_id
)

select
    opportunity_id,
    path,
    list_sort(list_distinct(path)) as channel_set,
    dense_rank() over (order by path) - 1 as path_rank
from paths
order by opportunity_id
