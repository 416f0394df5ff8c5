-- mart_influenced_pipeline: one row per (period_month of created_at, model, channel): the
-- pipeline the model attributes to the channel and how many opportunities credited it.
-- Within one (period_month, model) the rows sum to that month's total pipeline. The month's
-- total and influenced (model-independent) amounts are in mart_period_totals, one row per
-- month, so no sum over this table counts them twice. Amounts in the reporting currency.
-- Reads int_attributed_by_month. No parameters.
with attributed as (
    select * from int_attributed_by_month where journey_kind = 'pipeline'
),

final as (
    select
        period_month,
        fiscal_quarter,
        model,
        channel,
        attributed_amount,
        opportunities_credited
    from attributed
)

select * from final
order by period_month, model, channel
