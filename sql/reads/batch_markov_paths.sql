-- batch_markov_paths (model input): the Markov chain's paths of one journey kind and one
-- account batch (in_batch: hash(account_id) % $batches = $batch), from int_markov_paths: one row per
-- converting journey (conversions 1, value = the journey amount) or non-converting path
-- (nulls 1), its channels in journey order as 0-based codes: the rank of the channel in
-- $channels (the kind's sorted channel list, reads/markov_channels.sql), so integers cross
-- to polars, not strings. Counts are sums of whole numbers: row order does not matter.
-- Parameters: $journey_kind, $channels (list of text), $batch, $batches. DuckDB-only:
-- hash() (macros.sql in_batch), list_transform, list_position.
select
    list_transform(path, lambda channel: cast(list_position($channels, channel) - 1 as usmallint)) as path,
    cast(is_converted as integer) as conversions,
    cast(not is_converted as integer) as nulls,
    conversion_value as value
from int_markov_paths
where journey_kind = $journey_kind and in_batch(account_id, $batch, $batches)
