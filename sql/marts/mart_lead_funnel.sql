-- mart_lead_funnel: one row per (cohort_month, first_touch_channel, step) of the lead funnel:
-- the milestones of setting lead_funnel_milestones in order (lead_created, mql, sal, sql by
-- default), then the account's first opportunity and its first won deal. A lead is an account
-- with at least one milestone of the funnel; its cohort is the month (company calendar) of
-- its first step, whichever it was (cohort_month null: every month), its channel the first
-- touch the touch rules keep at or before that moment ('(none)' without one;
-- '(all channels)': all of them). Per step: how many leads reached it (entered it or any
-- later step by as-of: an opportunity without an SAL milestone counts as accepted), that share
-- of the cohort (cumulative conversion), the share of the previous step's leads (next-step
-- conversion: at sal, the sales acceptance rate; null at the first step), and, of the leads
-- with the step itself, the median and 90th percentile days from their first step to it
-- (at sql: the time to qualification). Accounts with opportunities but no milestone are not
-- leads (the asset's metadata counts them).
-- Reads int_lead_steps, int_eligible_touches. Parameters: $company_timezone (IANA).
with reached as (
    select account_id, step, reached_at, step_position, is_lead from int_lead_steps
),

steps as (
    select distinct step, step_position from int_lead_steps
),

leads as (
    select
        account_id,
        min(reached_at) as entered_at,
        max(step_position) as reached_position
    from reached
    where is_lead
    group by account_id
),

first_touches as (
    select account_id, channel
    from (
        select
            touches.account_id,
            touches.channel,
            row_number() over (
                partition by touches.account_id order by touches.occurred_at, touches.touchpoint_id
            ) as touch_rank
        from int_eligible_touches as touches
        inner join leads
            on touches.account_id = leads.account_id and touches.occurred_at <= leads.entered_at
    ) as ranked
    where touch_rank = 1
),

lead_cohorts as (
    select
        leads.account_id,
        leads.entered_at,
        leads.reached_position,
        cast(date_trunc('month', timezone($company_timezone, timezone('UTC', leads.entered_at))) as date)
            as entered_month,
        coalesce(first_touches.channel, '(none)') as channel
    from leads
    left join first_touches using (account_id)
),

cohorts as (
    select account_id, entered_at, reached_position, entered_month as cohort_month, channel
    from lead_cohorts
    union all
    select account_id, entered_at, reached_position, null, channel from lead_cohorts
    union all
    select account_id, entered_at, reached_position, entered_month, '(all channels)' from lead_cohorts
    union all
    select account_id, entered_at, reached_position, null, '(all channels)' from lead_cohorts
),

reach as (
    select
        cohorts.cohort_month,
        cohorts.channel,
        steps.step_position,
        steps.step,
        count(*) as cohort_leads,
        count(*) filter (where cohorts.reached_position >= steps.step_position) as reached_leads
    from cohorts
    cross join steps
    group by cohorts.cohort_month, cohorts.channel, steps.step_position, steps.step
),

timing as (
    select
        cohorts.cohort_month,
        cohorts.channel,
        reached.step_position,
        -- the median and the 90th percentile from one holistic aggregate (median =
        -- quantile_cont at 0.5): half the values held per group
        quantile_cont(epoch(reached.reached_at - cohorts.entered_at) / 86400.0, [0.5, 0.9]) as days_to_reach
    from cohorts
    inner join reached using (account_id)
    group by cohorts.cohort_month, cohorts.channel, reached.step_position
),

final as (
    select
        reach.cohort_month,
        reach.channel as first_touch_channel,
        reach.step_position,
        reach.step,
        reach.cohort_leads,
        reach.reached_leads,
        reach.reached_leads / reach.cohort_leads as cumulative_conversion,
        reach.reached_leads / nullif(lag(reach.reached_leads) over (
            partition by reach.cohort_month, reach.channel order by reach.step_position
        ), 0) as next_step_conversion,
        timing.days_to_reach[1] as median_days_to_reach,
        timing.days_to_reach[2] as p90_days_to_reach
    from reach
    left join timing
        on reach.cohort_month is not distinct from timing.cohort_month
        and reach.channel = timing.channel
        and reach.step_position = timing.step_position
)

select * from final
order by cohort_month nulls first, first_touch_channel, step_position
