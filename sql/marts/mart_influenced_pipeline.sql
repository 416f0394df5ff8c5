-- mart_influenced_pipeline: one row per (period_month of created_at, model, channel): the
-- pipeline the model attributes to the channel, next to the month's totals: all pipeline and
-- influenced pipeline (opportunities whose pipeline journey has at least one touch; a yes/no
-- measure, the same for every model). Amounts in the reporting currency.
-- Reads mart_attribution_credits, int_journeys. No parameters.
-- Money is summed as integers (micro-units of attributed amounts, cents of opportunity
-- amounts): exact, so the result does not depend on the order DuckDB adds rows in.
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
        cast(sum(cast(round(journey_amount * 100) as hugeint)) as double) / 100 as period_pipeline,
        coalesce(cast(sum(cast(round(journey_amount * 100) as hugeint)) filter (where touch_count > 0) as double) / 100, 0)
            as period_influenced_pipeline
    from journeys
    group by period_month
),

by_channel as (
    select
        period_month,
        model,
        channel,
        cast(sum(cast(round(attributed_amount * 1e6) as hugeint)) as double) / 1e6 as attributed_pipeline,
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
