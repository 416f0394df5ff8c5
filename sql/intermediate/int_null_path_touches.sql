-- int_null_path_touches (a view): one row per touch of a Markov non-converting path:
-- (journey_kind, path_id, account_id, touchpoint_id, occurred_at, channel, position).
-- pipeline: each path of int_pipeline_null_paths holds its account's null_path touches
-- (int_touch_roles) from its first to its last touch, in (occurred_at, touchpoint_id) order;
-- revenue and qualified: the journeys of closed_lost opportunities (lost without qualifying,
-- for qualified; open ones are left out), read from int_journey_touches. A view: the 5M pipeline null-path touches at ten million touches
-- are not written (the fits read int_markov_paths); reading it all costs the touch roles
-- again (about 2 s at ten million touches).
-- Reads int_pipeline_null_paths, int_touch_roles, int_journey_touches. No parameters.
with pipeline_paths as (
    select * from int_pipeline_null_paths
),

null_path_touches as (
    select touchpoint_id, account_id, occurred_at, channel
    from int_touch_roles
    where role = 'null_path'
),

pipeline as (
    select
        'pipeline' as journey_kind,
        pipeline_paths.path_id,
        pipeline_paths.account_id,
        touches.touchpoint_id,
        touches.occurred_at,
        touches.channel,
        row_number() over (
            partition by pipeline_paths.path_id order by touches.occurred_at, touches.touchpoint_id
        ) as position
    from pipeline_paths
    inner join null_path_touches as touches
        on touches.account_id = pipeline_paths.account_id
        and touches.occurred_at between pipeline_paths.first_touch_at and pipeline_paths.last_touch_at
),

lost as (
    select
        journey_kind,
        opportunity_id as path_id,
        account_id,
        touchpoint_id,
        occurred_at,
        channel,
        position
    from int_journey_touches
    where journey_kind <> 'pipeline' and not is_converted
)

select * from pipeline
union all
select * from lost
