-- interval_journey_paths (model input): one row per converted journey of $journey_kind with
-- touches: its channels in journey order (the Markov path), its distinct channels sorted
-- (the Shapley channel set) and the rank of its path among the distinct paths (0-based).
-- Reads int_markov_paths.
select
    path_id as opportunity_id,
    path,
    list_sort(list_distinct(path)) as channel_set,
    dense_rank() over (order by path) - 1 as path_rank
from int_markov_paths
where is_converted and journey_kind = $journey_kind
order by opportunity_id
