-- interval_journey_paths (model input): one row per converted journey of $journey_kind with
-- touches: its channels in journey order (the Markov path, the Shapley channel set).
select opportunity_id, list(channel order by position) as path
from int_journey_touches
where is_converted and journey_kind = $journey_kind
group by opportunity_id
order by opportunity_id
