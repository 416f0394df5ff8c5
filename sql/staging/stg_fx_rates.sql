-- stg_fx_rates (checked): one row per raw fx-rate row: the bookkeeping columns (file_index,
-- source_row, `reason` null when valid, `is_after_as_of` always false), then the
-- columns of the staged table stg_fx_rates: one row per valid (currency, rate_date).
-- A rate converts one unit of `currency` into the base currency from `rate_date` on; every
-- other currency pair crosses through the base. A `to_currency` column, when present, must
-- name the base on every row.
-- DuckDB-only: macros.sql (reason_or_duplicate), try_cast.
-- Reads temp table raw_fx_rates (all text). Parameters: $fx_base_currency (ISO 4217).
with raw as (
    select * from raw_fx_rates
),

parsed as (
    select
        file_index,
        source_row,
        nullif(upper(trim(currency)), '') as currency,
        nullif(upper(trim(to_currency)), '') as to_currency,
        nullif(trim("date"), '') as rate_date_text,
        try_cast(trim("date") as date) as rate_date,
        nullif(trim(rate_to_reporting), '') as rate_text,
        try_cast(trim(rate_to_reporting) as double) as rate_to_base
    from raw
),

reasoned as (
    select
        *,
        case
            when currency is null or rate_date_text is null or rate_text is null
                then 'missing_required'
            when rate_date is null then 'bad_timestamp'
            when rate_to_base is null or isnan(rate_to_base)
                or isinf(rate_to_base) or rate_to_base <= 0 then 'bad_amount'
            when not regexp_full_match(currency, '[A-Z]{3}') then 'unknown_currency'
            when to_currency is not null and to_currency <> $fx_base_currency
                then 'wrong_base_currency'
        end as first_reason
    from parsed
),

final as (
    select
        file_index,
        source_row,
        reason_or_duplicate(
            first_reason,
            row_number() over (partition by currency, rate_date, first_reason is null order by file_index, source_row)
        ) as reason,
        false as is_after_as_of,
        false as is_excluded,
        currency,
        rate_date,
        rate_to_base
    from reasoned
)

select * from final
