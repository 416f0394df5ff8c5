-- mart_channel_influence: one row per (journey_kind, channel): any-touch influence, the
-- pipeline (won revenue) of the opportunities whose journey touched the channel at least
-- once, and how many opportunities that is. Model-independent (HubSpot's and Salesforce's
-- "influenced"), and NOT additive across channels: an opportunity touched by three channels
-- counts fully under each, so the column sums to more than the total (compare with
-- mart_period_totals.influenced_amount, where each opportunity counts once).
-- Reads int_journey_touches, int_journeys. No parameters. Money summed exactly (macros.sql).
with touched as (
    select distinct journey_kind, opportunity_id, channel
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
        from_cents(sum(to_cents(journeys.journey_amount))) as influenced_amount,
        count(*) as influenced_opportunities
    from touched
    inner join journeys using (journey_kind, opportunity_id)
    group by touched.journey_kind, touched.channel
)

select * from final
order by journey_kind, influenced_amount desc, channel
