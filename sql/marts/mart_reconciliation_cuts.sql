-- mart_reconciliation_cuts: one row per (table_name, journey_kind, model, cut, cut_value): for
-- every additive reporting table, the amount it reports for one cell of a cut next to what
-- the opportunities say that cell holds (pipeline of the opportunities created in it, won
-- revenue of those won in it); is_reconciled when they agree to the cent. Cuts: total,
-- period_month, fiscal_quarter, segment:<dimension>. Model '(any)' marks a model-independent
-- table (sourced, period totals). A cell a table lacks, or reports without opportunities,
-- shows with a zero on the missing side. Finance signs off on this table (with
-- mart_reconciliation) before using any export; the asset check cuts_reconcile fails on a row
-- that does not reconcile.
-- Reads int_journeys, int_opportunity_segments and the marts it checks.
-- Parameters: $model_names (the models run). Money summed exactly (macros.sql).
with journeys as (
    select journey_kind, opportunity_id, period_month, fiscal_quarter, to_cents(journey_amount) as cents
    from int_journeys
    where is_converted
),

cells as (
    select journey_kind, 'total' as cut, '(all)' as cut_value, cents from journeys
    union all
    select journey_kind, 'period_month', cast(period_month as varchar), cents from journeys
    union all
    select journey_kind, 'fiscal_quarter', fiscal_quarter, cents from journeys
    union all
    select journeys.journey_kind, 'segment:' || segments.dimension, segments.segment_value, journeys.cents
    from journeys
    inner join int_opportunity_segments as segments using (opportunity_id)
),

cell_totals as (
    select journey_kind, cut, cut_value, sum(cents) as cents from cells group by all
),

-- which table reports which cut, per model or model-independent, for which journey kinds (all:
-- null; the spend-return tables report pipeline and revenue)
checked_tables as (
    select * from (values
        ('int_attributed_by_month', 'period_month', true, null),
        ('mart_attributed_by_quarter', 'fiscal_quarter', true, null),
        ('mart_channel_comparison', 'total', true, null),
        ('mart_campaign_comparison', 'total', true, null),
        ('mart_segment_comparison', 'segment:', true, null),
        ('mart_spend_return', 'total', true, ['pipeline', 'revenue']),
        ('mart_spend_return', 'period_month', true, ['pipeline', 'revenue']),
        ('mart_campaign_spend_return', 'total', true, ['pipeline', 'revenue']),
        ('mart_sourced_influenced', 'total', false, null),
        ('mart_period_totals', 'period_month', false, null)
    ) as t (table_name, cut, per_model, journey_kinds)
),

models as (
    select unnest($model_names::varchar[]) as model
),

table_cells as (
    select checked_tables.table_name, checked_tables.per_model, cell_totals.*
    from checked_tables
    inner join cell_totals
        on (cell_totals.cut = checked_tables.cut
            or (checked_tables.cut = 'segment:' and starts_with(cell_totals.cut, 'segment:')))
        and (checked_tables.journey_kinds is null
            or list_contains(checked_tables.journey_kinds, cell_totals.journey_kind))
),

expected as (
    select table_name, journey_kind, models.model, cut, cut_value, from_cents(cents) as expected_amount
    from table_cells cross join models
    where per_model
    union all
    select table_name, journey_kind, '(any)', cut, cut_value, from_cents(cents)
    from table_cells
    where not per_model
),

reported_picos as (
    select 'int_attributed_by_month' as table_name, journey_kind, model, 'period_month' as cut,
        cast(period_month as varchar) as cut_value, sum(to_picos(attributed_amount)) as picos
    from int_attributed_by_month group by all
    union all
    select 'mart_attributed_by_quarter', journey_kind, model, 'fiscal_quarter', fiscal_quarter,
        sum(to_picos(attributed_amount))
    from mart_attributed_by_quarter group by all
    union all
    select 'mart_channel_comparison', journey_kind, model, 'total', '(all)', sum(to_picos(attributed_amount))
    from mart_channel_comparison group by all
    union all
    select 'mart_campaign_comparison', journey_kind, model, 'total', '(all)', sum(to_picos(attributed_amount))
    from mart_campaign_comparison group by all
    union all
    select 'mart_segment_comparison', journey_kind, model, 'segment:' || dimension, segment_value,
        sum(to_picos(attributed_amount))
    from mart_segment_comparison group by all
    union all
    select 'mart_spend_return', kind.journey_kind, model, 'total', '(all)',
        sum(to_picos(case when kind.journey_kind = 'pipeline' then attributed_pipeline else attributed_revenue end))
    from mart_spend_return cross join (values ('pipeline'), ('revenue')) as kind (journey_kind)
    where period_grain = 'all' group by all
    union all
    select 'mart_spend_return', kind.journey_kind, model, 'period_month', cast(period_start as varchar),
        sum(to_picos(case when kind.journey_kind = 'pipeline' then attributed_pipeline else attributed_revenue end))
    from mart_spend_return cross join (values ('pipeline'), ('revenue')) as kind (journey_kind)
    where period_grain = 'month' group by all
    having sum(to_picos(case when kind.journey_kind = 'pipeline' then attributed_pipeline else attributed_revenue end)) <> 0
    union all
    select 'mart_campaign_spend_return', kind.journey_kind, model, 'total', '(all)',
        sum(to_picos(case when kind.journey_kind = 'pipeline' then attributed_pipeline else attributed_revenue end))
    from mart_campaign_spend_return cross join (values ('pipeline'), ('revenue')) as kind (journey_kind)
    where period_grain = 'all' group by all
    union all
    select 'mart_sourced_influenced', journey_kind, '(any)', 'total', '(all)', sum(to_picos(sourced_amount))
    from mart_sourced_influenced group by all
    union all
    select 'mart_period_totals', journey_kind, '(any)', 'period_month', cast(period_month as varchar),
        sum(to_picos(total_amount))
    from mart_period_totals group by all
),

final as (
    select
        table_name,
        journey_kind,
        model,
        cut,
        cut_value,
        coalesce(expected.expected_amount, 0) as expected_amount,
        coalesce(from_picos(reported_picos.picos), 0) as reported_amount,
        round(coalesce(from_picos(reported_picos.picos), 0) - coalesce(expected.expected_amount, 0), 6)
            as difference,
        abs(coalesce(from_picos(reported_picos.picos), 0) - coalesce(expected.expected_amount, 0)) < 0.005
            as is_reconciled
    from expected
    full join reported_picos using (table_name, journey_kind, model, cut, cut_value)
)

select * from final
order by table_name, journey_kind, model, cut, cut_value
