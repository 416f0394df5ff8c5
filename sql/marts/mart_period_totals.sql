-- mart_period_totals: one row per (journey_kind, period_month): the month's total pipeline
-- (opportunities created in it) or won revenue (won in it), and the influenced part: those
-- whose journey has at least one touch (a yes/no measure, the same for every model), with
-- opportunity counts. Months use the company calendar; fiscal_quarter (setting
-- fiscal_year_start_month) lets a BI tool roll months up to fiscal quarters. Amounts in the reporting currency.
-- The totals that mart_influenced_pipeline / _revenue rows add up to, kept apart so that a
-- sum in a BI tool never counts a month's total once per channel and model.
-- Reads int_journeys. No parameters. Money summed exactly (macros.sql).
with journeys as (
    select * from int_journeys where is_converted
),

final as (
    select
        journey_kind,
        period_month,
        fiscal_quarter,
        count(*) as opportunities,
        count(*) filter (where touch_count > 0) as influenced_opportunities,
        from_cents(sum(to_cents(journey_amount))) as total_amount,
        coalesce(from_cents(sum(to_cents(journey_amount)) filter (where touch_count > 0)), 0)
            as influenced_amount
    from journeys
    group by journey_kind, period_month, fiscal_quarter
)

select * from final
order by journey_kind, period_month
