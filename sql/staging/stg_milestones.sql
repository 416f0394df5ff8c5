-- stg_milestones (checked): one row per raw milestone row: the bookkeeping columns
-- (file_index, source_row, `reason` null when valid, else the first quarantine
-- reason; `is_after_as_of`: after as-of, counted, not staged, not quarantined), then the
-- columns of the staged table stg_milestones: one row per valid funnel milestone of an
-- account (lead_created, mql, sql, ...: lower snake case) and when it happened, UTC.
-- DuckDB-only: macros.sql (parse_instant, reason_or_duplicate).
-- Reads temp table raw_milestones (all text).
-- Parameters: $as_of, $run_started_at (timestamps, UTC), $company_timezone (IANA name).
with raw as (
    select * from raw_milestones
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(contact_id), '') as contact_id,
        name_key(milestone) as milestone,
        nullif(trim(occurred_at), '') as occurred_at_text,
        parse_instant(occurred_at, $company_timezone) as occurred_at
    from raw
),

reasoned as (
    select
        *,
        case
            when account_id is null or milestone is null or occurred_at_text is null
                then 'missing_required'
            when occurred_at is null then 'bad_timestamp'
            when occurred_at > $run_started_at + interval 1 day then 'future_timestamp'
        end as first_reason
    from parsed
),

final as (
    select
        file_index,
        source_row,
        reason_or_duplicate(
            first_reason,
            row_number() over (
                partition by account_id, contact_id, milestone, occurred_at, first_reason is null
                order by file_index, source_row
            )
        ) as reason,
        occurred_at > $as_of as is_after_as_of,
        false as is_excluded,
        account_id,
        contact_id,
        milestone,
        occurred_at
    from reasoned
)

select * from final
