-- int_crm_milestones (Salesforce): one row per person with an account: lead_created when the
-- lead (or a contact no lead was converted into) was created, for the milestone models.
-- Reads int_crm_people, crm_salesforce_lead. No parameters.
select source_file, source_row, account_id, 'lead_created' as milestone, created_at as occurred_at, contact_id
from int_crm_people
where account_id is not null and created_at is not null
    and (person_kind = 'lead'
         or person_id not in (select converted_contact_id from crm_salesforce_lead
                              where converted_contact_id is not null))
