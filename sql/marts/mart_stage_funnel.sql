-- mart_stage_funnel: one row per (cohort_month, sourced_channel, funnel stage): of the
-- opportunities created in the month (company calendar; cohort_month null: every month) and
-- sourced by the channel ('(all channels)': all of them), how many reached the stage
-- (entered it or any later one, int_stage_entries), that share of the cohort (cumulative
-- conversion), the share of those that reached the stage before it (next-step conversion:
-- null at the first stage), and, of those that entered the stage itself, the median and 90th
-- percentile days from creation to entering it and the median days spent in it (stays that
-- ended). The sourced channel is the pipeline journey's (int_opportunity_sources).
-- Reads int_stage_entries, int_opportunity_sources, int_journeys, int_funnel_stages,
-- stg_opportunities. No parameters.
with deals as (
    select
        journeys.opportunity_id,
        journeys.period_month,
        sources.sourced_channel,
        opportunities.created_at,
        max(entries.stage_position) as reached_position
    from int_journeys as journeys
    inner join int_opportunity_sources as sources using (journey_kind, opportunity_id)
    inner join stg_opportunities as opportunities using (opportunity_id)
    left join int_stage_entries as entries using (opportunity_id)
    where journeys.journey_kind = 'pipeline'
    group by journeys.opportunity_id, journeys.period_month, sources.sourced_channel, opportunities.created_at
),

cohorts as (
    select opportunity_id, period_month as cohort_month, sourced_channel, created_at, reached_position
    from deals
    union all
    select opportunity_id, null, sourced_channel, created_at, reached_position from deals
    union all
    select opportunity_id, period_month, '(all channels)', created_at, reached_position from deals
    union all
    select opportunity_id, null, '(all channels)', created_at, reached_position from deals
),

reach as (
    select
        cohorts.cohort_month,
        cohorts.sourced_channel,
        stages.stage_position,
        stages.stage_key,
        stages.stage_label,
        count(*) as cohort_opportunities,
        count(*) filter (where cohorts.reached_position >= stages.stage_position) as reached_opportunities
    from cohorts
    cross join int_funnel_stages as stages
    group by cohorts.cohort_month, cohorts.sourced_channel, stages.stage_position, stages.stage_key, stages.stage_label
),

timing as (
    select
        cohorts.cohort_month,
        cohorts.sourced_channel,
        entries.stage_position,
        median(epoch(entries.first_entered_at - cohorts.created_at) / 86400.0) as median_days_to_enter,
        quantile_cont(epoch(entries.first_entered_at - cohorts.created_at) / 86400.0, 0.9)
            as p90_days_to_enter,
        median(entries.days_in_stage) as median_days_in_stage
    from cohorts
    inner join int_stage_entries as entries using (opportunity_id)
    group by cohorts.cohort_month, cohorts.sourced_channel, entries.stage_position
),

final as (
    select
        reach.cohort_month,
        reach.sourced_channel,
        reach.stage_position,
        reach.stage_key,
        reach.stage_label,
        reach.cohort_opportunities,
        reach.reached_opportunities,
        reach.reached_opportunities / reach.cohort_opportunities as cumulative_conversion,
        reach.reached_opportunities / nullif(lag(reach.reached_opportunities) over (
            partition by reach.cohort_month, reach.sourced_channel order by reach.stage_position
        ), 0) as next_step_conversion,
        timing.median_days_to_enter,
        timing.p90_days_to_enter,
        timing.median_days_in_stage
    from reach
    left join timing
        on reach.cohort_month is not distinct from timing.cohort_month
        and reach.sourced_channel = timing.sourced_channel
        and reach.stage_position = timing.stage_position
)

select * from final
order by cohort_month nulls first, sourced_channel, stage_position
