-- int_stage_entries: one row per (opportunity, funnel stage) a staged opportunity entered by
-- as-of: when it first entered the stage, how many days it spent there over its stays that
-- ended (null while it has not left it), and whether the history said so. A stay is a run of
-- history rows with the same stage (an amount or close-date change inside a stage is no new
-- stay); a regression enters an earlier stage again (its first entry stays the first). Closed
-- lost is no stage of the funnel: it ends the stay it follows. An opportunity without history
-- rows entered the first stage at its creation and, won, the closed-won stage at its close
-- (is_from_history false: counted in the funnel's metadata).
-- Reads stg_opportunity_history, stg_opportunities, int_funnel_stages. No parameters.
with history as (
    select
        opportunity_id,
        changed_at,
        stage_key,
        stage_position,
        lag(stage_key) over (partition by opportunity_id order by changed_at, stage_key) as previous_key
    from stg_opportunity_history
),

stay_starts as (
    select opportunity_id, changed_at, stage_key, stage_position
    from history
    where previous_key is null or previous_key <> stage_key
),

stays as (
    select
        opportunity_id,
        stage_position,
        changed_at as entered_at,
        lead(changed_at) over (partition by opportunity_id order by changed_at, stage_key) as left_at
    from stay_starts
),

from_history as (
    select
        opportunity_id,
        stage_position,
        min(entered_at) as first_entered_at,
        sum(epoch(left_at - entered_at)) filter (where left_at is not null) / 86400.0
            as days_in_stage,
        true as is_from_history
    from stays
    where stage_position is not null
    group by opportunity_id, stage_position
),

without_history as (
    select opportunity_id, created_at, stage, closed_event_at
    from stg_opportunities
    where opportunity_id not in (select opportunity_id from stg_opportunity_history)
),

first_stage as (
    select min(stage_position) as stage_position from int_funnel_stages
),

won_stage as (
    select min(stage_position) as stage_position from int_funnel_stages where stage_outcome = 'closed_won'
),

fallback as (
    select
        without_history.opportunity_id,
        first_stage.stage_position,
        without_history.created_at as first_entered_at,
        null::double as days_in_stage,
        false as is_from_history
    from without_history
    cross join first_stage
    union all
    select
        without_history.opportunity_id,
        won_stage.stage_position,
        without_history.closed_event_at,
        null::double,
        false
    from without_history
    cross join won_stage
    where without_history.stage = 'closed_won' and won_stage.stage_position is not null
),

entries as (
    select * from from_history
    union all
    select * from fallback
),

final as (
    select
        entries.opportunity_id,
        entries.stage_position,
        stages.stage_key,
        stages.stage_label,
        entries.first_entered_at,
        entries.days_in_stage,
        entries.is_from_history
    from entries
    inner join int_funnel_stages as stages using (stage_position)
)

select * from final
