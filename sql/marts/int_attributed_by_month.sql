-- int_attributed_by_month: one row per (journey_kind, period_month, model, channel): the
-- amount the model attributes to the channel in the month (company calendar) and how many
-- opportunities gave the channel a non-zero credit. The one model behind both influenced
-- marts. Reads int_credits_by_channel. No parameters. Money summed exactly (macros.sql).
with -- the models as columns, summed at this grain
wide as (
    select
        journey_kind, period_month, fiscal_quarter, channel,
        sum(columns('^picos_(.*)$')) as "picos_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from int_credits_by_channel
    group by journey_kind, period_month, fiscal_quarter, channel
),

-- then one row per model: its amount and the opportunities that gave a non-zero credit
amounts as (
    select journey_kind, period_month, fiscal_quarter, channel, substr(model, 7) as model, attributed_picos
    from wide
    unpivot (attributed_picos for model in (columns('^picos_')))
),

credited as (
    select journey_kind, period_month, fiscal_quarter, channel, substr(model, 10) as model, opportunities_credited
    from wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

credits as (
    select *
    from amounts
    inner join credited using (journey_kind, period_month, fiscal_quarter, channel, model)
),

final as (
    select
        journey_kind,
        period_month,
        fiscal_quarter,
        model,
        channel,
        from_picos(attributed_picos) as attributed_amount,
        opportunities_credited
    from credits
)

select * from final
