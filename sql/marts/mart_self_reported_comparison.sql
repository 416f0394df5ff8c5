-- mart_self_reported_comparison: one row per (model, channel) over the pipeline journeys of the
-- opportunities with a self-reported answer (int_self_reported: "how did you hear about us",
-- mapped to a channel by the channel rules): how many answers name the channel and their share
-- of the answered opportunities, the model's credit to the channel over the same opportunities
-- and its share, the gap (model share - self-reported share), and per model the agreement
-- rate: the share of answered opportunities whose answer names a channel the model gives its
-- largest credit (ties: any of them). Empty when nobody answered.
-- Reads int_self_reported, mart_attribution_credits. No parameters.
with answered as (
    select opportunity_id, channel as reported_channel from int_self_reported
),

answered_count as (
    select count(*) as answered_opportunities from answered
),

credits as (
    select credits.model, credits.opportunity_id, credits.channel, sum(credits.credit) as credit
    from mart_attribution_credits as credits
    inner join answered using (opportunity_id)
    where credits.journey_kind = 'pipeline'
    group by all
),

top_channels as (
    select model, opportunity_id, channel
    from credits
    qualify credit >= max(credit) over (partition by model, opportunity_id) - 1e-12
),

agreement as (
    select top_channels.model, count(distinct top_channels.opportunity_id) as agreeing_opportunities
    from top_channels
    inner join answered
        on answered.opportunity_id = top_channels.opportunity_id
        and answered.reported_channel = top_channels.channel
    group by top_channels.model
),

models as (
    select distinct model from credits
),

reported as (
    select reported_channel as channel, count(*) as reported_opportunities from answered group by all
),

model_credit as (
    select model, channel, sum(credit) as model_credit from credits group by all
),

cells as (
    select models.model, reported.channel from models cross join reported
    union
    select model, channel from model_credit
),

final as (
    select
        cells.model,
        cells.channel,
        coalesce(reported.reported_opportunities, 0) as reported_opportunities,
        coalesce(reported.reported_opportunities, 0) / answered_count.answered_opportunities as self_reported_share,
        coalesce(model_credit.model_credit, 0) as model_credit,
        coalesce(model_credit.model_credit, 0) / answered_count.answered_opportunities as model_share,
        (coalesce(model_credit.model_credit, 0) - coalesce(reported.reported_opportunities, 0))
            / answered_count.answered_opportunities as share_gap,
        answered_count.answered_opportunities,
        coalesce(agreement.agreeing_opportunities, 0) / answered_count.answered_opportunities as agreement_rate
    from cells
    cross join answered_count
    left join reported on reported.channel = cells.channel
    left join model_credit on model_credit.model = cells.model and model_credit.channel = cells.channel
    left join agreement on agreement.model = cells.model
)

select * from final
order by model, channel
