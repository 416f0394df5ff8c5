-- int_crm_contact_roles (HubSpot): one row per deal-to-contact association row: the deal, the
-- contact, the association label as its role; a label "Primary" (or a role named primary)
-- marks the primary contact. `reason` quarantines a row the object check refused or whose
-- contact no contacts row has (unknown_contact). Reads crm_hubspot_dealcontacts,
-- int_crm_people. No parameters.
select
    roles.source_file,
    roles.source_row,
    coalesce(roles.reason, case when people.person_id is null then 'unknown_contact' end) as reason,
    roles.opportunity_id,
    roles.contact_id,
    nullif(trim(roles.role), '') as role,
    cast(coalesce(contains(lower(roles.role), 'primary'), false) as varchar) as is_primary,
    roles.record
from crm_hubspot_dealcontacts as roles
left join int_crm_people as people on people.person_id = roles.contact_id
