-- prune_snapshots: the runs taken more than $retention_days days before $taken_at (the
-- current run's), whose snapshot rows are deleted (retention setting snapshot_retention_days;
-- 0 keeps every run). Parameters: $taken_at, $retention_days.
select run_id
from snapshot_runs
where $retention_days > 0 and taken_at < $taken_at - to_days(cast($retention_days as integer))
order by run_id
