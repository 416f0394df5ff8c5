-- interval_opportunities (model input): one row per converted journey of $journey_kind: the
-- opportunity and the value its journey distributes, the units the bootstrap reweights.
select opportunity_id, journey_amount
from int_journeys
where is_converted and journey_kind = $journey_kind
order by opportunity_id
