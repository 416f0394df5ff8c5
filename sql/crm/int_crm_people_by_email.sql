-- int_crm_people_by_email: one row per e-mail address (lower case) of int_crm_people: the person
-- with it (the smallest id when several share it), how form submissions, e-mail events and web
-- events without a contact id find their person. Reads int_crm_people. No parameters.
select lower(email) as email_key, min(person_id) as person_id
from int_crm_people
where email is not null
group by lower(email)
