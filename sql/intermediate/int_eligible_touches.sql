-- int_eligible_touches (a view): one row per staged touch the touch rules keep: every touch
-- of stg_touchpoints except those whose touch_type or channel int_touch_rules excludes
-- (e.g. email_open, impression). Journeys and null paths are built from it. `touch_row`:
-- the touch's row id in stg_touchpoints, a key for joining back to it within one statement
-- (it changes when stg_touchpoints is loaded again: never store it).
-- Reads stg_touchpoints, int_touch_rules. No parameters. DuckDB-only: rowid, anti join
-- (two anti joins, not a NOT EXISTS with an OR: that one is a nested loop over the rules).
with excluded_touch_types as (
    select value from int_touch_rules where rule = 'excluded_touch_type'
),

excluded_channels as (
    select value from int_touch_rules where rule = 'excluded_channel'
)

select touchpoints.rowid as touch_row, touchpoints.*
from stg_touchpoints as touchpoints
anti join excluded_touch_types on excluded_touch_types.value = touchpoints.touch_type
anti join excluded_channels on excluded_channels.value = touchpoints.channel
