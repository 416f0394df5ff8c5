-- interval_credits (model input): one row per (model, opportunity, channel, campaign) of
-- $journey_kind: the attributed amount of that journey, campaign labelled as in
-- mart_campaign_comparison ('(no campaign)'; '(none)' for the unattributed pseudo-channel).
select
    model,
    opportunity_id,
    channel,
    case when channel = '(none)' then '(none)' else coalesce(campaign, '(no campaign)') end as campaign,
    sum(attributed_amount) as attributed_amount
from mart_attribution_credits
where journey_kind = $journey_kind
group by all
order by model, opportunity_id, channel, campaign
