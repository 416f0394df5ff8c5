-- batch_journey_touches (model input): one row per touch of the converted journeys of one
-- account batch, in no particular order: the models read `position` and `touch_count`, and the
-- wide credits follow this row order (a sort of every touch row here cost 0.6 s at L).
-- Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch).
select journey_kind, opportunity_id, touchpoint_id, channel, campaign, touch_type, position, touch_count, days_before_event
from int_journey_touches
where is_converted and in_batch(account_id, $batch, $batches)
