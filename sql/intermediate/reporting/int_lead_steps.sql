-- int_lead_steps: one row per (account, lead funnel step it had by as-of): the steps of
-- setting lead_funnel_milestones in order (step_position 1..n), then the account's first
-- opportunity (n + 1) and first won deal (n + 2), when it first had each, and whether the
-- account is a lead (it has a milestone of the funnel). Steps no account had have a row with
-- a null account (every step is listed). The one definition the lead funnel marts read.
-- Reads stg_milestones, stg_opportunities. Parameters: $lead_funnel_milestones (varchar list).
with steps as (
    select step, list_position($lead_funnel_milestones::varchar[], step) as step_position
    from (select unnest($lead_funnel_milestones::varchar[]) as step) as milestone_steps
    union all
    select 'opportunity', len($lead_funnel_milestones::varchar[]) + 1
    union all
    select 'closed_won', len($lead_funnel_milestones::varchar[]) + 2
),

events as (
    select account_id, milestone as step, min(occurred_at) as reached_at
    from stg_milestones
    where list_contains($lead_funnel_milestones::varchar[], milestone)
    group by account_id, milestone
    union all
    select account_id, 'opportunity', min(created_at)
    from stg_opportunities
    group by account_id
    union all
    select account_id, 'closed_won', min(closed_at)
    from stg_opportunities
    where stage = 'closed_won'
    group by account_id
),

leads as (
    select distinct account_id
    from events
    where step not in ('opportunity', 'closed_won')
),

final as (
    select
        events.account_id,
        steps.step,
        steps.step_position,
        events.reached_at,
        coalesce(leads.account_id is not null, false) as is_lead
    from steps
    left join events using (step)
    left join leads using (account_id)
)

select * from final
