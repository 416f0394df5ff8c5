-- stg_touchpoints (checked): one row per raw touchpoint row: the bookkeeping columns
-- (file_index, source_row, `reason` null when the row is valid, else the first
-- quarantine reason; `is_after_as_of`: after as-of, counted, not staged, not quarantined),
-- then the columns of the staged table stg_touchpoints: one row per valid touch up to as-of.
-- A repeated touchpoint_id is marked duplicate_id afterwards, on the checked table
-- (attribution.ingest: only when an id repeats).
-- DuckDB-only: macros.sql (parse_instant).
-- Reads temp table raw_touchpoints (all text).
-- Parameters: $as_of, $run_started_at (timestamps, UTC), $company_timezone (IANA name).
-- Timestamps: ISO-8601; no offset means UTC; offsets are normalized to UTC; a date-only
-- value is the start of its day in the company time zone.
with raw as (
    select * from raw_touchpoints
),

-- each distinct channel label keyed once: a regular expression per label, not per row (a
-- third of the validation at ten million touches); read from the table, not from `raw`: a
-- CTE read twice is materialized
channel_keys as (
    select channel as channel_label, name_key(channel) as channel_key
    from (select distinct channel from raw_touchpoints) as labels
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(touchpoint_id), '') as touchpoint_id,
        nullif(trim(occurred_at), '') as occurred_at_text,
        parse_instant(occurred_at, $company_timezone) as occurred_at,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(contact_id), '') as contact_id,
        channel_keys.channel_key as channel,
        nullif(trim(campaign), '') as campaign,
        nullif(lower(trim(touch_type)), '') as touch_type
    from raw
    left join channel_keys on raw.channel = channel_keys.channel_label
),

reasoned as (
    select
        *,
        case
            when touchpoint_id is null or occurred_at_text is null or account_id is null
                or channel is null then 'missing_required'
            when occurred_at is null then 'bad_timestamp'
            when occurred_at > $run_started_at + interval 1 day then 'future_timestamp'
        end as first_reason
    from parsed
),

final as (
    select
        file_index,
        source_row,
        first_reason as reason,
        occurred_at > $as_of as is_after_as_of,
        false as is_excluded,
        touchpoint_id,
        occurred_at,
        account_id,
        contact_id,
        channel,
        campaign,
        touch_type
    from reasoned
)

select * from final
