-- mart_influenced_revenue: one row per (period_month of closed_at, model, channel): the
-- won revenue the model attributes to the channel and how many opportunities credited it.
-- Within one (period_month, model) the rows sum to that month's total won revenue. The month's
-- total and influenced (model-independent) amounts are in mart_period_totals, one row per
-- month, so no sum over this table counts them twice. Amounts in the reporting currency.
-- Reads mart_attribution_credits. No parameters.
-- Money is summed as integers (micro-units of attributed amounts): exact, so the result does
-- not depend on the order DuckDB adds rows in.
with credits as (
    select * from mart_attribution_credits where journey_kind = 'revenue'
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
        by_channel.opportunities_credited
    from by_channel
)

select * from final
order by period_month, model, channel
