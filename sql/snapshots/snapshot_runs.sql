-- snapshot_runs (insert): this run's row, pending until the run publishes. Parameters:
-- $run_id, $as_of, $taken_at, $reporting_currency.
insert into snapshot_runs (run_id, as_of, taken_at, reporting_currency, is_published)
values ($run_id, $as_of, $taken_at, $reporting_currency, false)
