-- batch_milestone_touches (model input): the milestones the touches of one account batch's
-- journeys hold. Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch), semi join.
select m.journey_kind, m.opportunity_id, m.milestone, m.touchpoint_id
from int_journey_milestones as m
semi join (
    select journey_kind, opportunity_id from int_journeys
    where is_converted and in_batch(account_id, $batch, $batches)
) as j using (journey_kind, opportunity_id)
