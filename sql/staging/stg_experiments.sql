-- stg_experiments (checked): one row per raw experiment row: the bookkeeping columns
-- (file_index, source_row, `reason` null when valid, else the first quarantine reason;
-- `is_after_as_of` and `is_excluded` always false: an experiment that starts after as-of is
-- staged, its results say so), then the columns of the staged table stg_experiments: one row
-- per pre-registered holdout experiment: its id and name, the tested channel (lower snake
-- case, as touches) and/or campaign, the unit (account, or geo with the opportunities'
-- segment column that holds it), the test window [start_at, end_at] and the follow-up days
-- after it in which outcomes still count, the primary metric, alpha (the interval is
-- 1 - alpha), the intended control share (for the sample-ratio check) and the decision
-- threshold (scale when the lift per treated unit's lower bound exceeds it, stop when the
-- upper bound is below it).
-- Reasons, in order: missing_required; bad_timestamp (start or end unreadable); bad_window
-- (end before start, or negative follow-up days); bad_experiment (unit not account or geo, a
-- geo without its column, alpha or control share outside (0, 1), a threshold or follow-up
-- that is no number, no channel and no campaign); duplicate_id (the experiment again).
-- DuckDB-only: macros.sql (parse_instant, name_key, reason_or_duplicate).
-- Reads temp table raw_experiments (all text).
-- Parameters: $company_timezone (IANA name).
with raw as (
    select * from raw_experiments
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(experiment_id), '') as experiment_id,
        nullif(trim(name), '') as name,
        name_key(channel) as channel,
        nullif(trim(campaign), '') as campaign,
        coalesce(lower(nullif(trim(unit), '')), 'account') as unit,
        nullif(trim(geo_column), '') as geo_column,
        nullif(trim(start_at), '') as start_at_text,
        parse_instant(start_at, $company_timezone) as start_at,
        nullif(trim(end_at), '') as end_at_text,
        -- a date-only end covers its whole day
        case when is_date_only(end_at)
            then parse_instant(end_at, $company_timezone) + interval 1 day - interval 1 microsecond
            else parse_instant(end_at, $company_timezone) end as end_at,
        nullif(trim(follow_up_days), '') as follow_up_text,
        coalesce(try_cast(trim(follow_up_days) as integer), 0) as follow_up_days,
        coalesce(name_key(primary_metric), 'pipeline') as primary_metric,
        nullif(trim(alpha), '') as alpha_text,
        coalesce(try_cast(trim(alpha) as double), 0.1) as alpha,
        nullif(trim(control_share), '') as control_share_text,
        try_cast(trim(control_share) as double) as control_share,
        nullif(trim(decision_threshold), '') as threshold_text,
        coalesce(try_cast(trim(decision_threshold) as double), 0.0) as decision_threshold
    from raw
),

reasoned as (
    select
        *,
        case
            when experiment_id is null or start_at_text is null or end_at_text is null then 'missing_required'
            when start_at is null or end_at is null then 'bad_timestamp'
            when end_at < start_at or follow_up_days < 0 then 'bad_window'
            when unit not in ('account', 'geo') or (unit = 'geo' and geo_column is null)
                or (alpha_text is not null and (try_cast(alpha_text as double) is null or alpha <= 0 or alpha >= 1))
                or (control_share_text is not null
                    and (control_share is null or control_share <= 0 or control_share >= 1))
                or (threshold_text is not null and try_cast(threshold_text as double) is null)
                or (follow_up_text is not null and try_cast(follow_up_text as integer) is null)
                or (channel is null and campaign is null) then 'bad_experiment'
        end as first_reason
    from parsed
),

final as (
    select
        file_index,
        source_row,
        reason_or_duplicate(
            first_reason,
            row_number() over (partition by experiment_id, first_reason is null order by file_index, source_row)
        ) as reason,
        false as is_after_as_of,
        false as is_excluded,
        experiment_id,
        name,
        channel,
        campaign,
        unit,
        geo_column,
        start_at,
        end_at,
        follow_up_days,
        primary_metric,
        alpha,
        control_share,
        decision_threshold
    from reasoned
)

select * from final
