-- batch_journey_touches (model input): one row per touch of the converted journeys of one
-- account batch, in journey order. Parameters: $batch, $batches. DuckDB-only: hash().
select journey_kind, opportunity_id, touchpoint_id, channel, campaign, touch_type, position, touch_count, days_before_event
from int_journey_touches
where is_converted and hash(account_id) % $batches = $batch
order by journey_kind, opportunity_id, position
