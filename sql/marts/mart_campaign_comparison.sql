-- mart_campaign_comparison: one row per (journey_kind, model, channel, campaign): the amount
-- the model attributes to the campaign's touches, its share of the model's total, and how
-- many opportunities gave the campaign a non-zero credit. A touch without a campaign counts
-- under '(no campaign)' (never dropped); the unattributed pseudo-channel's campaign is
-- '(none)'. Per (journey_kind, model) the rows sum to the total pipeline / won revenue.
-- With the confidence interval of the amount and share (int_attribution_intervals; null
-- when intervals are off).
-- Reads int_attribution_credits (wide: one credit column per model run), int_journeys,
-- int_attribution_intervals (the campaign is on the credits). No parameters. Money summed exactly
-- (macros.sql): each touch's to_picos(credit x journey amount), as in every mart, summed
-- straight to the campaign; the opportunities credited come from one flag per (journey,
-- campaign) and model, with no money at that grain (0.9 vs 1.4 s at 100k opportunities). The
-- models stay columns until the rows are per campaign (a few hundred), then are unpivoted.
with credits as (
    select
        journey_kind,
        opportunity_id,
        channel,
        campaign_label(channel, campaign) as campaign,
        -- every other column of the wide credits is one model's credit
        * exclude (journey_kind, opportunity_id, touchpoint_id, channel, campaign)
    from int_attribution_credits
),

-- per (channel, campaign), per model: the exact pico-units of its touches' amounts
campaign_picos as (
    select
        credits.journey_kind,
        credits.channel,
        credits.campaign,
        sum(to_picos(
            columns(credits.* exclude (journey_kind, opportunity_id, channel, campaign)) * journeys.journey_amount
        )) as "picos_\0"
    from credits
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
    group by credits.journey_kind, credits.channel, credits.campaign
),

-- per (journey, channel, campaign), per model: whether the campaign has credit in the journey
credited_journeys as (
    select
        journey_kind,
        channel,
        campaign,
        bool_or(columns(* exclude (journey_kind, opportunity_id, channel, campaign)) > 0) as "credited_\0"
    from credits
    group by journey_kind, opportunity_id, channel, campaign
),

-- per (channel, campaign), per model: the pico-units and the opportunities credited (a
-- journey is one row of credited_journeys, so a count of flags, not a count(distinct))
by_campaign_wide as (
    select picos.*, credited.* exclude (journey_kind, channel, campaign)
    from campaign_picos as picos
    inner join (
        select journey_kind, channel, campaign, count_if(columns('^credited_(.*)$')) as "credited_\1"
        from credited_journeys
        group by journey_kind, channel, campaign
    ) as credited using (journey_kind, channel, campaign)
),

amounts as (
    select journey_kind, channel, campaign, substr(model, 7) as model, attributed_picos
    from by_campaign_wide
    unpivot (attributed_picos for model in (columns('^picos_')))
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
        amounts.attributed_picos,
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
        from_picos(by_campaign.attributed_picos) as attributed_amount,
        from_picos(by_campaign.attributed_picos) / nullif(from_picos(
            sum(by_campaign.attributed_picos) over (partition by by_campaign.journey_kind, by_campaign.model)
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
