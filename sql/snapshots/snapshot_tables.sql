-- The restatement history: what each successful run published, kept as dated snapshots that
-- later runs never rewrite (attribution.restatements; pruned only by the retention setting).
-- snapshot_runs: one row per run (run id, its as-of, when it was taken, is_published: its
--   exports were published; pending until then, and deleted by the next run if they never were).
-- snapshot_attributed_by_month: one row per (run, journey_kind, month, model, channel): the
--   attributed amount the run published (int_attributed_by_month).
-- snapshot_opportunities: one row per (run, journey_kind, opportunity): the journey's period,
--   stage, amount and currency, value in the reporting currency, touch count and a
--   fingerprint of its touch ids: what a restatement's causes are counted from.
create table if not exists snapshot_runs (
    run_id varchar primary key,
    as_of timestamp,
    taken_at timestamp,
    reporting_currency varchar,
    is_published boolean
);
-- a history written before runs were published in two steps: those runs published
alter table snapshot_runs add column if not exists is_published boolean default true;
create table if not exists snapshot_attributed_by_month (
    run_id varchar,
    journey_kind varchar,
    period_month date,
    model varchar,
    channel varchar,
    attributed_amount double
);
create table if not exists snapshot_opportunities (
    run_id varchar,
    journey_kind varchar,
    opportunity_id varchar,
    period_month date,
    is_converted boolean,
    stage varchar,
    amount double,
    currency varchar,
    journey_amount double,
    touch_count bigint,
    journey_fingerprint ubigint
);
