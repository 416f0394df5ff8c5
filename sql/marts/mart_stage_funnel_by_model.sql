-- mart_stage_funnel_by_model: one row per (credited_by, channel, funnel stage): how many
-- deals' worth of the channel reached the stage (entered it or a later one by as-of), each
-- deal weighed by the channel's share of it (credited_by: a model's credit, or 'sourced'),
-- of how many deals' worth it has, and that share. Per credited_by and stage the reached
-- worth sums over channels to the deals that reached it (mart_stage_funnel).
-- Reads int_deal_credits, int_funnel_stages. No parameters. Summed exactly (macros.sql).
with summed as (
    select
        credits.credited_by,
        credits.channel,
        stages.stage_position,
        stages.stage_label,
        from_picos(sum(to_picos(credits.share))) as deals,
        from_picos(coalesce(sum(to_picos(credits.share)) filter (
            where credits.reached_position >= stages.stage_position
        ), 0)) as reached_deals
    from int_deal_credits as credits
    cross join int_funnel_stages as stages
    group by credits.credited_by, credits.channel, stages.stage_position, stages.stage_label
),

final as (
    select *, reached_deals / nullif(deals, 0) as reach_rate from summed
)

select * from final
order by credited_by, channel, stage_position
