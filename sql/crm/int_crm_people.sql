-- int_crm_people: one row per person (contact or lead) with the account they belong to and
-- how it was found, in this order (the first that applies):
--   contact        the contact's own account (Salesforce AccountId, HubSpot associated company)
--   converted_lead the account a converted lead became part of (ConvertedAccountId)
--   email_domain   the one account whose website host is the e-mail's domain (free-mail
--                  domains never match; a domain of two accounts is ambiguous)
--   company_name   the one account whose name keys as the lead's company does
-- else unmatched_reason says why: ambiguous_email_domain, ambiguous_company_name,
-- free_mail_domain, no_email_or_company, no_account_match.
-- Reads int_crm_person_candidates, int_crm_domain_accounts, int_crm_name_accounts,
-- free_mail_domains. No parameters.
with candidates as (
    select
        *,
        email_domain(email) as email_domain,
        name_key(company) as company_key
    from int_crm_person_candidates
),

matched as (
    select
        candidates.*,
        free_mail_domains.domain is not null as is_free_mail,
        coalesce(domains.account_count, 0) as domain_accounts,
        domains.account_id as domain_account_id,
        coalesce(names.account_count, 0) as name_accounts,
        names.account_id as name_account_id
    from candidates
    left join free_mail_domains on free_mail_domains.domain = candidates.email_domain
    left join int_crm_domain_accounts as domains
        on domains.domain = candidates.email_domain and free_mail_domains.domain is null
    left join int_crm_name_accounts as names on names.name_key = candidates.company_key
),

resolved as (
    select
        *,
        case
            when direct_account_id is not null then direct_method
            when domain_accounts = 1 then 'email_domain'
            when domain_accounts = 0 and name_accounts = 1 then 'company_name'
        end as identity_method
    from matched
),

final as (
    select
        person_id,
        person_kind,
        contact_id,
        email,
        email_domain,
        company,
        self_reported,
        crm_source,
        created_at,
        source_file,
        source_row,
        identity_method,
        case identity_method
            when 'email_domain' then domain_account_id
            when 'company_name' then name_account_id
            when direct_method then direct_account_id
        end as account_id,
        case
            when identity_method is not null then null
            when domain_accounts > 1 then 'ambiguous_email_domain'
            when name_accounts > 1 then 'ambiguous_company_name'
            when is_free_mail then 'free_mail_domain'
            when email is null and company is null then 'no_email_or_company'
            else 'no_account_match'
        end as unmatched_reason
    from resolved
)

select * from final
