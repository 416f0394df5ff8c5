-- batch_journey_channels (model input): one row per (journey_kind, converted journey, channel)
-- of one account batch (hash(account_id) % $batches = $batch): how many touches the channel
-- has in the journey and the journey's amount: what the Markov and Shapley fits spread over
-- (models.base.journey_channels computes the same from journey touches).
-- Parameters: $batch, $batches. DuckDB-only: hash().
select
    touches.journey_kind,
    touches.opportunity_id,
    touches.channel,
    cast(count(*) as uinteger) as channel_touch_count,
    coalesce(any_value(journeys.journey_amount), 0.0) as journey_amount
from int_journey_touches as touches
inner join int_journeys as journeys using (journey_kind, opportunity_id)
where touches.is_converted and hash(touches.account_id) % $batches = $batch
group by touches.journey_kind, touches.opportunity_id, touches.channel
order by touches.journey_kind, touches.opportunity_id, touches.channel
