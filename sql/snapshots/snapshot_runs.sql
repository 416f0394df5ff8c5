-- snapshot_runs (insert): this run's row. Parameters: $run_id, $as_of, $taken_at,
-- $reporting_currency.
insert into snapshot_runs values ($run_id, $as_of, $taken_at, $reporting_currency)
