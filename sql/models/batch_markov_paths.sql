-- batch_markov_paths (model input): the Markov chain's aggregated paths of one journey kind and
-- one account batch (hash(account_id) % $batches = $batch): one row per converting journey
-- (its channels in journey order as codes, conversions 1, value = the journey amount), in
-- opportunity order, then one row per non-converting path (nulls 1), in path order: the
-- order the polars route used, so the counts are the same to the last bit.
-- `path` holds 0-based channel codes: the rank of the channel in $channels (the kind's sorted
-- channel list, models/markov_channels.sql); integers cross to polars, not strings.
-- Parameters: $journey_kind, $channels (list of text), $batch, $batches. DuckDB-only: hash(),
-- list(... order by ...), list_position.
with converting as (
    select
        touches.opportunity_id as path_key,
        list(cast(list_position($channels, touches.channel) - 1 as usmallint) order by touches.position)
            as path,
        1 as conversions,
        0 as nulls,
        any_value(journeys.journey_amount) as value
    from int_journey_touches as touches
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
    where touches.is_converted and touches.journey_kind = $journey_kind
        and hash(touches.account_id) % $batches = $batch
    group by touches.opportunity_id
),

non_converting as (
    select
        path_id as path_key,
        list(cast(list_position($channels, channel) - 1 as usmallint) order by position) as path,
        0 as conversions,
        1 as nulls,
        0.0 as value
    from int_null_path_touches
    where journey_kind = $journey_kind and hash(account_id) % $batches = $batch
    group by path_id
)

select path, conversions, nulls, value
from (
    select 0 as part, * from converting
    union all
    select 1 as part, * from non_converting
)
order by part, path_key
