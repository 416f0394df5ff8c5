-- mart_influenced_pipeline: one row per (period_month of created_at, model, channel): the
-- pipeline the model attributes to the channel, next to the month's totals: all pipeline and
-- influenced pipeline (opportunities whose pipeline journey has at least one touch; a yes/no
-- measure, the same for every model). Amounts in the reporting currency.
-- Reads mart_attribution_credits, int_journeys. No parameters.
-- Sums run in a fixed order (order by inside the aggregate) so reruns are byte-identical.
with credits as (
    select * from mart_attribution_credits where journey_kind = 'pipeline'
),

journeys as (
    select * from int_journeys where journey_kind = 'pipeline'
),

period_totals as (
    select
        period_month,
        count(*) as period_opportunities,
        count(*) filter (where touch_count > 0) as period_influenced_opportunities,
        sum(journey_amount order by opportunity_id) as period_pipeline,
        coalesce(sum(journey_amount order by opportunity_id) filter (where touch_count > 0), 0)
            as period_influenced_pipeline
    from journeys
    group by period_month
),

by_channel as (
    select
        period_month,
        model,
        channel,
        sum(attributed_amount order by opportunity_id, touchpoint_id) as attributed_pipeline,
        count(distinct opportunity_id) filter (where credit > 0) as opportunities_credited
    from credits
    group by all
),

final as (
    select
        by_channel.period_month,
        by_channel.model,
        by_channel.channel,
        by_channel.attributed_pipeline,
        by_channel.opportunities_credited,
        period_totals.period_pipeline,
        period_totals.period_influenced_pipeline,
        period_totals.period_opportunities,
        period_totals.period_influenced_opportunities
    from by_channel
    inner join period_totals using (period_month)
)

select * from final
order by period_month, model, channel
