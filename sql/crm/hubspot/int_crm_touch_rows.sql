-- int_crm_touch_rows (HubSpot): one row per form submission, marketing e-mail event and meeting
-- row, and per contact up to two touches of its source properties (Original Source at the
-- contact's create date, Latest Source at its timestamp when that is later): the touch it
-- becomes, with its source object, file, row and id, its account and how it was found, and
-- the fields the channel rules read. `reason`: why the row is quarantined (the object's own
-- check, unknown_contact for a contact id no contacts row has, missing_required when it names
-- nobody); `unmatched_reason`: why a valid row has no account (int_crm_people). E-mail events
-- other than clicks are counted as excluded (is_excluded), not touches. Property touches come
-- from valid contact rows only (a quarantined contact row is in the quarantine once).
-- A submission or event names its contact by id, else by e-mail (the contact with that
-- address). A meeting names its contacts (the first of "Associated Contact IDs") or only a
-- company (identity method `account`).
-- Reads crm_hubspot_formsubmissions, crm_hubspot_emailevents, crm_hubspot_meetings,
-- crm_hubspot_contacts, int_crm_people, int_crm_people_by_email. No parameters.
with people_by_email as (
    select * from int_crm_people_by_email
),

forms as (
    select
        'form_submission' as source_object,
        source_file,
        source_row,
        coalesce(id, coalesce(contact_id, lower(trim(email))) || '@' || trim(occurred_at)) as source_id,
        reason as object_reason,
        contact_id,
        email,
        null::varchar as direct_account_id,
        occurred_at,
        coalesce(url_param(page_url, 'utm_campaign'), nullif(trim(form), '')) as campaign,
        'form_fill' as touch_type,
        url_param(page_url, 'utm_source') as utm_source,
        url_param(page_url, 'utm_medium') as utm_medium,
        url_param(page_url, 'utm_campaign') as utm_campaign,
        null::varchar as crm_source,
        false as is_excluded,
        record
    from crm_hubspot_formsubmissions
),

emails as (
    select
        'email_event' as source_object,
        source_file,
        source_row,
        coalesce(id, coalesce(contact_id, lower(trim(email))) || '@' || trim(occurred_at)) as source_id,
        reason as object_reason,
        contact_id,
        email,
        null::varchar as direct_account_id,
        occurred_at,
        nullif(trim(campaign), '') as campaign,
        'email_click' as touch_type,
        'email' as utm_source,
        'email' as utm_medium,
        nullif(trim(campaign), '') as utm_campaign,
        null::varchar as crm_source,
        coalesce(upper(trim(type)) not in ('CLICK', 'CLICKED', 'EMAIL_CLICK'), true) as is_excluded,
        record
    from crm_hubspot_emailevents
),

meetings as (
    select
        'meeting' as source_object,
        source_file,
        source_row,
        id as source_id,
        reason as object_reason,
        first_id(contact_id) as contact_id,
        null::varchar as email,
        first_id(company_id) as direct_account_id,
        occurred_at,
        nullif(trim(title), '') as campaign,
        'meeting' as touch_type,
        null::varchar as utm_source,
        null::varchar as utm_medium,
        null::varchar as utm_campaign,
        null::varchar as crm_source,
        false as is_excluded,
        record
    from crm_hubspot_meetings
),

source_properties as (
    select
        'contact_original_source' as source_object,
        source_file,
        source_row,
        id || ':original_source' as source_id,
        reason as object_reason,
        id as contact_id,
        null::varchar as email,
        null::varchar as direct_account_id,
        created_at as occurred_at,
        nullif(trim(original_source_detail), '') as campaign,
        'original_source' as touch_type,
        null::varchar as utm_source,
        null::varchar as utm_medium,
        null::varchar as utm_campaign,
        original_source as crm_source,
        false as is_excluded,
        record
    from crm_hubspot_contacts
    where reason is null and nullif(trim(original_source), '') is not null
    union all
    select
        'contact_latest_source',
        source_file,
        source_row,
        id || ':latest_source',
        reason,
        id,
        null,
        null,
        latest_source_at,
        null,
        'latest_source',
        null,
        null,
        null,
        latest_source,
        false,
        record
    from crm_hubspot_contacts
    where reason is null and nullif(trim(latest_source), '') is not null
        and nullif(trim(latest_source_at), '') is not null
        and coalesce(try_cast(latest_source_at as timestamptz) > try_cast(created_at as timestamptz), true)
),

touch_rows as (
    select * from forms
    union all
    select * from emails
    union all
    select * from meetings
    union all
    select * from source_properties
),

resolved as (
    select
        touch_rows.*,
        coalesce(touch_rows.contact_id, people_by_email.person_id) as person_id,
        people.person_id is not null as is_known_person,
        people.account_id as person_account_id,
        people.identity_method as person_method,
        people.unmatched_reason as person_unmatched_reason
    from touch_rows
    left join people_by_email
        on touch_rows.contact_id is null and people_by_email.email_key = lower(trim(touch_rows.email))
    left join int_crm_people as people
        on people.person_id = coalesce(touch_rows.contact_id, people_by_email.person_id)
),

final as (
    select
        source_object,
        source_file,
        source_row,
        source_id,
        coalesce(
            object_reason,
            case
                when contact_id is not null and not is_known_person then 'unknown_contact'
                when person_id is null and direct_account_id is null and email is null then 'missing_required'
            end
        ) as reason,
        case
            when is_excluded then null
            when person_id is not null then person_unmatched_reason
            when direct_account_id is null then 'unknown_email'
        end as unmatched_reason,
        case when person_id is not null then person_method when direct_account_id is not null then 'account' end
            as identity_method,
        source_object || ':' || source_id as touchpoint_id,
        occurred_at,
        case when person_id is not null then person_account_id else direct_account_id end as account_id,
        person_id as contact_id,
        campaign,
        touch_type,
        utm_source,
        utm_medium,
        utm_campaign,
        null::varchar as referrer_domain,
        null::varchar as campaign_type,
        crm_source,
        null::varchar as channel_label,
        is_excluded,
        record
    from resolved
)

select * from final
