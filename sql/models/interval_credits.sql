-- interval_credits (model input): one row per (opportunity, channel, campaign) of $model and
-- $journey_kind: the attributed amount of that journey, with `opportunity` = the 0-based row
-- of the opportunity among the kind's converted journeys sorted by id (interval_opportunities)
-- and `key` = the 0-based rank of (channel, campaign); campaigns labelled as in
-- mart_campaign_comparison ('(no campaign)'; '(none)' for the unattributed pseudo-channel).
-- Rows in no particular order (the bootstrap sums them); keys numbered over the few distinct
-- (channel, campaign) pairs and joined back, so nothing large is sorted.
with opportunities as (
    select opportunity_id, row_number() over (order by opportunity_id) - 1 as opportunity
    from int_journeys
    where is_converted and journey_kind = $journey_kind
),

credits as (
    select
        opportunity_id,
        channel,
        case when channel = '(none)' then '(none)' else coalesce(campaign, '(no campaign)') end as campaign,
        sum(attributed_amount) as attributed_amount
    from mart_attribution_credits
    where journey_kind = $journey_kind and model = $model
    group by all
),

keys as (
    select channel, campaign, row_number() over (order by channel, campaign) - 1 as key
    from (select distinct channel, campaign from credits)
)

select opportunities.opportunity, keys.key, credits.channel, credits.campaign, credits.attributed_amount
from credits
inner join opportunities using (opportunity_id)
inner join keys using (channel, campaign)
