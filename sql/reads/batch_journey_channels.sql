-- batch_journey_channels (model input): one row per (journey_kind, converted journey, channel)
-- of one account batch (in_batch: hash(account_id) % $batches = $batch): how many touches the channel
-- has in the journey and the journey's amount: what the Markov and Shapley fits spread over
-- (models.base.journey_channels computes the same from journey touches). Read from the
-- journeys' paths (int_markov_paths), not from their touches. In no order: the fits sort what
-- they sum (sorting here cost 0.26 s of 0.63 at 100k opportunities, in both fits).
-- Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch), unnest.
with journey_channels as (
    select journey_kind, path_id as opportunity_id, conversion_value, unnest(path) as channel
    from int_markov_paths
    where is_converted and in_batch(account_id, $batch, $batches)
)

select
    journey_kind,
    opportunity_id,
    channel,
    cast(count(*) as uinteger) as channel_touch_count,
    any_value(conversion_value) as journey_amount
from journey_channels
group by journey_kind, opportunity_id, channel
