-- int_journey_touches: one row per (journey_kind, opportunity, touch) for every touch of the
-- opportunity's account inside the journey window, ordered by (occurred_at, touchpoint_id).
-- Reads int_journey_windows (the one window definition), int_eligible_touches (the touch
-- rules applied). No parameters.
with journeys as (
    select * from int_journey_windows
),

touchpoints as (
    select * from int_eligible_touches
),

joined as (
    select
        journeys.journey_kind,
        journeys.journey_key,
        journeys.opportunity_id,
        journeys.account_id,
        journeys.is_converted,
        journeys.event_at,
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        touchpoints.contact_id,
        touchpoints.channel,
        touchpoints.campaign,
        touchpoints.touch_type
    from journeys
    inner join touchpoints
        on journeys.account_id = touchpoints.account_id
        and touchpoints.occurred_at between journeys.window_start_at and journeys.event_at
),

final as (
    select
        *,
        row_number() over journey as position,
        -- the same window, its whole partition: one sort for both numbers
        count(*) over (journey rows between unbounded preceding and unbounded following) as touch_count,
        epoch(event_at - occurred_at) / 86400.0 as days_before_event
    from joined
    window journey as (
        partition by journey_key order by occurred_at, touchpoint_id
    )
)

select * exclude (journey_key) from final
