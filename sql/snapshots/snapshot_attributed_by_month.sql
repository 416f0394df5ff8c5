-- snapshot_attributed_by_month (insert): the run's published month x model x channel figures
-- (int_attributed_by_month). Parameters: $run_id.
insert into snapshot_attributed_by_month
select $run_id, journey_kind, period_month, model, channel, attributed_amount
from int_attributed_by_month
order by journey_kind, period_month, model, channel
