-- batch_null_path_candidates: the null_path touches of one account batch (the temp table
-- _touch_roles: int_touch_roles as of this build), to be cut into pipeline null paths.
-- Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch).
select account_id, touchpoint_id, occurred_at, channel
from _touch_roles
where role = 'null_path' and in_batch(account_id, $batch, $batches)
