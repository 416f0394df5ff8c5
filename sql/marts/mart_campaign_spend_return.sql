-- mart_campaign_spend_return: one row per (period_grain, period, model, channel, campaign):
-- spend, the pipeline and won revenue the model attributes to the campaign's touches, and the
-- return on it (campaign '(channel level)': spend lines without a campaign; '(no campaign)':
-- touches without one; periods and grains as in int_spend_return_by_period):
--   cost_per_pipeline_dollar = spend / attributed pipeline (null without attributed pipeline),
--   pipeline_per_spend_dollar, revenue_per_spend_dollar = attributed / spend (null without
--   spend). Periods: the spend date for spend, created_at for pipeline, closed_at for revenue.
--   Sum spend and amounts within one grain only; never sum the ratios.
-- Reads int_spend_return_by_period. No parameters.
with final as (
    select
        period_grain,
        period_start,
        fiscal_quarter,
        model,
        channel,
        campaign,
        from_cents(spend_cents) as spend_amount,
        from_picos(pipeline_picos) as attributed_pipeline,
        from_picos(revenue_picos) as attributed_revenue,
        from_cents(spend_cents) / nullif(from_picos(pipeline_picos), 0) as cost_per_pipeline_dollar,
        from_picos(pipeline_picos) / nullif(from_cents(spend_cents), 0) as pipeline_per_spend_dollar,
        from_picos(revenue_picos) / nullif(from_cents(spend_cents), 0) as revenue_per_spend_dollar
    from int_spend_return_by_period
)

select * from final
order by period_grain, period_start nulls first, model, spend_amount desc, channel, campaign
