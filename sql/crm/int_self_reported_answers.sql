-- int_self_reported_answers: one row per staged opportunity someone answered "how did you hear
-- about us" for: the answer and where it came from, the first that has one: the opportunity's
-- own field (self_reported_source), its primary contact role's person, another contact role's
-- person, else a person of its account who answered before the opportunity was created (the
-- earliest such answer; a person's answer is dated by their record's creation).
-- Reads stg_opportunities, stg_contact_roles, crm_self_reported_answers. No parameters.
with answers as (
    select contact_id, account_id, answer, try_cast(answered_at as timestamptz)::timestamp as answered_at
    from crm_self_reported_answers
),

candidates as (
    select opportunity_id, self_reported_source as answer, 'opportunity' as answer_source, 1 as priority,
           null::timestamp as answered_at
    from stg_opportunities
    where self_reported_source is not null
    union all
    select roles.opportunity_id, answers.answer,
           case when roles.is_primary then 'primary_contact_role' else 'contact_role' end,
           case when roles.is_primary then 2 else 3 end, answers.answered_at
    from stg_contact_roles as roles
    inner join answers on answers.contact_id = roles.contact_id
    union all
    select opportunities.opportunity_id, answers.answer, 'account_person', 4, answers.answered_at
    from stg_opportunities as opportunities
    inner join answers
        on answers.account_id = opportunities.account_id
        and coalesce(answers.answered_at <= opportunities.created_at, true)
)

select distinct on (opportunity_id) opportunity_id, answer, answer_source
from candidates
order by opportunity_id, priority, answered_at nulls last, answer
