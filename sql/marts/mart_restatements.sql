-- mart_restatements: one row per (journey_kind, period_month, model, channel): the amount first
-- reported for it (by the earliest retained run whose snapshot has that period), the amount
-- the latest run reports, the difference, and the period's causes counted by comparing the
-- two runs' journeys of that period (the same counts on every row of the period):
--   new_opportunities / removed_opportunities: journeys in one run's period and not the other's
--   (created, deleted, moved to another month, or newly closed / won);
--   stage_changes, amount_changes (amount or currency), fx_changes (same amount and currency,
--   another converted value), journey_changes (the touch ids differ: late or removed touches).
-- A run whose as-of moved also restates: deals and touches between the two as-ofs arrive.
-- Only published runs are "first reported", besides the latest run (the one being published).
-- Reads snapshot_runs, snapshot_attributed_by_month, snapshot_opportunities. No parameters.
with runs as (
    select run_id, as_of, taken_at
    from snapshot_runs
    where is_published
        or run_id = (select latest.run_id from snapshot_runs as latest order by latest.taken_at desc, latest.run_id desc limit 1)
),

current_run as (
    select run_id, as_of from runs order by taken_at desc, run_id desc limit 1
),

first_runs as (
    select
        figures.journey_kind,
        figures.period_month,
        arg_min(runs.run_id, (runs.taken_at, runs.run_id)) as first_run_id,
        min(runs.as_of) as first_as_of
    from snapshot_attributed_by_month as figures
    inner join runs using (run_id)
    group by figures.journey_kind, figures.period_month
),

first_figures as (
    select figures.journey_kind, figures.period_month, figures.model, figures.channel, figures.attributed_amount
    from snapshot_attributed_by_month as figures
    inner join first_runs
        on figures.run_id = first_runs.first_run_id
        and figures.journey_kind = first_runs.journey_kind
        and figures.period_month = first_runs.period_month
),

current_figures as (
    select journey_kind, period_month, model, channel, attributed_amount
    from snapshot_attributed_by_month
    where run_id = (select run_id from current_run)
),

first_journeys as (
    select journeys.*
    from snapshot_opportunities as journeys
    inner join first_runs
        on journeys.run_id = first_runs.first_run_id
        and journeys.journey_kind = first_runs.journey_kind
        and journeys.period_month = first_runs.period_month
),

current_journeys as (
    select * from snapshot_opportunities where run_id = (select run_id from current_run)
),

compared as (
    select
        coalesce(current_journeys.journey_kind, first_journeys.journey_kind) as journey_kind,
        coalesce(current_journeys.period_month, first_journeys.period_month) as period_month,
        first_journeys.opportunity_id is null as is_new,
        current_journeys.opportunity_id is null as is_removed,
        first_journeys.stage <> current_journeys.stage as is_stage_change,
        first_journeys.amount <> current_journeys.amount
            or first_journeys.currency <> current_journeys.currency as is_amount_change,
        first_journeys.amount = current_journeys.amount
            and first_journeys.currency = current_journeys.currency
            and abs(first_journeys.journey_amount - current_journeys.journey_amount) >= 0.005 as is_fx_change,
        first_journeys.journey_fingerprint <> current_journeys.journey_fingerprint as is_journey_change
    from current_journeys
    full join first_journeys
        on current_journeys.journey_kind = first_journeys.journey_kind
        and current_journeys.opportunity_id = first_journeys.opportunity_id
        and current_journeys.period_month = first_journeys.period_month
),

causes as (
    select
        journey_kind,
        period_month,
        count(*) filter (where is_new) as new_opportunities,
        count(*) filter (where is_removed) as removed_opportunities,
        count(*) filter (where is_stage_change) as stage_changes,
        count(*) filter (where is_amount_change) as amount_changes,
        count(*) filter (where is_fx_change) as fx_changes,
        count(*) filter (where is_journey_change) as journey_changes
    from compared
    group by journey_kind, period_month
),

final as (
    select
        journey_kind,
        period_month,
        model,
        channel,
        first_runs.first_run_id,
        first_runs.first_as_of,
        (select run_id from current_run) as current_run_id,
        (select as_of from current_run) as current_as_of,
        coalesce(first_figures.attributed_amount, 0) as first_reported_amount,
        coalesce(current_figures.attributed_amount, 0) as current_amount,
        round(coalesce(current_figures.attributed_amount, 0) - coalesce(first_figures.attributed_amount, 0), 6)
            as difference,
        coalesce(causes.new_opportunities, 0) as new_opportunities,
        coalesce(causes.removed_opportunities, 0) as removed_opportunities,
        coalesce(causes.stage_changes, 0) as stage_changes,
        coalesce(causes.amount_changes, 0) as amount_changes,
        coalesce(causes.fx_changes, 0) as fx_changes,
        coalesce(causes.journey_changes, 0) as journey_changes
    from first_figures
    full join current_figures using (journey_kind, period_month, model, channel)
    left join first_runs using (journey_kind, period_month)
    left join causes using (journey_kind, period_month)
)

select * from final
order by journey_kind, period_month, model, channel
