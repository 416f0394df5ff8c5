-- int_eligible_touches (a view): one row per staged touch the touch rules keep: every touch
-- of stg_touchpoints except those whose touch_type or channel int_touch_rules excludes
-- (e.g. email_open, impression). Journeys and null paths are built from it.
-- Reads stg_touchpoints, int_touch_rules. No parameters.
select t.*
from stg_touchpoints as t
where not exists (
    select 1 from int_touch_rules as r
    where (r.rule = 'excluded_touch_type' and r.value = t.touch_type)
        or (r.rule = 'excluded_channel' and r.value = t.channel)
)
