-- mart_campaign_influence: one row per (journey_kind, channel, campaign): any-touch influence
-- of a campaign, the pipeline (won revenue) of the opportunities whose journey touched it at
-- least once, and how many opportunities that is; a touch without a campaign counts under
-- '(no campaign)'. Model-independent and NOT additive across campaigns (an opportunity
-- touched by two campaigns counts fully under each).
-- Reads int_journey_touches, int_journeys. No parameters. Money summed exactly (macros.sql).
with touched as (
    select distinct journey_kind, opportunity_id, channel, coalesce(campaign, '(no campaign)') as campaign
    from int_journey_touches
    where is_converted
),

journeys as (
    select journey_kind, opportunity_id, journey_amount from int_journeys where is_converted
),

final as (
    select
        touched.journey_kind,
        touched.channel,
        touched.campaign,
        from_cents(sum(to_cents(journeys.journey_amount))) as influenced_amount,
        count(*) as influenced_opportunities
    from touched
    inner join journeys using (journey_kind, opportunity_id)
    group by touched.journey_kind, touched.channel, touched.campaign
)

select * from final
order by journey_kind, influenced_amount desc, channel, campaign
