-- mart_attributed_by_quarter: one row per (journey_kind, fiscal_quarter, model, channel): the
-- amount the model attributes to the channel in the fiscal quarter (of created_at for
-- pipeline, closed_at for revenue; setting fiscal_year_start_month), its share of the
-- quarter's total, and how many opportunities gave the channel a non-zero credit. Per
-- (journey_kind, fiscal_quarter, model) the rows sum to the quarter's pipeline / won revenue.
-- Reads int_credits_by_channel. Parameters: $fiscal_year_start_month. Money summed exactly.
with -- the models as columns, summed at this grain
wide as (
    select
        journey_kind, fiscal_quarter, channel,
        sum(columns('^picos_(.*)$')) as "picos_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from int_credits_by_channel
    group by journey_kind, fiscal_quarter, channel
),

-- then one row per model: its amount and the opportunities that gave a non-zero credit
amounts as (
    select journey_kind, fiscal_quarter, channel, substr(model, 7) as model, attributed_picos
    from wide
    unpivot (attributed_picos for model in (columns('^picos_')))
),

credited as (
    select journey_kind, fiscal_quarter, channel, substr(model, 10) as model, opportunities_credited
    from wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

credits as (
    select *
    from amounts
    inner join credited using (journey_kind, fiscal_quarter, channel, model)
),

-- the quarter's first month: the same from any of its months
quarters as (
    select
        journey_kind,
        fiscal_quarter,
        fiscal_quarter_start(min(period_month), $fiscal_year_start_month) as quarter_start
    from int_credits_by_channel
    group by journey_kind, fiscal_quarter
),

by_quarter as (
    select
        credits.journey_kind,
        credits.fiscal_quarter,
        quarters.quarter_start,
        credits.model,
        credits.channel,
        credits.attributed_picos,
        credits.opportunities_credited
    from credits
    inner join quarters using (journey_kind, fiscal_quarter)
),

final as (
    select
        journey_kind,
        fiscal_quarter,
        quarter_start,
        model,
        channel,
        from_picos(attributed_picos) as attributed_amount,
        from_picos(attributed_picos) / nullif(from_picos(sum(attributed_picos) over (
            partition by journey_kind, fiscal_quarter, model
        )), 0) as share_of_quarter,
        opportunities_credited
    from by_quarter
)

select * from final
order by journey_kind, fiscal_quarter, model, attributed_amount desc, channel
