-- markov_sanity (check): journey kinds whose P(conversion) is not in (0, 1] or whose channel
-- shares do not sum to 1 (within $tolerance). P = 1 (no non-converting path) is valid.
-- Parameters: $tolerance.
select journey_kind, any_value(p_conversion) as p_conversion, sum(share) as share_sum
from mart_markov_removal_effects
group by journey_kind
having not (any_value(p_conversion) > 0 and any_value(p_conversion) <= 1 + $tolerance)
    or abs(sum(share) - 1) > $tolerance
order by journey_kind
