-- int_spend_return_by_period: one row per (period_grain, period, model, channel, campaign): the
-- spend of the period (stg_spend, by spend date) next to the pipeline the model attributes to
-- the campaign's touches in it (opportunities created in it) and the won revenue (won in it),
-- as exact integers (cents, pico-units). period_grain: month (period_start = the month),
-- quarter (the fiscal quarter's first month) or all (every period; period_start and
-- fiscal_quarter null). A spend line without a campaign is '(channel level)'; a touch without
-- one '(no campaign)'; the unattributed pseudo-channel's campaign is '(none)'. Every model has
-- every spend row, so spend is counted once per model. The base of mart_spend_return (summed
-- over campaigns) and mart_campaign_spend_return.
-- Reads int_attribution_credits (wide: one credit column per model run; the models become
-- rows once the credits are summed per campaign and month), int_journeys,
-- stg_spend. Parameters: $model_names (the models run), $fiscal_year_start_month.
-- Money summed exactly: pico-units of attributed amounts, cents of spend (macros.sql).
with touch_credits as (
    select
        credits.journey_kind,
        credits.channel,
        campaign_label(credits.channel, credits.campaign) as campaign,
        journeys.period_month,
        journeys.fiscal_quarter,
        journeys.journey_amount,
        -- every other column of the wide credits is one model's credit
        credits.* exclude (journey_kind, opportunity_id, touchpoint_id, channel, campaign)
    from int_attribution_credits as credits
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
),

-- per (journey kind, channel, campaign, month), one column per model: exact pico-units
by_month_wide as (
    select
        journey_kind,
        channel,
        campaign,
        period_month,
        fiscal_quarter,
        sum(to_picos(
            columns(* exclude (journey_kind, channel, campaign, period_month, fiscal_quarter, journey_amount))
            * journey_amount
        ))
    from touch_credits
    group by journey_kind, channel, campaign, period_month, fiscal_quarter
),

attributed as (
    select
        model,
        channel,
        campaign,
        period_month,
        fiscal_quarter,
        sum(picos) filter (where journey_kind = 'pipeline') as pipeline_picos,
        sum(picos) filter (where journey_kind = 'revenue') as revenue_picos
    from by_month_wide
    unpivot (picos for model in (
        columns(* exclude (journey_kind, channel, campaign, period_month, fiscal_quarter))
    ))
    group by all
),

spend as (
    select
        channel,
        coalesce(campaign, '(channel level)') as campaign,
        period_month,
        fiscal_quarter,
        sum(to_cents(spend_amount)) as spend_cents
    from stg_spend
    group by all
),

models as (
    select unnest($model_names::varchar[]) as model
),

spend_by_model as (
    select models.model, spend.* from spend cross join models
),

monthly as (
    select
        model,
        channel,
        campaign,
        period_month,
        fiscal_quarter,
        coalesce(spend_by_model.spend_cents, 0) as spend_cents,
        coalesce(attributed.pipeline_picos, 0) as pipeline_picos,
        coalesce(attributed.revenue_picos, 0) as revenue_picos
    from attributed
    full join spend_by_model using (model, channel, campaign, period_month, fiscal_quarter)
),

final as (
    select 'month' as period_grain, period_month as period_start, fiscal_quarter, model, channel, campaign,
        spend_cents, pipeline_picos, revenue_picos
    from monthly
    union all
    select 'quarter', fiscal_quarter_start(min(period_month), $fiscal_year_start_month), fiscal_quarter,
        model, channel, campaign, sum(spend_cents), sum(pipeline_picos), sum(revenue_picos)
    from monthly
    group by fiscal_quarter, model, channel, campaign
    union all
    select 'all', null, null, model, channel, campaign, sum(spend_cents), sum(pipeline_picos), sum(revenue_picos)
    from monthly
    group by model, channel, campaign
)

select * from final
order by period_grain, period_start nulls first, model, channel, campaign
