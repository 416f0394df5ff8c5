-- int_crm_person_candidates (Salesforce): one row per valid Contact and Lead row: the person,
-- the account its record names (a contact's AccountId, a converted lead's ConvertedAccountId)
-- and how, the contact a converted lead became (contact roles name contacts), the e-mail and
-- company the other matches use, the answer to "how did you hear about us" and the lead source.
-- Reads crm_salesforce_contact, crm_salesforce_lead. No parameters.
select
    id as person_id,
    'contact' as person_kind,
    account_id as direct_account_id,
    'contact' as direct_method,
    id as contact_id,
    nullif(trim(email), '') as email,
    null::varchar as company,
    nullif(trim(self_reported), '') as self_reported,
    null::varchar as crm_source,
    created_at,
    source_file,
    source_row
from crm_salesforce_contact
where reason is null
union all
select
    id as person_id,
    'lead' as person_kind,
    case when parse_flag(is_converted) then converted_account_id end as direct_account_id,
    'converted_lead' as direct_method,
    case when parse_flag(is_converted) then converted_contact_id end as contact_id,
    nullif(trim(email), '') as email,
    nullif(trim(company), '') as company,
    nullif(trim(self_reported), '') as self_reported,
    nullif(trim(lead_source), '') as crm_source,
    created_at,
    source_file,
    source_row
from crm_salesforce_lead
where reason is null
