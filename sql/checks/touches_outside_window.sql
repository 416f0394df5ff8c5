-- touches_outside_window (check): journey touches after their conversion event or before
-- their lookback window (at most 100). Empty means every touch is inside its window.
-- No parameters.
select t.journey_kind, t.opportunity_id, t.touchpoint_id, t.occurred_at, j.window_start_at, j.event_at
from int_journey_touches as t
inner join int_journeys as j using (journey_kind, opportunity_id)
where t.occurred_at > j.event_at or t.occurred_at < j.window_start_at
order by 1, 2, 3
limit 100
