-- int_crm_milestones (HubSpot): one row per contact with a company and a lifecycle date:
-- lead_created (Became a Lead Date, else the create date), mql and sql (Became a Marketing /
-- Sales Qualified Lead Date), for the milestone models. Reads crm_hubspot_contacts,
-- int_crm_people. No parameters.
with contacts as (
    select people.account_id, contacts.*
    from crm_hubspot_contacts as contacts
    inner join int_crm_people as people on people.person_id = contacts.id
    where contacts.reason is null and people.account_id is not null
)

select source_file, source_row, account_id, 'lead_created' as milestone, coalesce(nullif(trim(lead_at), ''), created_at) as occurred_at,
       id as contact_id
from contacts
where coalesce(nullif(trim(lead_at), ''), created_at) is not null
union all
select source_file, source_row, account_id, 'mql', mql_at, id from contacts where nullif(trim(mql_at), '') is not null
union all
select source_file, source_row, account_id, 'sql', sql_at, id from contacts where nullif(trim(sql_at), '') is not null
