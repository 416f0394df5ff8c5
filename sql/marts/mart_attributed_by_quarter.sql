-- mart_attributed_by_quarter: one row per (journey_kind, fiscal_quarter, model, channel): the
-- amount the model attributes to the channel in the fiscal quarter (of created_at for
-- pipeline, closed_at for revenue; setting fiscal_year_start_month), its share of the
-- quarter's total, and how many opportunities gave the channel a non-zero credit. Per
-- (journey_kind, fiscal_quarter, model) the rows sum to the quarter's pipeline / won revenue.
-- Reads int_attributed_by_segment (its '(all)' rows). Parameters: $fiscal_year_start_month. Money summed exactly.
with by_quarter as (
    select
        journey_kind,
        fiscal_quarter,
        model,
        channel,
        sum(attributed_picos) as attributed_picos,
        sum(opportunities_credited) as opportunities_credited
    from int_attributed_by_segment
    where dimension = '(all)'
    group by journey_kind, fiscal_quarter, model, channel
),

-- the quarter's first month: the same from any of its months
quarters as (
    select
        journey_kind,
        fiscal_quarter,
        fiscal_quarter_start(min(period_month), $fiscal_year_start_month) as quarter_start
    from int_attributed_by_segment
    where dimension = '(all)'
    group by journey_kind, fiscal_quarter
),

final as (
    select
        by_quarter.journey_kind,
        by_quarter.fiscal_quarter,
        quarters.quarter_start,
        by_quarter.model,
        by_quarter.channel,
        from_picos(by_quarter.attributed_picos) as attributed_amount,
        from_picos(by_quarter.attributed_picos) / nullif(from_picos(sum(by_quarter.attributed_picos) over (
            partition by by_quarter.journey_kind, by_quarter.fiscal_quarter, by_quarter.model
        )), 0) as share_of_quarter,
        by_quarter.opportunities_credited
    from by_quarter
    inner join quarters using (journey_kind, fiscal_quarter)
)

select * from final
order by journey_kind, fiscal_quarter, model, attributed_amount desc, channel
