-- int_credits_by_campaign: one row per (journey_kind, model, opportunity, channel, campaign):
-- the summed credit and the attributed amount in exact micro-units (macros.sql) of the
-- journey's touches of that campaign, with the journey's period. The grain every credit mart
-- and the confidence intervals aggregate from: one scan of the per-touch credits instead of
-- one per mart. Campaigns labelled as in the marts: '(no campaign)' for touches without one,
-- '(none)' for the unattributed pseudo-channel. Credits are never negative, so credit > 0
-- here means the opportunity gave the channel (campaign) a non-zero credit.
-- Reads mart_attribution_credits. No parameters.
select
    journey_kind,
    model,
    opportunity_id,
    channel,
    case when channel = '(none)' then '(none)' else coalesce(campaign, '(no campaign)') end as campaign,
    period_month,
    fiscal_quarter,
    sum(credit) as credit,
    sum(to_micros(attributed_amount)) as attributed_micros
from mart_attribution_credits
group by all
