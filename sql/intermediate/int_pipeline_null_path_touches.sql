-- int_pipeline_null_path_touches: one row per touch of a pipeline Markov non-converting path:
-- (journey_kind, path_id, account_id, touchpoint_id, occurred_at, channel, position), each
-- account's null_path touches (int_touch_roles) cut into lookback-long chunks. The rows are
-- appended by attribution.journeys.build_null_paths (pipeline_null_paths: a greedy cut, each
-- chunk starting at its first touch, done in polars in account batches); this model gives
-- the table its columns, typed as the journey touches' (no rows).
-- Reads int_journey_touches. No parameters.
select
    'pipeline' as journey_kind,
    opportunity_id as path_id,
    account_id,
    touchpoint_id,
    occurred_at,
    channel,
    position
from int_journey_touches
where false
