-- stg_spend (checked): one row per raw spend row: the bookkeeping columns (file_index,
-- source_row, `reason` null when valid, else the first quarantine reason;
-- `is_after_as_of`: a spend date after as-of's, counted, not staged, not quarantined), then
-- the columns of the staged table stg_spend: one row per valid spend line: its date, channel
-- (lower snake case, as touches), campaign (null: a channel-level line), the amount in its
-- currency and in the reporting currency at the rate of its date, and its period.
-- Reads temp table raw_spend (all text; an absent currency column reads as the fx base
-- currency) and stg_fx_rates.
-- Parameters: $as_of, $run_started_at (timestamps, UTC), $reporting_currency,
-- $fx_base_currency (ISO 4217), $fx_max_age_days (integer), $company_timezone (IANA name),
-- $fiscal_year_start_month (1-12), $max_amount (contracts.MAX_AMOUNT).
-- Dates: YYYY-MM-DD, a month YYYY-MM (its first day: a monthly spend line), or a timestamp
-- (its date in the company time zone). Lines have no id, so repeated lines are two spends.
-- A negative amount (a refund or credit note) is bad_amount: net it in the source.
-- DuckDB-only: ASOF LEFT JOIN, name_key, macros.sql (parse_instant, fiscal_quarter).
with raw as (
    select * from raw_spend
),

fx_rates as (
    select currency, rate_date, rate_to_base from stg_fx_rates
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim("date"), '') as spend_date_text,
        case
            when regexp_full_match(trim("date"), '\d{4}-\d{2}') then try_cast(trim("date") || '-01' as date)
            when is_date_only("date") then try_cast(trim("date") as date)
            else cast(timezone($company_timezone, timezone('UTC', parse_instant("date", $company_timezone))) as date)
        end as spend_date,
        name_key(channel) as channel,
        nullif(trim(campaign), '') as campaign,
        nullif(trim(amount), '') as amount_text,
        try_cast(trim(amount) as double) as amount,
        nullif(upper(trim(currency)), '') as currency
    from raw
),

converted as (
    select
        parsed.*,
        case when parsed.currency = $fx_base_currency then 1.0 else spend_rate.rate_to_base end
            as spend_rate,
        case when parsed.currency = $fx_base_currency then parsed.spend_date else spend_rate.rate_date end
            as spend_rate_date,
        case when $reporting_currency = $fx_base_currency then 1.0 else reporting_rate.rate_to_base end
            as reporting_rate,
        case when $reporting_currency = $fx_base_currency then parsed.spend_date
            else reporting_rate.rate_date end as reporting_rate_date
    from parsed
    asof left join fx_rates as spend_rate
        on parsed.currency = spend_rate.currency
        and parsed.spend_date >= spend_rate.rate_date
    asof left join (select * from fx_rates where currency = $reporting_currency) as reporting_rate
        on parsed.spend_date >= reporting_rate.rate_date
),

reasoned as (
    select
        *,
        case
            when spend_date_text is null or channel is null or amount_text is null or currency is null
                then 'missing_required'
            when spend_date is null then 'bad_timestamp'
            when amount is null or isnan(amount) or isinf(amount) or amount < 0
                or amount > $max_amount then 'bad_amount'
            when spend_date > cast($run_started_at as date) + 1 then 'future_timestamp'
            when spend_date <= cast($as_of as date) and (spend_rate is null or reporting_rate is null)
                then 'unknown_currency'
        end as reason
    from converted
),

final as (
    select
        file_index,
        source_row,
        reason,
        spend_date > cast($as_of as date) as is_after_as_of,
        false as is_excluded,
        spend_date,
        channel,
        campaign,
        amount,
        currency,
        round(amount * spend_rate / reporting_rate, 2) as spend_amount,
        $reporting_currency as reporting_currency,
        cast(date_trunc('month', spend_date) as date) as period_month,
        fiscal_quarter(cast(date_trunc('month', spend_date) as date), $fiscal_year_start_month)
            as fiscal_quarter,
        coalesce(
            date_diff('day', spend_rate_date, spend_date) > $fx_max_age_days
            or date_diff('day', reporting_rate_date, spend_date) > $fx_max_age_days,
            false
        ) as is_fx_stale
    from reasoned
)

select * from final
