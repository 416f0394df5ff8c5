-- credit_conservation (check): converted journeys (per model) whose credits do not sum to 1
-- (within $tolerance), have a negative credit, attribute amounts that do not sum to the
-- journey amount (within $cent), or have no credit row at all (at most 100).
-- Parameters: $tolerance, $cent.
with expected as (
    select j.journey_kind, j.opportunity_id, j.journey_amount, m.model
    from int_journeys as j
    cross join (select distinct model from mart_attribution_credits) as m
    where j.is_converted
),

actual as (
    select journey_kind, model, opportunity_id,
           sum(credit) as credit_sum, sum(attributed_amount) as attributed_sum,
           min(credit) as min_credit
    from mart_attribution_credits
    group by journey_kind, model, opportunity_id
)

select e.journey_kind, e.model, e.opportunity_id, e.journey_amount,
       a.credit_sum, a.attributed_sum, a.min_credit
from expected as e
full outer join actual as a using (journey_kind, model, opportunity_id)
where a.credit_sum is null or e.journey_amount is null
   or abs(a.credit_sum - 1) > $tolerance or a.min_credit < -$tolerance
   or abs(a.attributed_sum - e.journey_amount) > $cent
order by e.journey_kind, e.model, e.opportunity_id
limit 100
