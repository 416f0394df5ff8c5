-- interval_null_paths (model input): one row per distinct non-converting path of
-- $journey_kind (channels in order), its distinct channels sorted, and how many paths have it.
-- Reads int_markov_paths.
select path, list_sort(list_distinct(path)) as channel_set, count(*) as nulls
from int_markov_paths
where not is_converted and journey_kind = $journey_kind
group by path
order by path
