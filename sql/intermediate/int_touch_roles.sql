-- int_touch_roles (a temp table): one row per staged touch: the role it plays for the pipeline Markov chain.
--   in_pipeline_journey  in some opportunity's pipeline journey (a converting path)
--   in_sales_cycle       inside an opportunity's sales cycle (created_at to its close, or to
--                        as-of while open): the deal exists, so the touch is not a failure
--   censored             in the last lookback before as-of: the account may still convert
--   null_path            none of these: part of a non-converting path
-- Reads int_eligible_touches (the touch rules applied), stg_opportunities, int_journey_touches.
-- Parameters: $as_of (timestamp, UTC), $lookback_days (integer). DuckDB-only: to_days().
with touchpoints as (
    select touchpoint_id, account_id, occurred_at, channel from int_eligible_touches
),

journey_touches as (
    select distinct touchpoint_id from int_journey_touches where journey_kind = 'pipeline'
),

sales_cycles as (
    select account_id, created_at, coalesce(closed_event_at, $as_of) as cycle_end
    from stg_opportunities
),

final as (
    select
        touchpoints.*,
        case
            when touchpoints.touchpoint_id in (select touchpoint_id from journey_touches)
                then 'in_pipeline_journey'
            when exists (
                select 1 from sales_cycles
                where sales_cycles.account_id = touchpoints.account_id
                    and touchpoints.occurred_at between sales_cycles.created_at
                        and sales_cycles.cycle_end
            ) then 'in_sales_cycle'
            when touchpoints.occurred_at > $as_of - to_days(cast($lookback_days as integer))
                then 'censored'
            else 'null_path'
        end as role
    from touchpoints
)

select * from final
