-- int_null_path_touches: one row per touch of a Markov non-converting path:
-- (journey_kind, path_id, account_id, touchpoint_id, occurred_at, channel, position).
-- This model holds the revenue paths, the journeys of closed_lost opportunities (open ones
-- are left out); the pipeline paths, each account's null_path touches (int_touch_roles) cut
-- into lookback-long chunks, are appended by attribution.journeys.pipeline_null_paths
-- (a greedy cut each chunk starting at its first touch, done in polars in account batches).
-- Reads int_journey_touches. No parameters.
select
    'revenue' as journey_kind,
    opportunity_id as path_id,
    account_id,
    touchpoint_id,
    occurred_at,
    channel,
    position
from int_journey_touches
where journey_kind = 'revenue' and not is_converted
