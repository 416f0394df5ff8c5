-- int_web_touch_rows: one row per web event (or session) row: the touch it becomes, with its
-- file, row and id, its account and how it was found, and the fields the channel rules read
-- (UTM parameters from their columns, else from the page URL's query; the referrer's host,
-- blank when it is the page's own site). Identity, the first that applies: the event's
-- contact (by id, else by e-mail) and that person's account and method; the one account of
-- the e-mail's domain (email_domain, never a free-mail domain); the one account of the
-- event's company domain (company_domain: a reverse-IP or enrichment column). Else
-- unmatched_reason: unknown_contact, ambiguous_email_domain, anonymous (nothing names who
-- it was), no_account_match. `reason`: the object's own check (missing_required, duplicate_id).
-- Reads crm_web_webevents, int_crm_people, int_crm_people_by_email, int_crm_domain_accounts, free_mail_domains.
-- No parameters.
with people_by_email as (
    select * from int_crm_people_by_email
),

events as (
    select
        *,
        coalesce(nullif(trim(utm_source), ''), url_param(page_url, 'utm_source')) as event_utm_source,
        coalesce(nullif(trim(utm_medium), ''), url_param(page_url, 'utm_medium')) as event_utm_medium,
        coalesce(nullif(trim(utm_campaign), ''), url_param(page_url, 'utm_campaign')) as event_utm_campaign,
        case when web_host(referrer) <> coalesce(web_host(page_url), '') then web_host(referrer) end
            as event_referrer_domain,
        email_domain(email) as event_email_domain,
        web_host(company_domain) as event_company_domain
    from crm_web_webevents
),

resolved as (
    select
        events.*,
        people.person_id as known_person_id,
        people.account_id as person_account_id,
        people.identity_method as person_method,
        people.unmatched_reason as person_unmatched_reason,
        free_mail_domains.domain is not null as is_free_mail,
        email_accounts.account_count as email_accounts,
        email_accounts.account_id as email_account_id,
        company_accounts.account_count as company_accounts,
        company_accounts.account_id as company_account_id
    from events
    left join people_by_email
        on events.contact_id is null and people_by_email.email_key = lower(trim(events.email))
    left join int_crm_people as people
        on people.person_id = coalesce(events.contact_id, people_by_email.person_id)
    left join free_mail_domains on free_mail_domains.domain = events.event_email_domain
    left join int_crm_domain_accounts as email_accounts
        on email_accounts.domain = events.event_email_domain and free_mail_domains.domain is null
    left join int_crm_domain_accounts as company_accounts
        on company_accounts.domain = events.event_company_domain
),

methods as (
    select
        *,
        case
            when known_person_id is not null and person_account_id is not null then person_method
            when email_accounts = 1 then 'email_domain'
            when company_accounts = 1 then 'company_domain'
        end as identity_method
    from resolved
),

final as (
    select
        'web_event' as source_object,
        source_file,
        source_row,
        id as source_id,
        reason,
        case
            when identity_method is not null then null
            when contact_id is not null and known_person_id is null then 'unknown_contact'
            when email_accounts > 1 or company_accounts > 1 then 'ambiguous_email_domain'
            when known_person_id is not null then person_unmatched_reason
            when contact_id is null and email is null and event_company_domain is null then 'anonymous'
            when is_free_mail then 'free_mail_domain'
            else 'no_account_match'
        end as unmatched_reason,
        identity_method,
        'web_event:' || id as touchpoint_id,
        occurred_at,
        case identity_method
            when 'email_domain' then email_account_id
            when 'company_domain' then company_account_id
            else person_account_id
        end as account_id,
        coalesce(known_person_id, contact_id) as contact_id,
        event_utm_campaign as campaign,
        coalesce(name_key(event_name), 'page_view') as touch_type,
        event_utm_source as utm_source,
        event_utm_medium as utm_medium,
        event_utm_campaign as utm_campaign,
        event_referrer_domain as referrer_domain,
        null::varchar as campaign_type,
        null::varchar as crm_source,
        null::varchar as channel_label,
        false as is_excluded,
        record
    from methods
)

select * from final
