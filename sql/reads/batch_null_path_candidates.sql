-- batch_null_path_candidates: the null_path touches of one account batch (the temp table
-- _touch_roles: int_touch_roles as of this build, each null_path touch with its account's
-- batch), to be cut into pipeline null paths. Parameters: $batch.
select account_id, touchpoint_id, occurred_at, channel
from _touch_roles
where batch = $batch
