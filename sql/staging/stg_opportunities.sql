-- stg_opportunities (checked): one row per raw opportunity row: the bookkeeping columns
-- (file_index, source_row, `reason` null when valid, else the first quarantine
-- reason; `is_after_as_of`: created after as-of, counted, not staged, not quarantined;
-- `is_excluded`: a type the type filter leaves out of pipeline, counted, not staged), then
-- the columns of the staged table stg_opportunities: one row per valid opportunity as it
-- stood at as-of, stage mapped, amounts converted to the reporting currency.
-- A repeated opportunity_id is marked duplicate_id afterwards, on the checked table
-- (attribution.ingest: only when an id repeats).
-- Reads temp tables raw_opportunities (all text; an absent currency column reads as the fx
-- base currency), stage_map (stage_key, stage) and deal_motion_map (type_key, motion), and
-- stg_fx_rates. Ids: $source_format salesforce_objects reads Salesforce record ids as 18
-- characters (sfdc_id), hubspot_objects the first of "Associated Company IDs".
-- Deal motion (new_business, expansion, renewal): from the type; a deal without a known type
-- is expansion when its account had won a deal closed before it was created.
-- Parameters: $as_of, $run_started_at (timestamps, UTC), $reporting_currency,
-- $fx_base_currency (ISO 4217), $fx_max_age_days (integer), $company_timezone (IANA name),
-- $max_amount (contracts.MAX_AMOUNT: larger amounts are typos or overflows),
-- $included_opportunity_types, $excluded_opportunity_types (lists of name_key types; an
-- empty include list keeps every type).
-- Segments: the raw `segments` map (dimension -> text, the columns of setting
-- segment_columns) is kept as it was read; int_opportunity_segments unpacks it.
-- Stage: is_closed / is_won columns win over the label; a label no map knows is open.
-- Point in time: a deal closed after as-of is open at it. An open deal's closed_at is its
-- expected close date (expected_close_at), never validated.
-- DuckDB-only: ASOF LEFT JOIN (Spark: a window over the rates), macros.sql, try_cast.
-- Date-only created_at / closed_at cover their whole day (event_at = the day's last instant).
-- Conversion: amount x rate(currency -> base) / rate(reporting -> base), each the latest rate
-- on or before the event's date (created_at for pipeline, closed_at for revenue).
with raw as (
    select * from raw_opportunities
),

fx_rates as (
    select currency, rate_date, rate_to_base from stg_fx_rates
),

parsed as (
    select
        file_index,
        source_row,
        case $source_format
            when 'salesforce_objects' then sfdc_id(opportunity_id)
            else nullif(trim(opportunity_id), '')
        end as opportunity_id,
        case $source_format
            when 'salesforce_objects' then sfdc_id(account_id)
            when 'hubspot_objects' then first_id(account_id)
            else nullif(trim(account_id), '')
        end as account_id,
        nullif(trim(created_at), '') as created_at_text,
        parse_instant(created_at, $company_timezone) as created_at,
        is_date_only(created_at) as is_created_date_only,
        nullif(trim(closed_at), '') as closed_at_text,
        parse_instant(closed_at, $company_timezone) as closed_at,
        is_date_only(closed_at) as is_closed_date_only,
        nullif(trim(stage), '') as stage_label,
        nullif(trim(is_closed), '') as is_closed_text,
        parse_flag(is_closed) as is_closed_flag,
        nullif(trim(is_won), '') as is_won_text,
        parse_flag(is_won) as is_won_flag,
        nullif(trim(amount), '') as amount_text,
        try_cast(trim(amount) as double) as amount,
        nullif(upper(trim(currency)), '') as currency,
        name_key(lead_source) as lead_source,
        name_key(opportunity_type) as opportunity_type,
        nullif(trim(self_reported_source), '') as self_reported_source,
        segments
    from raw
),

-- with an opportunity history, each deal's amount and stage as they stood at as-of (its latest
-- staged change: opportunity_at_as_of, empty without history); a close the history holds but
-- the export dates after as-of (or not at all) is the history's moment; its qualification
-- moment (opportunity_at_as_of.qualified_at: the setting qualified_stage's position or later)
history_values as (
    select
        parsed.* exclude (amount, closed_at, is_closed_date_only),
        coalesce(history.amount, parsed.amount) as amount,
        case
            when history.stage_outcome in ('closed_won', 'closed_lost')
                and (parsed.closed_at is null or parsed.closed_at > $as_of)
                then history.changed_at
            else parsed.closed_at
        end as closed_at,
        case
            when history.stage_outcome in ('closed_won', 'closed_lost')
                and (parsed.closed_at is null or parsed.closed_at > $as_of)
                then false
            else parsed.is_closed_date_only
        end as is_closed_date_only,
        history.stage_outcome as history_stage,
        history.qualified_at as history_qualified_at,
        history.opportunity_id is not null as has_history
    from parsed
    left join opportunity_at_as_of as history using (opportunity_id)
),

staged as (
    select
        history_values.*,
        case
            when history_stage is not null then history_stage
            when is_closed_flag = false then 'open'
            when is_closed_flag or is_won_flag then
                case
                    when is_won_flag is not null
                        then (case when is_won_flag then 'closed_won' else 'closed_lost' end)
                    when stage_map.stage = 'closed_won' then 'closed_won'
                    else 'closed_lost'
                end
            when stage_label is null then null
            else coalesce(stage_map.stage, 'open')
        end as crm_stage,
        -- the last instant a date-only value covers
        case when is_created_date_only then created_at + interval 1 day - interval 1 microsecond
            else created_at end as created_event_at,
        case when is_closed_date_only then closed_at + interval 1 day - interval 1 microsecond
            else closed_at end as closed_event_at,
        case when is_created_date_only then try_cast(created_at_text as date)
            else cast(created_at as date) end as created_on,
        case when is_closed_date_only then try_cast(closed_at_text as date)
            else cast(closed_at as date) end as closed_on
    from history_values
    left join stage_map on stage_map.stage_key = stage_key(history_values.stage_label)
),

converted as (
    select
        staged.*,
        case when staged.currency = $fx_base_currency then 1.0
            else created_rate.rate_to_base end as created_rate,
        case when staged.currency = $fx_base_currency then staged.created_on
            else created_rate.rate_date end as created_rate_date,
        case when $reporting_currency = $fx_base_currency then 1.0
            else created_reporting.rate_to_base end as created_reporting_rate,
        case when $reporting_currency = $fx_base_currency then staged.created_on
            else created_reporting.rate_date end as created_reporting_rate_date,
        case when staged.currency = $fx_base_currency then 1.0
            else closed_rate.rate_to_base end as closed_rate,
        case when staged.currency = $fx_base_currency then staged.closed_on
            else closed_rate.rate_date end as closed_rate_date,
        case when $reporting_currency = $fx_base_currency then 1.0
            else closed_reporting.rate_to_base end as closed_reporting_rate,
        case when $reporting_currency = $fx_base_currency then staged.closed_on
            else closed_reporting.rate_date end as closed_reporting_rate_date
    from staged
    asof left join fx_rates as created_rate
        on staged.currency = created_rate.currency
        and staged.created_on >= created_rate.rate_date
    asof left join fx_rates as closed_rate
        on staged.currency = closed_rate.currency
        and staged.closed_on >= closed_rate.rate_date
    asof left join (select * from fx_rates where currency = $reporting_currency) as created_reporting
        on staged.created_on >= created_reporting.rate_date
    asof left join (select * from fx_rates where currency = $reporting_currency) as closed_reporting
        on staged.closed_on >= closed_reporting.rate_date
),

at_as_of as (
    select
        *,
        crm_stage <> 'open' and closed_at is not null and closed_at > $as_of
            as is_closed_after_as_of,
        case
            when crm_stage <> 'open' and closed_at is not null and closed_at > $as_of then 'open'
            else crm_stage
        end as stage
    from converted
),

reasoned as (
    select
        *,
        case
            when opportunity_id is null or account_id is null or created_at_text is null
                or (stage_label is null and is_closed_flag is null and is_won_flag is null)
                or amount_text is null or currency is null then 'missing_required'
            when created_at is null
                or (crm_stage <> 'open' and closed_at_text is not null and closed_at is null)
                then 'bad_timestamp'
            when (is_closed_text is not null and is_closed_flag is null)
                or (is_won_text is not null and is_won_flag is null) then 'bad_stage'
            when amount is null or isnan(amount) or isinf(amount) or amount < 0
                or amount > $max_amount then 'bad_amount'
            when crm_stage <> 'open' and closed_at is null then 'missing_closed_at'
            when created_at > $run_started_at + interval 1 day
                or (crm_stage <> 'open' and closed_at > $run_started_at + interval 1 day)
                then 'future_timestamp'
            when crm_stage <> 'open' and closed_event_at < created_at then 'closed_before_created'
            when created_at <= $as_of and (
                created_rate is null or created_reporting_rate is null
                or (stage <> 'open' and (closed_rate is null or closed_reporting_rate is null))
            ) then 'unknown_currency'
        end as first_reason,
        created_at > $as_of as is_after_as_of,
        (len($included_opportunity_types::varchar[]) > 0
            and not coalesce(list_contains($included_opportunity_types::varchar[], opportunity_type), false))
            or coalesce(list_contains($excluded_opportunity_types::varchar[], opportunity_type), false)
            as is_excluded
    from at_as_of
),

-- the deal motion: the type's motion (deal_motion_map), else expansion when the account had
-- won a deal (at as-of) closed before this one was created, else new business
motions as (
    select
        reasoned.*,
        min(case when first_reason is null and not is_after_as_of and stage = 'closed_won' then closed_event_at end)
            over (partition by account_id) as account_first_won_at,
        deal_motion_map.motion as mapped_motion
    from reasoned
    left join deal_motion_map on deal_motion_map.type_key = reasoned.opportunity_type
),

final as (
    select
        file_index,
        source_row,
        first_reason as reason,
        is_after_as_of,
        is_excluded,
        opportunity_id,
        account_id,
        created_at,
        case when stage = 'open' then null else closed_at end as closed_at,
        case when crm_stage = 'open' then closed_at end as expected_close_at,
        stage,
        stage_label,
        lead_source,
        opportunity_type,
        coalesce(
            mapped_motion,
            case when account_first_won_at < created_at then 'expansion' else 'new_business' end
        ) as deal_motion,
        mapped_motion is not null as is_deal_motion_from_type,
        account_first_won_at,
        self_reported_source,
        segments,
        is_created_date_only,
        stage <> 'open' and is_closed_date_only as is_closed_date_only,
        created_event_at,
        case when stage = 'open' then null else closed_event_at end as closed_event_at,
        is_closed_after_as_of,
        amount,
        currency,
        round(amount * created_rate / created_reporting_rate, 2) as pipeline_amount,
        case when stage = 'open' then null
            else round(amount * closed_rate / closed_reporting_rate, 2) end as revenue_amount,
        $reporting_currency as reporting_currency,
        coalesce(
            date_diff('day', created_rate_date, created_on) > $fx_max_age_days
            or date_diff('day', created_reporting_rate_date, created_on) > $fx_max_age_days
            or (stage <> 'open' and (
                date_diff('day', closed_rate_date, closed_on) > $fx_max_age_days
                or date_diff('day', closed_reporting_rate_date, closed_on) > $fx_max_age_days)),
            false
        ) as is_fx_stale,
        -- when the deal first reached the qualification stage or a later one by as-of (its
        -- history); with a history input, a won deal without history rows at its close; else null
        case
            when history_qualified_at is not null then history_qualified_at
            when stage = 'closed_won' and not has_history
                and (select count(*) > 0 from opportunity_at_as_of) then closed_event_at
        end as qualified_at
    from motions
)

select * from final
