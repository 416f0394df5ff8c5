-- int_opportunity_sources: one row per converted journey (journey_kind, opportunity_id): its
-- amount and the channel that sourced it: the first touch of the journey ($sourced_by =
-- 'first_touch'; a journey without a touch: '(none)') or the CRM's lead_source
-- ('lead_source'; blank or a milestone kind's journey, which has no deal: '(unknown)'). The one definition of "sourced" the sourced and
-- funnel marts read.
-- Reads int_journeys, int_journey_touches, stg_opportunities. Parameters: $sourced_by.
with journeys as (
    select j.journey_kind, j.opportunity_id, j.journey_amount, o.lead_source
    from int_journeys as j
    left join stg_opportunities as o using (opportunity_id)
    where j.is_converted
),

first_touches as (
    select journey_kind, opportunity_id, channel
    from int_journey_touches
    where is_converted and position = 1
),

final as (
    select
        journeys.journey_kind,
        journeys.opportunity_id,
        journeys.journey_amount,
        case
            when $sourced_by = 'lead_source' then coalesce(journeys.lead_source, '(unknown)')
            else coalesce(first_touches.channel, '(none)')
        end as sourced_channel
    from journeys
    left join first_touches using (journey_kind, opportunity_id)
)

select * from final
