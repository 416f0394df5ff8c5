-- mart_stage_funnel: one row per (cohort_grain, cohort, channel_basis, channel, funnel stage):
-- of the opportunities created in the cohort (cohort_grain 'all': every deal, cohort
-- '(all)'; 'month': the company-calendar month, cohort '2026-03-01'; 'fiscal_quarter':
-- 'FY2026-Q1') and credited to the channel ('(all channels)': all of them) on the
-- channel_basis ('sourced': the channel that sourced the deal, int_opportunity_sources, each
-- deal under one channel; 'influenced': every channel its pipeline journey touched, a deal
-- under several, '(none)' without a touch), how many reached the stage (entered it or any
-- later one, int_stage_entries), that share of the cohort (cumulative conversion), the share
-- of those that reached the stage before it (next-step conversion: null at the first
-- stage), and, of those that entered the stage itself, the median and 90th percentile days
-- from creation to entering it and the median and 90th percentile days spent in it (over
-- its stays that ended).
-- Reads int_stage_entries, int_opportunity_sources, int_journeys, int_journey_touches,
-- int_funnel_stages, stg_opportunities. No parameters.
with deals as (
    select
        journeys.opportunity_id,
        cast(journeys.period_month as varchar) as cohort_month,
        journeys.fiscal_quarter as cohort_quarter,
        sources.sourced_channel,
        opportunities.created_at,
        max(entries.stage_position) as reached_position
    from int_journeys as journeys
    inner join int_opportunity_sources as sources using (journey_kind, opportunity_id)
    inner join stg_opportunities as opportunities using (opportunity_id)
    left join int_stage_entries as entries using (opportunity_id)
    where journeys.journey_kind = 'pipeline'
    group by
        journeys.opportunity_id, journeys.period_month, journeys.fiscal_quarter,
        sources.sourced_channel, opportunities.created_at
),

touched as (
    select distinct opportunity_id, channel
    from int_journey_touches
    where journey_kind = 'pipeline' and is_converted
),

deal_channels as (
    select opportunity_id, 'sourced' as channel_basis, sourced_channel as channel from deals
    union all
    select opportunity_id, 'influenced', channel from touched
    union all
    select opportunity_id, 'influenced', '(none)' from deals
    where opportunity_id not in (select opportunity_id from touched)
    union all
    select opportunity_id, 'sourced', '(all channels)' from deals
    union all
    select opportunity_id, 'influenced', '(all channels)' from deals
),

deal_cohorts as (
    select opportunity_id, 'all' as cohort_grain, '(all)' as cohort from deals
    union all
    select opportunity_id, 'month', cohort_month from deals
    union all
    select opportunity_id, 'fiscal_quarter', cohort_quarter from deals
),

cohorts as (
    select
        deal_cohorts.cohort_grain,
        deal_cohorts.cohort,
        deal_channels.channel_basis,
        deal_channels.channel,
        deals.opportunity_id,
        deals.created_at,
        deals.reached_position
    from deals
    inner join deal_cohorts using (opportunity_id)
    inner join deal_channels using (opportunity_id)
),

reach as (
    select
        cohorts.cohort_grain,
        cohorts.cohort,
        cohorts.channel_basis,
        cohorts.channel,
        stages.stage_position,
        stages.stage_key,
        stages.stage_label,
        count(*) as cohort_opportunities,
        count(*) filter (where cohorts.reached_position >= stages.stage_position) as reached_opportunities
    from cohorts
    cross join int_funnel_stages as stages
    group by
        cohorts.cohort_grain, cohorts.cohort, cohorts.channel_basis, cohorts.channel,
        stages.stage_position, stages.stage_key, stages.stage_label
),

timing as (
    select
        cohorts.cohort_grain,
        cohorts.cohort,
        cohorts.channel_basis,
        cohorts.channel,
        entries.stage_position,
        -- the median and the 90th percentile from one holistic aggregate per measure (the
        -- median is quantile_cont at 0.5): half the values held per group of the four apart
        quantile_cont(epoch(entries.first_entered_at - cohorts.created_at) / 86400.0, [0.5, 0.9])
            as days_to_enter,
        quantile_cont(entries.days_in_stage, [0.5, 0.9]) as days_in_stage
    from cohorts
    inner join int_stage_entries as entries using (opportunity_id)
    group by
        cohorts.cohort_grain, cohorts.cohort, cohorts.channel_basis, cohorts.channel, entries.stage_position
),

final as (
    select
        reach.cohort_grain,
        reach.cohort,
        reach.channel_basis,
        reach.channel,
        reach.stage_position,
        reach.stage_key,
        reach.stage_label,
        reach.cohort_opportunities,
        reach.reached_opportunities,
        reach.reached_opportunities / reach.cohort_opportunities as cumulative_conversion,
        reach.reached_opportunities / nullif(lag(reach.reached_opportunities) over (
            partition by reach.cohort_grain, reach.cohort, reach.channel_basis, reach.channel
            order by reach.stage_position
        ), 0) as next_step_conversion,
        timing.days_to_enter[1] as median_days_to_enter,
        timing.days_to_enter[2] as p90_days_to_enter,
        timing.days_in_stage[1] as median_days_in_stage,
        timing.days_in_stage[2] as p90_days_in_stage
    from reach
    left join timing
        on reach.cohort_grain = timing.cohort_grain
        and reach.cohort = timing.cohort
        and reach.channel_basis = timing.channel_basis
        and reach.channel = timing.channel
        and reach.stage_position = timing.stage_position
)

select * from final
order by cohort_grain, cohort, channel_basis, channel, stage_position
