-- int_touch_roles (a view): one row per staged touch the touch rules keep: the role it plays
-- for the pipeline Markov chain, as of the run that built the null paths.
--   in_pipeline_journey  in some opportunity's pipeline journey (a converting path)
--   in_sales_cycle       inside an opportunity's sales cycle (created_at to its close, or to
--                        as-of while open): the deal exists, so the touch is not a failure
--   censored             in the last lookback before as-of: the account may still convert
--   null_path            none of these: part of a non-converting path
-- A view, so int_null_path_touches lists the touches of each pipeline null path with this
-- one definition; build_null_paths reads it once into a temp table (_touch_roles).
-- Reads int_eligible_touches (the touch rules applied), stg_opportunities, int_journey_touches,
-- int_null_path_settings (one row: as_of, lookback_days of the build). No parameters.
-- DuckDB-only: to_days(), semi join, rowid (int_eligible_touches.touch_row).
-- The sales-cycle test is a semi join on (account, range), not a correlated EXISTS (that one
-- groups every distinct (account, time) first), over every touch (a touch in a journey is
-- in_pipeline_journey whatever it gives): the touches are read once more rather than kept
-- in a CTE the three roles read (DuckDB materializes a CTE read more than once: 10 million
-- rows copied; 1.7 vs 1.3 s for this model at ten million touches).
with settings as (
    select as_of, as_of - to_days(cast(lookback_days as integer)) as censored_after
    from int_null_path_settings
),

sales_cycles as (
    select opportunities.account_id, opportunities.created_at,
        coalesce(opportunities.closed_event_at, settings.as_of) as cycle_end
    from stg_opportunities as opportunities
    cross join settings
),

in_sales_cycle as (
    select touchpoints.touch_row
    from int_eligible_touches as touchpoints
    semi join sales_cycles
        on sales_cycles.account_id = touchpoints.account_id
        and touchpoints.occurred_at between sales_cycles.created_at and sales_cycles.cycle_end
),

touchpoints as (
    select
        touch_row,
        touchpoint_id,
        account_id,
        occurred_at,
        channel,
        touchpoint_id in (
            select touchpoint_id from int_journey_touches where journey_kind = 'pipeline'
        ) as is_in_journey
    from int_eligible_touches
),

final as (
    select
        touchpoints.touchpoint_id,
        touchpoints.account_id,
        touchpoints.occurred_at,
        touchpoints.channel,
        case
            when touchpoints.is_in_journey then 'in_pipeline_journey'
            when in_sales_cycle.touch_row is not null then 'in_sales_cycle'
            when touchpoints.occurred_at > settings.censored_after then 'censored'
            else 'null_path'
        end as role
    from touchpoints
    left join in_sales_cycle using (touch_row)
    cross join settings
)

select * from final
