-- stg_opportunities (checked): one row per raw opportunity row, parsed and converted to the
-- reporting currency, with `reason` null when valid, else the first quarantine reason.
-- Reads temp table raw_opportunities (all text) and stg_fx_rates.
-- Parameters: $as_of (timestamp, UTC), $reporting_currency (ISO 4217).
-- Conversion: the latest rate on or before the event's date (created_at for pipeline,
-- closed_at for revenue); the reporting currency converts at 1.
with raw as (
    select * from raw_opportunities
),

fx_rates as (
    select currency, rate_date, rate_to_reporting from stg_fx_rates
),

parsed as (
    select
        file_index,
        source_file,
        source_row,
        nullif(trim(opportunity_id), '') as opportunity_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(created_at), '') as created_at_text,
        try_cast(trim(created_at) as timestamptz) at time zone 'UTC' as created_at,
        nullif(trim(closed_at), '') as closed_at_text,
        try_cast(trim(closed_at) as timestamptz) at time zone 'UTC' as closed_at,
        nullif(lower(trim(stage)), '') as stage,
        nullif(trim(amount), '') as amount_text,
        try_cast(trim(amount) as double) as amount,
        coalesce(nullif(upper(trim(currency)), ''), $reporting_currency) as currency
    from raw
),

converted as (
    select
        parsed.*,
        case
            when parsed.currency = $reporting_currency then 1.0
            else created_rate.rate_to_reporting
        end as created_rate,
        case
            when parsed.currency = $reporting_currency then 1.0
            else closed_rate.rate_to_reporting
        end as closed_rate
    from parsed
    asof left join fx_rates as created_rate
        on parsed.currency = created_rate.currency
        and cast(parsed.created_at as date) >= created_rate.rate_date
    asof left join fx_rates as closed_rate
        on parsed.currency = closed_rate.currency
        and cast(parsed.closed_at as date) >= closed_rate.rate_date
),

reasoned as (
    select
        *,
        case
            when opportunity_id is null or account_id is null or created_at_text is null
                or stage is null or amount_text is null then 'missing_required'
            when created_at is null or (closed_at_text is not null and closed_at is null)
                then 'bad_timestamp'
            when stage not in ('open', 'closed_won', 'closed_lost') then 'bad_stage'
            when amount is null or isnan(amount) or isinf(amount) or amount < 0
                or amount > 1e12 then 'bad_amount'
            when stage <> 'open' and closed_at is null then 'missing_closed_at'
            when closed_at < created_at then 'closed_before_created'
            when created_at > $as_of or closed_at > $as_of then 'future_timestamp'
            when created_rate is null or (stage <> 'open' and closed_rate is null)
                then 'unknown_currency'
        end as first_reason
    from converted
),

final as (
    select
        file_index,
        source_file,
        source_row,
        opportunity_id,
        account_id,
        created_at,
        case when stage = 'open' then null else closed_at end as closed_at,
        stage,
        amount,
        currency,
        round(amount * created_rate, 2) as pipeline_amount,
        case when stage = 'open' then null else round(amount * closed_rate, 2) end
            as revenue_amount,
        $reporting_currency as reporting_currency,
        coalesce(
            first_reason,
            case
                when row_number() over (
                    partition by opportunity_id, first_reason is null order by file_index, source_row
                ) > 1 then 'duplicate_id'
            end
        ) as reason,
        cast(null as timestamp) as partition_at
    from reasoned
)

select * from final
