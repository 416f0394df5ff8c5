-- batch_journey_values (model input): one row per converted journey of one account batch
-- (hash(account_id) % $batches = $batch): journey_kind, opportunity_id, journey_amount.
-- Parameters: $batch, $batches (integers). DuckDB-only: hash().
select journey_kind, opportunity_id, journey_amount
from int_journeys
where is_converted and hash(account_id) % $batches = $batch
order by journey_kind, opportunity_id
