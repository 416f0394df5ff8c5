-- mart_campaign_comparison: one row per (journey_kind, model, channel, campaign): the amount
-- the model attributes to the campaign's touches, its share of the model's total, and how
-- many opportunities gave the campaign a non-zero credit. A touch without a campaign counts
-- under '(no campaign)' (never dropped); the unattributed pseudo-channel's campaign is
-- '(none)'. Per (journey_kind, model) the rows sum to the total pipeline / won revenue.
-- With the confidence interval of the amount and share (int_attribution_intervals; null
-- when intervals are off).
-- Reads mart_attribution_credits, int_attribution_intervals. No parameters. Money summed
-- exactly (macros.sql).
with credits as (
    select
        journey_kind,
        model,
        channel,
        case
            when channel = '(none)' then '(none)'
            else coalesce(campaign, '(no campaign)')
        end as campaign,
        opportunity_id,
        credit,
        attributed_amount
    from mart_attribution_credits
),

by_campaign as (
    select
        journey_kind,
        model,
        channel,
        campaign,
        sum(to_micros(attributed_amount)) as attributed_micros,
        count(distinct opportunity_id) filter (where credit > 0) as opportunities_credited
    from credits
    group by journey_kind, model, channel, campaign
),

intervals as (
    select * from int_attribution_intervals where level = 'campaign'
),

final as (
    select
        by_campaign.journey_kind,
        by_campaign.model,
        by_campaign.channel,
        by_campaign.campaign,
        from_micros(by_campaign.attributed_micros) as attributed_amount,
        from_micros(by_campaign.attributed_micros) / nullif(from_micros(
            sum(by_campaign.attributed_micros) over (partition by by_campaign.journey_kind, by_campaign.model)
        ), 0) as share_of_total,
        by_campaign.opportunities_credited,
        intervals.attributed_low,
        intervals.attributed_high,
        intervals.share_low,
        intervals.share_high,
        intervals.confidence_level
    from by_campaign
    left join intervals using (journey_kind, model, channel, campaign)
)

select * from final
order by journey_kind, model, attributed_amount desc, channel, campaign
