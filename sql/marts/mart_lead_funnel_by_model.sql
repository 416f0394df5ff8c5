-- mart_lead_funnel_by_model: one row per (journey_kind, credited_by, channel, step) for each
-- milestone journey kind that is a step of the lead funnel (journey_kinds naming mql, sal,
-- ...): of the kind's milestones worth a channel under a model (each account's journey
-- weighed by the channel's credit in it), how many reached each step from the kind's own on
-- (it or any later step by as-of, int_lead_steps), and that share: how far the MQLs a
-- channel created went. Per (journey_kind, credited_by, step) the reached worth sums over
-- channels to the kind's accounts that reached the step.
-- Reads int_credits_by_channel, int_journeys, int_lead_steps. No parameters. Summed exactly
-- (macros.sql).
with steps as (
    select distinct step, step_position from int_lead_steps
),

kind_units as (
    select credits.*, journeys.account_id, steps.step_position as kind_position
    from int_credits_by_channel as credits
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
    inner join steps on steps.step = credits.journey_kind
),

shares as (
    select journey_kind, account_id, kind_position, channel, substr(model, 7) as credited_by,
        from_picos(units) as share
    from kind_units
    unpivot (units for model in (columns('^units_')))
),

reached as (
    select account_id, max(step_position) as reached_position
    from int_lead_steps
    where account_id is not null
    group by account_id
),

summed as (
    select
        shares.journey_kind,
        shares.credited_by,
        shares.channel,
        steps.step_position,
        steps.step,
        from_picos(sum(to_picos(shares.share))) as milestones,
        from_picos(coalesce(sum(to_picos(shares.share)) filter (
            where reached.reached_position >= steps.step_position
        ), 0)) as reached_milestones
    from shares
    inner join reached using (account_id)
    inner join steps on steps.step_position >= shares.kind_position
    group by shares.journey_kind, shares.credited_by, shares.channel, steps.step_position, steps.step
),

final as (
    select *, reached_milestones / nullif(milestones, 0) as reach_rate from summed
)

select * from final
order by journey_kind, credited_by, channel, step_position
