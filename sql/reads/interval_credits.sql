-- interval_credits (model input): one row per (opportunity, channel, campaign) of
-- $journey_kind, one column per model of $models: the amount the model attributes there (its
-- column of the wide credits times the journey amount), with `opportunity` = the 0-based row
-- of the opportunity among the kind's converted journeys sorted by id (interval_opportunities)
-- and `key` = the 0-based rank of (channel, campaign); campaigns labelled as in
-- mart_campaign_comparison (campaign_label, macros.sql).
-- Amounts summed exactly, as in the marts (each touch's to_picos(credit x journey amount),
-- macros.sql): a float sum would depend on the order the credit rows are read in.
-- Rows in no particular order (the bootstrap sums them); keys numbered over the few distinct
-- (channel, campaign) pairs and joined back, so nothing large is sorted.
with opportunities as (
    select opportunity_id, row_number() over (order by opportunity_id) - 1 as opportunity
    from int_journeys
    where is_converted and journey_kind = $journey_kind
),

credits as (
    select
        credits.opportunity_id,
        credits.channel,
        campaign_label(credits.channel, credits.campaign) as campaign,
        from_picos(sum(to_picos(columns(lambda c: list_contains($models, c)) * journeys.journey_amount)))
    from int_attribution_credits as credits
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
    where credits.journey_kind = $journey_kind
    group by all
),

keys as (
    select channel, campaign, row_number() over (order by channel, campaign) - 1 as key
    from (select distinct channel, campaign from credits) as labels
)

select opportunities.opportunity, keys.key, credits.* exclude (opportunity_id)
from credits
inner join opportunities using (opportunity_id)
inner join keys using (channel, campaign)
