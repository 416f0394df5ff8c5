-- int_markov_paths: one row per path the Markov chain and the Shapley model are fitted on:
-- every converting journey with touches (path_id = its opportunity_id, is_converted, its
-- journey amount as conversion_value) and every non-converting path (path_id as in
-- int_null_path_touches, conversion_value 0), with its account, touch count and channels in
-- journey order. The fits, the order selection and the confidence intervals read paths from
-- here instead of aggregating the touch tables each. This model holds the converting paths
-- and the revenue and qualified null paths; the pipeline null paths are appended by
-- attribution.journeys.build_null_paths as it cuts them (one row per chunk).
-- Reads int_journey_touches, int_journeys. No parameters.
-- DuckDB-only: list(... order by ...).
-- (the converting paths are aggregated first and joined to their journeys after: one row per
-- journey joined, not one per touch)
with converting_paths as (
    select
        journey_kind,
        opportunity_id,
        any_value(account_id) as account_id,
        count(*) as touch_count,
        list(channel order by position) as path
    from int_journey_touches
    where is_converted
    group by journey_kind, opportunity_id
),

converting as (
    select
        paths.journey_kind,
        paths.opportunity_id as path_id,
        paths.account_id,
        true as is_converted,
        coalesce(journeys.journey_amount, 0.0) as conversion_value,
        paths.touch_count,
        paths.path
    from converting_paths as paths
    inner join int_journeys as journeys using (journey_kind, opportunity_id)
),

-- the revenue and qualified null paths: the revenue journeys of closed_lost opportunities and
-- the qualified journeys of the ones lost without qualifying (what int_null_path_touches shows
-- for them), read where they are
non_converting as (
    select
        journey_kind,
        opportunity_id as path_id,
        any_value(account_id) as account_id,
        false as is_converted,
        0.0 as conversion_value,
        count(*) as touch_count,
        list(channel order by position) as path
    from int_journey_touches
    where journey_kind <> 'pipeline' and not is_converted
    group by journey_kind, opportunity_id
)

select * from converting
union all
select * from non_converting
