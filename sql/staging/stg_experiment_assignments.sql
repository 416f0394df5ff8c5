-- stg_experiment_assignments (checked): one row per raw assignment row: the bookkeeping
-- columns (file_index, source_row, `reason` null when valid, else the first quarantine
-- reason; `is_after_as_of`, `is_excluded` always false), then the columns of the staged table
-- stg_experiment_assignments: one row per (experiment, unit): its arm (treatment or control)
-- and stratum (null without one). attribution-assign writes this file.
-- Reasons, in order: missing_required; bad_arm (neither treatment nor control);
-- unknown_experiment (no staged experiment has the id); unknown_unit (an account unit that no
-- staged touch, opportunity or milestone names); duplicate_id (the unit again in the
-- experiment: the first row counts).
-- DuckDB-only: macros.sql (reason_or_duplicate).
-- Reads temp table raw_experiment_assignments (all text), stg_experiments, stg_touchpoints,
-- stg_opportunities, stg_milestones. No parameters.
with raw as (
    select * from raw_experiment_assignments
),

parsed as (
    select
        file_index,
        source_row,
        nullif(trim(experiment_id), '') as experiment_id,
        nullif(trim(unit_id), '') as unit_id,
        lower(nullif(trim(arm), '')) as arm,
        nullif(trim(stratum), '') as stratum
    from raw
),

known_accounts as (
    select account_id from stg_touchpoints
    union
    select account_id from stg_opportunities
    union
    select account_id from stg_milestones
),

resolved as (
    select
        parsed.*,
        experiments.unit as experiment_unit,
        experiments.experiment_id is not null as is_known_experiment,
        known_accounts.account_id is not null as is_known_account
    from parsed
    left join stg_experiments as experiments using (experiment_id)
    left join known_accounts on known_accounts.account_id = parsed.unit_id
),

reasoned as (
    select
        *,
        case
            when experiment_id is null or unit_id is null or arm is null then 'missing_required'
            when arm not in ('treatment', 'control') then 'bad_arm'
            when not is_known_experiment then 'unknown_experiment'
            when experiment_unit = 'account' and not is_known_account then 'unknown_unit'
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
                partition by experiment_id, unit_id, first_reason is null order by file_index, source_row
            )
        ) as reason,
        false as is_after_as_of,
        false as is_excluded,
        experiment_id,
        unit_id,
        arm,
        stratum
    from reasoned
)

select * from final
