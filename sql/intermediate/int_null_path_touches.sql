-- int_null_path_touches (a view): one row per touch of a Markov non-converting path:
-- (journey_kind, path_id, account_id, touchpoint_id, occurred_at, channel, position).
-- pipeline: int_pipeline_null_path_touches (each account's null_path touches cut into
-- lookback-long chunks); revenue: the revenue journeys of closed_lost opportunities (open
-- ones are left out), read from int_journey_touches where they are (a view, so those 2M
-- rows at L are not written twice).
-- Reads int_pipeline_null_path_touches, int_journey_touches. No parameters.
select journey_kind, path_id, account_id, touchpoint_id, occurred_at, channel, position
from int_pipeline_null_path_touches
union all
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
