-- int_crm_contact_roles (Salesforce): one row per OpportunityContactRole row: the opportunity,
-- the contact, its role and whether it is the primary one; `reason` quarantines a row the
-- object check refused or whose contact no Contact row has (unknown_contact).
-- Reads crm_salesforce_opportunitycontactrole, int_crm_people. No parameters.
select
    roles.source_file,
    roles.source_row,
    coalesce(roles.reason, case when people.person_id is null then 'unknown_contact' end) as reason,
    roles.opportunity_id,
    roles.contact_id,
    nullif(trim(roles.role), '') as role,
    roles.is_primary,
    roles.record
from crm_salesforce_opportunitycontactrole as roles
left join int_crm_people as people on people.person_id = roles.contact_id and people.person_kind = 'contact'
