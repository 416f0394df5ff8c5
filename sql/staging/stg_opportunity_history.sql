-- stg_opportunity_history (checked): one row per raw opportunity history row: the bookkeeping
-- columns (file_index, source_row, `reason` null when valid, else the first quarantine reason;
-- `is_after_as_of`: changed after as-of, counted, not staged; `is_excluded`: of an opportunity
-- the type filter left out, _excluded_opportunities: counted, not staged), then the columns of the staged
-- table stg_opportunity_history: one row per change of a staged opportunity: when (UTC), the
-- stage label as the CRM wrote it, its key (stage_key), what it means (open, closed_won,
-- closed_lost: the stage map) and its position in the funnel (int_funnel_stages: the setting
-- stage_order, else the column preset's CRM sequence; null for closed lost, which ends a deal
-- without being a step), the amount and currency as given, close date, probability and
-- forecast category.
-- Reasons, in order: missing_required; bad_timestamp (changed_at, or a close date given but
-- unreadable); future_timestamp; unknown_stage (a label neither in the funnel's stages nor in
-- the stage map); bad_amount; unknown_opportunity (no staged opportunity has the id: absent
-- from the export, or quarantined itself); changed_before_created (more than a minute before
-- the opportunity's creation); duplicate_id (the same opportunity, time and stage again).
-- DuckDB-only: macros.sql (parse_instant, stage_key, reason_or_duplicate).
-- Reads temp tables raw_opportunity_history (all text) and stage_map, int_funnel_stages,
-- stg_opportunities and _excluded_opportunities (attribution.ingest). Parameters: $as_of, $run_started_at (timestamps, UTC),
-- $company_timezone (IANA name), $max_amount.
with raw as (
    select * from raw_opportunity_history
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(opportunity_id), '') as opportunity_id,
        nullif(trim(changed_at), '') as changed_at_text,
        parse_instant(changed_at, $company_timezone) as changed_at,
        nullif(trim(stage), '') as stage_label,
        stage_key(stage) as stage_key,
        nullif(trim(amount), '') as amount_text,
        try_cast(trim(amount) as double) as amount,
        upper(nullif(trim(currency), '')) as currency,
        nullif(trim(close_date), '') as close_date_text,
        cast(parse_instant(close_date, $company_timezone) as date) as close_date,
        try_cast(trim(probability) as double) as probability,
        nullif(trim(forecast_category), '') as forecast_category
    from raw
),

staged_opportunities as (
    select opportunity_id, created_at from stg_opportunities
),

resolved as (
    select
        parsed.*,
        coalesce(stage_map.stage, case when funnel.stage_key is not null then 'open' end) as stage_outcome,
        case when coalesce(stage_map.stage, 'open') <> 'closed_lost' then funnel.stage_position end
            as stage_position,
        staged_opportunities.created_at as opportunity_created_at,
        staged_opportunities.opportunity_id is not null as is_known_opportunity,
        excluded_opportunities.opportunity_id is not null as is_excluded_opportunity
    from parsed
    left join stage_map on parsed.stage_key = stage_map.stage_key
    left join int_funnel_stages as funnel on parsed.stage_key = funnel.stage_key
    left join staged_opportunities on parsed.opportunity_id = staged_opportunities.opportunity_id
    left join _excluded_opportunities as excluded_opportunities
        on parsed.opportunity_id = excluded_opportunities.opportunity_id
),

reasoned as (
    select
        *,
        case
            when opportunity_id is null or changed_at_text is null or stage_label is null
                then 'missing_required'
            when changed_at is null or (close_date_text is not null and close_date is null) then 'bad_timestamp'
            when changed_at > $run_started_at + interval 1 day then 'future_timestamp'
            when changed_at > $as_of then null  -- counted after as-of, judged by a later run
            when stage_outcome is null then 'unknown_stage'
            when amount_text is not null and (amount is null or isnan(amount) or isinf(amount)
                or amount < 0 or amount > $max_amount) then 'bad_amount'
            when not is_known_opportunity and not is_excluded_opportunity then 'unknown_opportunity'
            when changed_at < opportunity_created_at - interval 1 minute then 'changed_before_created'
        end as first_reason
    from resolved
),

final as (
    select
        file_index,
        source_row,
        reason_or_duplicate(
            first_reason,
            row_number() over (
                partition by opportunity_id, changed_at, stage_key, first_reason is null
                order by file_index, source_row
            )
        ) as reason,
        first_reason is null and changed_at > $as_of as is_after_as_of,
        first_reason is null and changed_at <= $as_of and is_excluded_opportunity as is_excluded,
        opportunity_id,
        changed_at,
        stage_label,
        stage_key,
        stage_outcome,
        stage_position,
        amount,
        currency,
        close_date,
        probability,
        forecast_category
    from reasoned
)

select * from final
