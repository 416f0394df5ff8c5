-- order_selection_paths (model input): one row per path of $journey_kind the Markov chain is
-- fitted on (int_markov_paths: converted journeys with touches and non-converting paths), its
-- channels in order as 0-based codes (their rank in $channels, the kind's sorted channels),
-- and whether it is held out: the accounts with md5_number(account_id) % 5 = 0 (a fifth,
-- deterministic, never split across the two sets).
-- Parameters: $journey_kind, $channels. DuckDB-only: md5_number(), list_transform, list_position.
select
    path_id as path_key,
    is_converted,
    list_transform(path, lambda channel: cast(list_position($channels, channel) - 1 as usmallint)) as path,
    md5_number(account_id) % 5 = 0 as is_holdout
from int_markov_paths
where journey_kind = $journey_kind
order by is_converted desc, path_key
