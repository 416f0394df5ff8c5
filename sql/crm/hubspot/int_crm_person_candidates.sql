-- int_crm_person_candidates (HubSpot): one row per valid contact row: the contact, its
-- associated company (the first of "Associated Company IDs"), e-mail, company name, answer to
-- "how did you hear about us" and original source. Reads crm_hubspot_contacts. No parameters.
select
    id as person_id,
    'contact' as person_kind,
    first_id(company_id) as direct_account_id,
    'contact' as direct_method,
    id as contact_id,
    nullif(trim(email), '') as email,
    nullif(trim(company), '') as company,
    nullif(trim(self_reported), '') as self_reported,
    nullif(trim(original_source), '') as crm_source,
    created_at,
    source_file,
    source_row
from crm_hubspot_contacts
where reason is null
