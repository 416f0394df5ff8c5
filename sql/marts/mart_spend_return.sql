-- mart_spend_return: one row per (period_grain, period, model, channel): spend, the pipeline
-- and won revenue the model attributes to the channel, and the return on it:
--   cost_per_pipeline_dollar = spend / attributed pipeline (null without attributed pipeline),
--   pipeline_per_spend_dollar, revenue_per_spend_dollar = attributed / spend (null without
--   spend). period_grain: month (period_start = the month), quarter (the fiscal quarter's
--   first month) or all (every period; period_start and fiscal_quarter null). Periods: the
--   spend date for spend, created_at for pipeline, closed_at for revenue. Sum spend and
--   amounts within one grain only; never sum the ratios.
-- Reads int_spend_return_by_period (summed over campaigns). No parameters.
with by_channel as (
    select
        period_grain,
        period_start,
        fiscal_quarter,
        model,
        channel,
        sum(spend_cents) as spend_cents,
        sum(pipeline_picos) as pipeline_picos,
        sum(revenue_picos) as revenue_picos
    from int_spend_return_by_period
    group by all
),

final as (
    select
        period_grain,
        period_start,
        fiscal_quarter,
        model,
        channel,
        from_cents(spend_cents) as spend_amount,
        from_picos(pipeline_picos) as attributed_pipeline,
        from_picos(revenue_picos) as attributed_revenue,
        from_cents(spend_cents) / nullif(from_picos(pipeline_picos), 0) as cost_per_pipeline_dollar,
        from_picos(pipeline_picos) / nullif(from_cents(spend_cents), 0) as pipeline_per_spend_dollar,
        from_picos(revenue_picos) / nullif(from_cents(spend_cents), 0) as revenue_per_spend_dollar
    from by_channel
)

select * from final
order by period_grain, period_start nulls first, model, spend_amount desc, channel
