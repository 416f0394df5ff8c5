-- mart_time_to_convert: one row per (period_month, channel) and per month for
-- '(all channels)': over the opportunities created in the month (company calendar) whose
-- pipeline journey touched the channel, the days from the channel's first touch in that
-- journey to the opportunity's creation and, for the won ones, to the won close (median and
-- 90th percentile, continuous), and the touches of those journeys (median, p90, mean).
-- '(all channels)' starts at the journey's first touch. Opportunities with an empty pipeline
-- journey have no first touch and are not counted here (mart_period_totals counts them).
-- Conversion instants: created_event_at / closed_event_at (a date-only date is its day's end).
-- Reads int_journeys, int_journey_touches, stg_opportunities. No parameters.
with pipeline_journeys as (
    select opportunity_id, event_at as created_event_at, period_month, fiscal_quarter, touch_count
    from int_journeys
    where journey_kind = 'pipeline'
),

won as (
    select opportunity_id, closed_event_at from stg_opportunities where stage = 'closed_won'
),

pipeline_touches as (
    select opportunity_id, channel, occurred_at
    from int_journey_touches
    where journey_kind = 'pipeline'
),

first_touches as (
    select opportunity_id, channel, min(occurred_at) as first_touch_at
    from pipeline_touches
    group by opportunity_id, channel
    union all
    select opportunity_id, '(all channels)', min(occurred_at)
    from pipeline_touches
    group by opportunity_id
),

per_opportunity as (
    select
        journeys.period_month,
        journeys.fiscal_quarter,
        first_touches.channel,
        first_touches.opportunity_id,
        epoch(journeys.created_event_at - first_touches.first_touch_at) / 86400.0 as days_to_opportunity,
        epoch(won.closed_event_at - first_touches.first_touch_at) / 86400.0 as days_to_won,
        journeys.touch_count
    from first_touches
    inner join pipeline_journeys as journeys using (opportunity_id)
    left join won using (opportunity_id)
),

final as (
    select
        period_month,
        fiscal_quarter,
        channel,
        count(*) as opportunities,
        quantile_cont(days_to_opportunity, 0.5) as median_days_to_opportunity,
        quantile_cont(days_to_opportunity, 0.9) as p90_days_to_opportunity,
        count(days_to_won) as won_opportunities,
        quantile_cont(days_to_won, 0.5) as median_days_to_won,
        quantile_cont(days_to_won, 0.9) as p90_days_to_won,
        quantile_cont(touch_count, 0.5) as median_touches_per_journey,
        quantile_cont(touch_count, 0.9) as p90_touches_per_journey,
        avg(touch_count) as mean_touches_per_journey
    from per_opportunity
    group by period_month, fiscal_quarter, channel
)

select * from final
order by period_month, channel = '(all channels)' desc, opportunities desc, channel
