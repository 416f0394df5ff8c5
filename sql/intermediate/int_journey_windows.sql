-- int_journey_windows (ephemeral, a temp table): one row per (journey_kind, opportunity): the
-- journey's window, conversion event and value, and an integer journey_key. Pipeline journeys exist for every staged
-- opportunity; revenue journeys for closed ones (won ones convert, lost ones are Markov null
-- paths); qualified journeys (when journey_kinds names them) for the deals qualified by as-of
-- (stg_opportunities.qualified_at, or the setting qualified_milestone: they convert) and the
-- ones lost without qualifying (null
-- paths up to their close); milestone kinds (journey_kinds beyond those three: mql, sal, ...)
-- one per account up to its first such milestone (opportunity_id '<kind>:<account>', worth 1),
-- and the leads that never had it as null paths. The one definition of a journey window: int_journey_touches joins touches to it,
-- int_journeys counts them.
-- Reads stg_opportunities, stg_milestones. Parameters: $milestone_kinds, $lead_funnel_milestones
-- (varchar lists), $as_of (timestamp), $lookback_days (integer), $company_timezone (IANA),
-- $fiscal_year_start_month (1-12: the fiscal quarter of period_month, macros.sql),
-- $builds_qualified_journeys (boolean: journey_kinds names qualified), $qualified_milestone
-- (a milestone name, '' for the stage history).
-- Window: [created_at - lookback, event_at], both ends inclusive; event_at is created_at
-- (pipeline), closed_at (revenue) or qualified_at (qualified; closed_at for a lost deal that
-- never qualified), or the last instant of its day for a date-only value.
-- DuckDB-only: timezone() for the company-calendar month.
with opportunities as (
    select * from stg_opportunities
),

-- the milestone kinds (setting journey_kinds beyond pipeline, revenue, qualified) and the
-- leads: accounts with a milestone of the lead funnel, from their first one
milestone_kinds as (
    select unnest($milestone_kinds::varchar[]) as journey_kind
),

-- when each deal was qualified: by the stage history (stg_opportunities.qualified_at), or,
-- with setting qualified_milestone, at its account's first such milestone from a lookback
-- before its creation to its close (as-of while open), not before its creation
milestone_qualifications as (
    select opportunities.opportunity_id, greatest(min(milestones.occurred_at), opportunities.created_event_at)
        as qualified_at
    from opportunities
    inner join stg_milestones as milestones
        on milestones.account_id = opportunities.account_id
        and milestones.milestone = $qualified_milestone
        and milestones.occurred_at
        between opportunities.created_at - to_days(cast($lookback_days as integer))
        and coalesce(opportunities.closed_event_at, $as_of)
    group by opportunities.opportunity_id, opportunities.created_event_at
),

qualifications as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.stage,
        opportunities.created_at,
        opportunities.closed_event_at,
        opportunities.pipeline_amount,
        opportunities.deal_motion,
        opportunities.account_first_won_at,
        case when $qualified_milestone = '' then opportunities.qualified_at
            else milestone_qualifications.qualified_at end as qualified_at
    from opportunities
    left join milestone_qualifications using (opportunity_id)
),

leads as (
    select account_id, min(occurred_at) as first_at
    from stg_milestones
    where list_contains($lead_funnel_milestones::varchar[], milestone)
    group by account_id
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
    from qualifications
    -- lost deals are null paths only where some deal qualified (a run with a stage history,
    -- or with the qualification milestone)
    where $builds_qualified_journeys
        and (qualified_at is not null
            or (stage = 'closed_lost' and exists (select 1 from qualifications as q where q.qualified_at is not null)))
    union all
    -- a milestone kind: each account's journey up to its first such milestone, worth 1
    select
        milestone as journey_kind,
        milestone || ':' || account_id as opportunity_id,
        account_id,
        cast(null as varchar) as stage,
        min(occurred_at) - to_days(cast($lookback_days as integer)) as window_start_at,
        min(occurred_at) as event_at,
        1.0 as journey_amount,
        true as is_converted,
        cast(null as varchar) as deal_motion,
        cast(null as timestamp) as account_first_won_at
    from stg_milestones
    where list_contains($milestone_kinds::varchar[], milestone)
    group by milestone, account_id
    union all
    -- its null paths: the leads that never had the milestone, their first step more than a
    -- lookback before as-of (a later one may still get it): touches up to a lookback after it
    select
        milestone_kinds.journey_kind,
        milestone_kinds.journey_kind || ':' || leads.account_id,
        leads.account_id,
        cast(null as varchar),
        leads.first_at - to_days(cast($lookback_days as integer)),
        leads.first_at + to_days(cast($lookback_days as integer)),
        1.0,
        false,
        cast(null as varchar),
        cast(null as timestamp)
    from leads
    cross join milestone_kinds
    where leads.first_at + to_days(cast($lookback_days as integer)) <= $as_of
        and not exists (
            select 1 from stg_milestones as reached
            where reached.account_id = leads.account_id and reached.milestone = milestone_kinds.journey_kind
        )
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
