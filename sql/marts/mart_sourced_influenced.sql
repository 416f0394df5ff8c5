-- mart_sourced_influenced: one row per (journey_kind, channel): what the channel sourced, what
-- it influenced and what each model attributes to it, side by side for finance.
--   sourced_amount / _opportunities: opportunities whose source is the channel: the first
--     touch of the journey ($sourced_by = 'first_touch') or the CRM's lead_source
--     ('lead_source'; blank: '(unknown)'); journeys without a touch: '(none)'. Additive.
--   influenced_amount / _opportunities: any-touch influence (mart_channel_influence), not
--     additive across channels.
--   one column per model: the attributed amount (mart_channel_comparison_wide). Additive.
-- Reads int_journeys, int_journey_touches, stg_opportunities, mart_channel_influence,
-- mart_channel_comparison_wide. Parameters: $sourced_by. Money summed exactly (macros.sql).
with journeys as (
    select j.journey_kind, j.opportunity_id, j.journey_amount, o.lead_source
    from int_journeys as j
    inner join stg_opportunities as o using (opportunity_id)
    where j.is_converted
),

first_touches as (
    select journey_kind, opportunity_id, channel
    from int_journey_touches
    where is_converted and position = 1
),

sources as (
    select
        journeys.journey_kind,
        journeys.opportunity_id,
        journeys.journey_amount,
        case
            when $sourced_by = 'lead_source' then coalesce(journeys.lead_source, '(unknown)')
            else coalesce(first_touches.channel, '(none)')
        end as channel
    from journeys
    left join first_touches using (journey_kind, opportunity_id)
),

sourced as (
    select
        journey_kind,
        channel,
        from_cents(sum(to_cents(journey_amount))) as sourced_amount,
        count(*) as sourced_opportunities
    from sources
    group by journey_kind, channel
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
