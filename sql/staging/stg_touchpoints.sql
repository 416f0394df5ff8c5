-- stg_touchpoints (checked): one row per raw touchpoint row, parsed, with `reason` null when
-- the row is valid and otherwise the first quarantine reason that applies.
-- Reads temp table raw_touchpoints (all text) and the already staged stg_touchpoints.
-- Parameters: $as_of (timestamp, UTC); $window_start, $window_end: the [start, end) slice
-- being (re)loaded: an id staged earlier for a time outside it makes this row a duplicate.
-- Timestamps: ISO-8601; no offset means UTC; offsets are normalized to UTC.
with raw as (
    select * from raw_touchpoints
),

parsed as (
    select
        file_index,
        source_file,
        source_row,
        nullif(trim(touchpoint_id), '') as touchpoint_id,
        nullif(trim(occurred_at), '') as occurred_at_text,
        try_cast(trim(occurred_at) as timestamptz) at time zone 'UTC' as occurred_at,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(both '_' from regexp_replace(lower(trim(channel)), '[^a-z0-9]+', '_', 'g')), '')
            as channel,
        nullif(trim(campaign), '') as campaign,
        nullif(lower(trim(touch_type)), '') as touch_type
    from raw
),

already_staged as (
    select distinct touchpoint_id from stg_touchpoints
    where occurred_at < $window_start or occurred_at >= $window_end
),

reasoned as (
    select
        parsed.*,
        case
            when touchpoint_id is null or occurred_at_text is null or account_id is null
                or channel is null then 'missing_required'
            when occurred_at is null then 'bad_timestamp'
            when occurred_at > $as_of then 'future_timestamp'
        end as first_reason,
        already_staged.touchpoint_id is not null as is_staged_elsewhere
    from parsed
    left join already_staged using (touchpoint_id)
),

final as (
    select
        *,
        occurred_at as partition_at,
        coalesce(
            first_reason,
            case
                when is_staged_elsewhere then 'duplicate_id'
                when row_number() over (
                    partition by touchpoint_id, first_reason is null order by file_index, source_row
                ) > 1 then 'duplicate_id'
            end
        ) as reason
    from reasoned
)

select * from final
