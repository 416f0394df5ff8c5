-- mart_campaign_comparison: one row per (journey_kind, model, channel, campaign): the amount
-- the model attributes to the campaign's touches, its share of the model's total, and how
-- many opportunities gave the campaign a non-zero credit. A touch without a campaign counts
-- under '(no campaign)' (never dropped); the unattributed pseudo-channel's campaign is
-- '(none)'. Per (journey_kind, model) the rows sum to the total pipeline / won revenue.
-- With the confidence interval of the amount and share (int_attribution_intervals; null
-- when intervals are off).
-- Reads int_attribution_credits (wide: one credit column per model run), int_journeys,
-- int_attribution_intervals (the campaign is on the credits). No parameters. Money summed exactly
-- (macros.sql): each touch's to_micros(credit x journey amount), as in every mart. The models
-- stay columns until the rows are per campaign (a few hundred), then are unpivoted.
with touch_credits as (
    select
        credits.journey_kind,
        credits.opportunity_id,
        credits.channel,
        campaign_label(credits.channel, credits.campaign) as campaign,
        journeys.journey_amount,
        -- every other column of the wide credits is one model's credit
        credits.* exclude (journey_kind, opportunity_id, touchpoint_id, channel, campaign)
    from int_attribution_credits as credits
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
),

-- per (journey, channel, campaign), per model: the credit and the exact micro-units
by_journey as (
    select
        journey_kind,
        opportunity_id,
        channel,
        campaign,
        sum(columns(* exclude (journey_kind, opportunity_id, channel, campaign, journey_amount)))
            as "credit_\0",
        sum(to_micros(
            columns(* exclude (journey_kind, opportunity_id, channel, campaign, journey_amount))
            * journey_amount
        )) as "micros_\0"
    from touch_credits
    group by journey_kind, opportunity_id, channel, campaign
),

-- per (channel, campaign), per model: an opportunity is one row of by_journey, so the
-- opportunities credited are a count, not a count(distinct)
by_campaign_wide as (
    select
        journey_kind,
        channel,
        campaign,
        sum(columns('^micros_(.*)$')) as "micros_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from by_journey
    group by journey_kind, channel, campaign
),

amounts as (
    select journey_kind, channel, campaign, substr(model, 8) as model, attributed_micros
    from by_campaign_wide
    unpivot (attributed_micros for model in (columns('^micros_')))
),

credited as (
    select journey_kind, channel, campaign, substr(model, 10) as model, opportunities_credited
    from by_campaign_wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

by_campaign as (
    select
        journey_kind,
        model,
        channel,
        campaign,
        amounts.attributed_micros,
        credited.opportunities_credited
    from amounts
    inner join credited using (journey_kind, channel, campaign, model)
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
