-- mart_sourced_influenced: one row per (journey_kind, channel): what the channel sourced, what
-- it influenced and what each model attributes to it, side by side for finance.
--   sourced_amount / _opportunities: opportunities whose source is the channel
--     (int_opportunity_sources: the journey's first touch or the CRM's lead_source). Additive.
--   influenced_amount / _opportunities: any-touch influence (mart_channel_influence), not
--     additive across channels.
--   one column per model: the attributed amount (mart_channel_comparison_wide). Additive.
-- Reads int_opportunity_sources, mart_channel_influence, mart_channel_comparison_wide.
-- No parameters. Money summed exactly (macros.sql).
with sourced as (
    select
        journey_kind,
        sourced_channel as channel,
        from_cents(sum(to_cents(journey_amount))) as sourced_amount,
        count(*) as sourced_opportunities
    from int_opportunity_sources
    group by journey_kind, sourced_channel
),

channels as (
    select journey_kind, channel from sourced
    union
    select journey_kind, channel from mart_channel_influence
    union
    select journey_kind, channel from mart_channel_comparison_wide
),

final as (
    select
        channels.journey_kind,
        channels.channel,
        coalesce(sourced.sourced_amount, 0) as sourced_amount,
        coalesce(sourced.sourced_opportunities, 0) as sourced_opportunities,
        coalesce(influence.influenced_amount, 0) as influenced_amount,
        coalesce(influence.influenced_opportunities, 0) as influenced_opportunities,
        attributed.* exclude (journey_kind, channel)
    from channels
    left join sourced using (journey_kind, channel)
    left join mart_channel_influence as influence using (journey_kind, channel)
    left join mart_channel_comparison_wide as attributed using (journey_kind, channel)
)

select * from final
order by journey_kind, sourced_amount desc, channel
