-- stg_contact_roles (checked): one row per raw contact-role row: the bookkeeping columns
-- (file_index, source_row, `reason` null when valid, else the first quarantine reason), then
-- the columns of the staged table stg_contact_roles: one row per (opportunity, contact) with a
-- role on it: the role as given and whether it is the primary contact (a repeated pair is a
-- duplicate_id; primary when any of its rows says so is not guessed: the first row counts).
-- Roles have no time: none is after as-of.
-- DuckDB-only: macros.sql (parse_flag, reason_or_duplicate).
-- Reads temp table raw_contact_roles (all text). No parameters.
with raw as (
    select * from raw_contact_roles
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(opportunity_id), '') as opportunity_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(role), '') as role,
        coalesce(parse_flag(is_primary), false) as is_primary
    from raw
),

reasoned as (
    select
        *,
        case when opportunity_id is null or contact_id is null then 'missing_required' end as first_reason
    from parsed
),

final as (
    select
        file_index,
        source_row,
        reason_or_duplicate(
            first_reason,
            row_number() over (
                partition by opportunity_id, contact_id, first_reason is null order by file_index, source_row
            )
        ) as reason,
        false as is_after_as_of,
        false as is_excluded,
        opportunity_id,
        contact_id,
        role,
        is_primary
    from reasoned
)

select * from final
