-- int_journey_windows (ephemeral, a temp table): one row per (journey_kind, opportunity): the
-- journey's window, conversion event and value, and an integer journey_key. Pipeline journeys exist for every staged
-- opportunity; revenue journeys for closed ones (won ones convert, lost ones are Markov null
-- paths); qualified journeys (when journey_kinds names them) for the deals qualified by as-of
-- (stg_opportunities.qualified_at: they convert) and the ones lost without qualifying (null
-- paths up to their close). The one definition of a journey window: int_journey_touches joins touches to it,
-- int_journeys counts them.
-- Reads stg_opportunities. Parameters: $lookback_days (integer), $company_timezone (IANA),
-- $fiscal_year_start_month (1-12: the fiscal quarter of period_month, macros.sql),
-- $builds_qualified_journeys (boolean: journey_kinds names qualified).
-- Window: [created_at - lookback, event_at], both ends inclusive; event_at is created_at
-- (pipeline), closed_at (revenue) or qualified_at (qualified; closed_at for a lost deal that
-- never qualified), or the last instant of its day for a date-only value.
-- DuckDB-only: timezone() for the company-calendar month.
with opportunities as (
    select * from stg_opportunities
),

windows as (
    select
        'pipeline' as journey_kind,
        opportunity_id,
        account_id,
        stage,
        created_at - to_days(cast($lookback_days as integer)) as window_start_at,
        created_event_at as event_at,
        pipeline_amount as journey_amount,
        true as is_converted,
        deal_motion,
        account_first_won_at
    from opportunities
    union all
    select
        'revenue' as journey_kind,
        opportunity_id,
        account_id,
        stage,
        created_at - to_days(cast($lookback_days as integer)) as window_start_at,
        closed_event_at as event_at,
        revenue_amount as journey_amount,
        stage = 'closed_won' as is_converted,
        deal_motion,
        account_first_won_at
    from opportunities
    where stage in ('closed_won', 'closed_lost')
    union all
    select
        'qualified' as journey_kind,
        opportunity_id,
        account_id,
        stage,
        created_at - to_days(cast($lookback_days as integer)) as window_start_at,
        coalesce(qualified_at, closed_event_at) as event_at,
        pipeline_amount as journey_amount,
        qualified_at is not null as is_converted,
        deal_motion,
        account_first_won_at
    from opportunities
    -- lost deals are null paths only where some deal qualified (a run with a stage history)
    where $builds_qualified_journeys
        and (qualified_at is not null
            or (stage = 'closed_lost' and exists (select 1 from stg_opportunities where qualified_at is not null)))
),

months as (
    select
        *,
        -- the month on the company's calendar
        cast(date_trunc('month', timezone($company_timezone, timezone('UTC', event_at))) as date)
            as period_month
    from windows
),

final as (
    select
        *,
        fiscal_quarter(period_month, $fiscal_year_start_month) as fiscal_quarter,
        -- an integer per journey: int_journey_touches partitions its window by it (cheaper
        -- than the (journey_kind, opportunity_id) strings)
        row_number() over () as journey_key
    from months
)

select * from final
