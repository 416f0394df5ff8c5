-- int_journeys: one row per (journey_kind, opportunity): the journey's window, conversion
-- event, value, company-calendar month and how many touches it holds.
-- Reads int_journey_windows (the window definition) and int_journey_touches. No parameters.
with windows as (
    select * from int_journey_windows
),

-- each journey's touch count, from its first touch's row (int_journey_touches counts them with
-- the positions: a filter, not a group-by over every touch)
touch_counts as (
    select journey_kind, opportunity_id, touch_count
    from int_journey_touches
    where position = 1
),

final as (
    select
        windows.journey_kind,
        windows.opportunity_id,
        windows.account_id,
        windows.stage,
        windows.window_start_at,
        windows.event_at,
        windows.journey_amount,
        windows.is_converted,
        windows.period_month,
        windows.fiscal_quarter,
        coalesce(touch_counts.touch_count, 0) as touch_count
    from windows
    left join touch_counts using (journey_kind, opportunity_id)
)

select * from final
