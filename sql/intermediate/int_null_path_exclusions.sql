-- int_null_path_exclusions: one row per role a staged touch plays for the pipeline Markov
-- chain (see int_touch_roles.sql): how many touches, and their share of all staged touches.
-- Reads the temp table _touch_roles (int_touch_roles as of this build). No parameters.
select
    'pipeline' as journey_kind,
    role,
    count(*) as touch_count,
    count(*) / sum(count(*)) over () as share_of_touches
from _touch_roles
group by role
order by role
