-- int_deal_credits: one row per (opportunity, channel, credited_by) of the pipeline journeys:
-- the share of the deal the channel holds: under each model its credit (the channel's
-- touches' credits summed), and under 'sourced' 1 for the channel that sourced it
-- (int_opportunity_sources; the credit from its exact pico-units, so reruns agree to the
-- bit); with the deal's outcome at as-of (open, closed_won,
-- closed_lost), its pipeline amount, the days from creation to its close (closed deals) and
-- the furthest funnel stage it reached (int_stage_entries). Per deal and credited_by the
-- shares sum to 1: the velocity and funnel-by-model marts weigh deals with them.
-- Reads int_credits_by_channel, int_opportunity_sources, int_stage_entries,
-- stg_opportunities. No parameters.
with pipeline_units as (
    select * from int_credits_by_channel where journey_kind = 'pipeline'
),

model_shares as (
    select opportunity_id, channel, substr(model, 7) as credited_by, from_picos(units) as share
    from pipeline_units
    unpivot (units for model in (columns('^units_')))
),

sourced_shares as (
    select opportunity_id, sourced_channel as channel, 'sourced' as credited_by, 1.0 as share
    from int_opportunity_sources
    where journey_kind = 'pipeline'
),

shares as (
    select opportunity_id, channel, credited_by, share from model_shares
    union all
    select opportunity_id, channel, credited_by, share from sourced_shares
),

reached as (
    select opportunity_id, max(stage_position) as reached_position
    from int_stage_entries
    group by opportunity_id
),

final as (
    select
        shares.opportunity_id,
        shares.channel,
        shares.credited_by,
        shares.share,
        deals.stage,
        deals.pipeline_amount,
        case when deals.stage <> 'open' then epoch(deals.closed_event_at - deals.created_at) / 86400.0 end
            as cycle_days,
        reached.reached_position
    from shares
    inner join stg_opportunities as deals using (opportunity_id)
    left join reached using (opportunity_id)
)

select * from final
