-- batch_null_path_touches (model input): one row per touch of the non-converting paths of one
-- account batch, in path order. Parameters: $batch, $batches. DuckDB-only: hash().
select journey_kind, path_id, position, channel
from int_null_path_touches
where hash(account_id) % $batches = $batch
order by journey_kind, path_id, position
