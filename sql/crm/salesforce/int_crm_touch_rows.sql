-- int_crm_touch_rows (Salesforce): one row per row of CampaignMember (and, with
-- $include_sales_activities, of Task and Event): the touch it becomes, with its source object,
-- file, row and record id, its account and how it was found, and the fields the channel rules
-- read. `reason`: why the row is quarantined (the object's own check first, then
-- unknown_campaign, unknown_contact, unknown_lead, missing_required when it names nobody);
-- `unmatched_reason`: why a valid row has no account (int_crm_people).
-- A member's touch is when it first responded (FirstRespondedDate), else when it was added to
-- the campaign (CreatedDate); an activity's is its date (ActivityDate / StartDateTime), else
-- its CreatedDate. A task or event names a contact or lead (WhoId: key prefix 003 / 00Q) or
-- only an account (AccountId: identity method `account`).
-- Reads crm_salesforce_campaignmember, crm_salesforce_campaign, crm_salesforce_task,
-- crm_salesforce_event, int_crm_people. Parameters: $include_sales_activities (boolean).
with campaigns as (
    select * from crm_salesforce_campaign where reason is null
),

members as (
    select
        'campaign_member' as source_object,
        members.source_file,
        members.source_row,
        members.id as source_id,
        members.reason as object_reason,
        coalesce(members.contact_id, members.lead_id) as person_id,
        case when members.contact_id is not null then 'contact' when members.lead_id is not null then 'lead' end
            as person_kind,
        null::varchar as direct_account_id,
        coalesce(nullif(trim(members.first_responded_at), ''), members.created_at) as occurred_at,
        campaigns.id is null as is_unknown_campaign,
        coalesce(campaigns.name, members.campaign_id) as campaign,
        name_key(members.status) as touch_type,
        campaigns.type as campaign_type,
        campaigns.channel_label,
        campaigns.utm_source,
        campaigns.utm_medium,
        members.record
    from crm_salesforce_campaignmember as members
    left join campaigns on campaigns.id = members.campaign_id
),

-- the columns named (not union by name: the same SQL runs on Spark)
activities as (
    select 'task' as object_name, source_file, source_row, id, reason, who_id, account_id, occurred_at,
        created_at, type, record
    from crm_salesforce_task
    union all
    select 'event' as object_name, source_file, source_row, id, reason, who_id, account_id, occurred_at,
        created_at, type, record
    from crm_salesforce_event
),

activity_rows as (
    select
        object_name as source_object,
        source_file,
        source_row,
        id as source_id,
        reason as object_reason,
        who_id as person_id,
        case left(who_id, 3) when '003' then 'contact' when '00Q' then 'lead' end as person_kind,
        account_id as direct_account_id,
        coalesce(nullif(trim(occurred_at), ''), created_at) as occurred_at,
        false as is_unknown_campaign,
        null::varchar as campaign,
        coalesce(name_key(type), object_name) as touch_type,
        null::varchar as campaign_type,
        null::varchar as channel_label,
        null::varchar as utm_source,
        null::varchar as utm_medium,
        record
    from activities
    where $include_sales_activities
),

touch_rows as (
    select * from members
    union all
    select * from activity_rows
),

resolved as (
    select
        touch_rows.*,
        people.person_id is not null as is_known_person,
        people.contact_id as person_contact_id,
        people.account_id as person_account_id,
        people.identity_method as person_method,
        people.unmatched_reason as person_unmatched_reason
    from touch_rows
    left join int_crm_people as people
        on people.person_id = touch_rows.person_id and people.person_kind = touch_rows.person_kind
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
                when is_unknown_campaign then 'unknown_campaign'
                when person_kind is not null and not is_known_person then 'unknown_' || person_kind
                when person_kind is null and direct_account_id is null then 'missing_required'
            end
        ) as reason,
        case when person_kind is not null then person_unmatched_reason end as unmatched_reason,
        case when person_kind is not null then person_method else 'account' end as identity_method,
        source_id as touchpoint_id,
        occurred_at,
        case when person_kind is not null then person_account_id else direct_account_id end as account_id,
        coalesce(person_contact_id, person_id) as contact_id,
        campaign,
        touch_type,
        utm_source,
        utm_medium,
        null::varchar as utm_campaign,
        null::varchar as referrer_domain,
        campaign_type,
        null::varchar as crm_source,
        channel_label,
        false as is_excluded,
        record
    from resolved
)

select * from final
