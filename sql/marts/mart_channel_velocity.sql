-- mart_channel_velocity: one row per (credited_by, channel): the deals of the pipeline
-- journeys weighed by the channel's share of each (credited_by: a model, or 'sourced': the
-- channel that sourced the deal takes it whole), and what they did by as-of: deals (shares
-- summed), won and closed deals, win rate (won / closed), average won deal size, sales cycle
-- (mean days from creation to close of the won deals) and pipeline velocity: deals x win rate
-- x average deal size / sales cycle, the pipeline the channel turns into revenue per day.
-- Each figure weighs a deal by the same share, so per credited_by the deals sum to the count
-- of deals; '(all channels)' is every deal whole.
-- Reads int_deal_credits. No parameters. Summed exactly (macros.sql).
with whole_deals as (
    select
        credited_by,
        '(all channels)' as channel,
        1.0 as share,
        min(stage) as stage,
        min(pipeline_amount) as pipeline_amount,
        min(cycle_days) as cycle_days
    from int_deal_credits
    group by opportunity_id, credited_by
),

weighted as (
    select credited_by, channel, share, stage, pipeline_amount, cycle_days from int_deal_credits
    union all
    select credited_by, channel, share, stage, pipeline_amount, cycle_days from whole_deals
),

-- summed exactly (pico-units: the same figures on every engine and in any row order)
summed as (
    select
        credited_by,
        channel,
        from_picos(sum(to_picos(share))) as deals,
        from_picos(sum(to_picos(share)) filter (where stage = 'closed_won')) as won_deals,
        from_picos(sum(to_picos(share)) filter (where stage <> 'open')) as closed_deals,
        from_picos(sum(to_picos(share * pipeline_amount)) filter (where stage = 'closed_won')) as won_amount,
        from_picos(sum(to_picos(share * cycle_days)) filter (where stage = 'closed_won')) as won_cycle_days
    from weighted
    group by credited_by, channel
),

final as (
    select
        credited_by,
        channel,
        deals,
        coalesce(won_deals, 0) as won_deals,
        coalesce(closed_deals, 0) as closed_deals,
        won_deals / nullif(closed_deals, 0) as win_rate,
        won_amount / nullif(won_deals, 0) as average_deal_size,
        won_cycle_days / nullif(won_deals, 0) as sales_cycle_days,
        deals * (won_deals / nullif(closed_deals, 0)) * (won_amount / nullif(won_deals, 0))
        / nullif(won_cycle_days / nullif(won_deals, 0), 0) as pipeline_velocity_per_day
    from summed
)

select * from final
order by credited_by, channel
