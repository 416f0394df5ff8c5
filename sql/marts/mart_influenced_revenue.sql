-- mart_influenced_revenue: one row per (period_month of closed_at, model, channel): the
-- won revenue the model attributes to the channel, next to the month's totals: all won revenue
-- and influenced revenue (won opportunities whose revenue journey has a touch; a yes/no
-- measure, the same for every model). Amounts in the reporting currency.
-- Reads mart_attribution_credits, int_journeys. No parameters.
-- Money is summed as integers (micro-units of attributed amounts, cents of opportunity
-- amounts): exact, so the result does not depend on the order DuckDB adds rows in.
with credits as (
    select * from mart_attribution_credits where journey_kind = 'revenue'
),

journeys as (
    select * from int_journeys where journey_kind = 'revenue' and is_converted
),

period_totals as (
    select
        period_month,
        count(*) as period_won_opportunities,
        count(*) filter (where touch_count > 0) as period_influenced_won_opportunities,
        cast(sum(cast(round(journey_amount * 100) as hugeint)) as double) / 100 as period_revenue,
        coalesce(cast(sum(cast(round(journey_amount * 100) as hugeint)) filter (where touch_count > 0) as double) / 100, 0)
            as period_influenced_revenue
    from journeys
    group by period_month
),

by_channel as (
    select
        period_month,
        model,
        channel,
        cast(sum(cast(round(attributed_amount * 1e6) as hugeint)) as double) / 1e6 as attributed_revenue,
        count(distinct opportunity_id) filter (where credit > 0) as opportunities_credited
    from credits
    group by all
),

final as (
    select
        by_channel.period_month,
        by_channel.model,
        by_channel.channel,
        by_channel.attributed_revenue,
        by_channel.opportunities_credited,
        period_totals.period_revenue,
        period_totals.period_influenced_revenue,
        period_totals.period_won_opportunities,
        period_totals.period_influenced_won_opportunities
    from by_channel
    inner join period_totals using (period_month)
)

select * from final
order by period_month, model, channel
