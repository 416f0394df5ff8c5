-- mart_reconciliation: one row per (journey_kind, model): the attributed total next to the total
-- pipeline (every opportunity) or won revenue, in the reporting currency, rounded to the cent,
-- and the influenced amount; is_reconciled when attributed = total to the cent and
-- influenced <= total. Finance signs off on this table before using any export.
-- Reads int_credits_by_channel, int_journeys. No parameters.
-- Money summed exactly (macros.sql): pico-units of attributed amounts, cents of amounts.
with totals as (
    select
        journey_kind,
        round(from_cents(sum(to_cents(journey_amount))), 2) as total_amount,
        round(coalesce(from_cents(sum(to_cents(journey_amount)) filter (where touch_count > 0)), 0), 2)
            as influenced_amount,
        count(*) as opportunities
    from int_journeys
    where is_converted
    group by journey_kind
),

-- the models as columns, then one row per model; every journey has every model's column, so
-- the opportunities attributed are the same for each model of a kind
attributed_wide as (
    select
        journey_kind,
        sum(columns('^picos_(.*)$')) as "\1",
        count(distinct opportunity_id) as opportunities_attributed
    from int_credits_by_channel
    group by journey_kind
),

attributed as (
    select
        journey_kind,
        model,
        round(from_picos(attributed_picos), 2) as attributed_amount,
        opportunities_attributed
    from attributed_wide
    unpivot (attributed_picos for model in (columns(* exclude (journey_kind, opportunities_attributed))))
),

final as (
    select
        attributed.journey_kind,
        attributed.model,
        totals.total_amount,
        attributed.attributed_amount,
        attributed.attributed_amount - totals.total_amount as difference,
        totals.influenced_amount,
        totals.opportunities,
        attributed.opportunities_attributed,
        abs(attributed.attributed_amount - totals.total_amount) < 0.005
            and totals.influenced_amount <= totals.total_amount
            and totals.opportunities = attributed.opportunities_attributed as is_reconciled
    from attributed
    left join totals using (journey_kind)
)

select * from final
order by journey_kind, model
