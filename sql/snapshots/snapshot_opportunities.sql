-- snapshot_opportunities (insert): every journey of the run with what a restatement's causes
-- compare: period, stage, amount and currency, value, touches, and a fingerprint of the
-- sorted touch ids (a late or removed touch changes it). Parameters: $run_id.
-- DuckDB-only: hash() of a list.
insert into snapshot_opportunities
with fingerprints as (
    select journey_kind, opportunity_id, hash(list(touchpoint_id order by touchpoint_id)) as journey_fingerprint
    from int_journey_touches
    group by journey_kind, opportunity_id
)

select
    $run_id,
    journeys.journey_kind,
    journeys.opportunity_id,
    journeys.period_month,
    journeys.is_converted,
    journeys.stage,
    opportunities.amount,
    opportunities.currency,
    journeys.journey_amount,
    journeys.touch_count,
    coalesce(fingerprints.journey_fingerprint, 0)
from int_journeys as journeys
left join stg_opportunities as opportunities using (opportunity_id)
left join fingerprints using (journey_kind, opportunity_id)
order by journeys.journey_kind, journeys.opportunity_id
