-- interval_null_paths (model input): one row per distinct non-converting path of
-- $journey_kind (channels in order), its distinct channels sorted, and how many paths have it.
with paths as (
    select path_id, list(channel order by position) as path
    from int_null_path_touches
    where journey_kind = $journey_kind
    group by path_id
)

select path, list_sort(list_distinct(path)) as channel_set, count(*) as nulls
from paths
group by path
order by path
