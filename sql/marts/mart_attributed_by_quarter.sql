-- mart_attributed_by_quarter: one row per (journey_kind, fiscal_quarter, model, channel): the
-- amount the model attributes to the channel in the fiscal quarter (of created_at for
-- pipeline, closed_at for revenue; setting fiscal_year_start_month), its share of the
-- quarter's total, and how many opportunities gave the channel a non-zero credit. Per
-- (journey_kind, fiscal_quarter, model) the rows sum to the quarter's pipeline / won revenue.
-- Reads int_credits_by_channel. Parameters: $fiscal_year_start_month. Money summed exactly.
with credits as (
    select * from int_credits_by_channel
),

by_quarter as (
    select
        journey_kind,
        fiscal_quarter,
        fiscal_quarter_start(min(period_month), $fiscal_year_start_month) as quarter_start,
        model,
        channel,
        sum(attributed_micros) as attributed_micros,
        count(*) filter (where credit > 0) as opportunities_credited
    from credits
    group by journey_kind, fiscal_quarter, model, channel
),

final as (
    select
        journey_kind,
        fiscal_quarter,
        quarter_start,
        model,
        channel,
        from_micros(attributed_micros) as attributed_amount,
        from_micros(attributed_micros) / nullif(from_micros(sum(attributed_micros) over (
            partition by journey_kind, fiscal_quarter, model
        )), 0) as share_of_quarter,
        opportunities_credited
    from by_quarter
)

select * from final
order by journey_kind, fiscal_quarter, model, attributed_amount desc, channel
