-- int_journeys: one row per (journey_kind, opportunity): the journey's window, conversion
-- event, value and touch count. Pipeline journeys exist for every staged opportunity;
-- revenue journeys for closed ones (won ones convert, lost ones are Markov null paths).
-- Reads stg_opportunities, stg_touchpoints. Parameters: $lookback_days (integer), $company_timezone (IANA name).
-- Window: [created_at - lookback, event_at], both ends inclusive; event_at is created_at
-- (pipeline) or closed_at (revenue), or the last instant of its day for a date-only value.
with opportunities as (
    select * from stg_opportunities
),

touchpoints as (
    select account_id, occurred_at from stg_touchpoints
),

windows as (
    select
        'pipeline' as journey_kind,
        opportunity_id,
        account_id,
        stage,
        created_at - to_days(cast($lookback_days as integer)) as window_start,
        created_event_at as event_at,
        pipeline_amount as journey_amount,
        true as is_converted
    from opportunities
    union all
    select
        'revenue' as journey_kind,
        opportunity_id,
        account_id,
        stage,
        created_at - to_days(cast($lookback_days as integer)) as window_start,
        closed_event_at as event_at,
        revenue_amount as journey_amount,
        stage = 'closed_won' as is_converted
    from opportunities
    where stage in ('closed_won', 'closed_lost')
),

counted as (
    select
        windows.journey_kind,
        windows.opportunity_id,
        count(touchpoints.occurred_at) as touch_count
    from windows
    left join touchpoints
        on windows.account_id = touchpoints.account_id
        and touchpoints.occurred_at between windows.window_start and windows.event_at
    group by all
),

final as (
    select
        windows.*,
        -- the month on the company's calendar
        cast(date_trunc('month', timezone($company_timezone, timezone('UTC', windows.event_at))) as date)
            as period_month,
        counted.touch_count
    from windows
    inner join counted using (journey_kind, opportunity_id)
)

select * from final
