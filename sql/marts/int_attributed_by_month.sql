-- int_attributed_by_month: one row per (journey_kind, period_month, model, channel): the
-- amount the model attributes to the channel in the month (company calendar) and how many
-- opportunities gave the channel a non-zero credit. The one model behind both influenced
-- marts. Reads int_credits_by_channel. No parameters. Money summed exactly (macros.sql).
with credits as (
    select * from int_credits_by_channel
),

final as (
    select
        journey_kind,
        period_month,
        fiscal_quarter,
        model,
        channel,
        from_micros(sum(attributed_micros)) as attributed_amount,
        count(*) filter (where credit > 0) as opportunities_credited
    from credits
    group by journey_kind, period_month, fiscal_quarter, model, channel
)

select * from final
