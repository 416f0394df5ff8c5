-- batch_journey_values (model input): one row per converted journey of one account batch
-- (in_batch: hash(account_id) % $batches = $batch): journey_kind, opportunity_id, journey_amount.
-- Parameters: $batch, $batches (integers). DuckDB-only: hash() (macros.sql in_batch).
select journey_kind, opportunity_id, journey_amount
from int_journeys
where is_converted and in_batch(account_id, $batch, $batches)
order by journey_kind, opportunity_id
