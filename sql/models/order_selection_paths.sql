-- order_selection_paths (model input): one row per path of $journey_kind the Markov chain is
-- fitted on: every converted journey with touches (is_converted) and every non-converting
-- path, its channels in order, and whether it is held out: the accounts with
-- md5_number(account_id) % 5 = 0 (a fifth, deterministic, never split across the two sets).
-- Channels as 0-based codes: their rank in $channels (the kind's sorted channels).
-- Parameters: $journey_kind, $channels. DuckDB-only: md5_number(), list_position().
with journeys as (
    select account_id, opportunity_id as path_key, true as is_converted, list(cast(list_position($channels, channel) - 1 as usmallint) order by position) as path
    from int_journey_touches
    where is_converted and journey_kind = $journey_kind
    group by account_id, opportunity_id
),

null_paths as (
    select account_id, cast(path_id as varchar) as path_key, false as is_converted,
        list(cast(list_position($channels, channel) - 1 as usmallint) order by position) as path
    from int_null_path_touches
    where journey_kind = $journey_kind
    group by account_id, path_id
),

final as (
    select path_key, is_converted, path, md5_number(account_id) % 5 = 0 as is_holdout from journeys
    union all
    select path_key, is_converted, path, md5_number(account_id) % 5 = 0 from null_paths
)

select * from final
order by is_converted desc, path_key
