-- int_pipeline_null_paths: one row per pipeline Markov non-converting path (path_id
-- '<account_id>#<chunk>'): its account and the time of its first and last touch. The rows are
-- appended by attribution.journeys.build_null_paths (pipeline_null_paths: each account's
-- null_path touches of int_touch_roles cut greedily into lookback-long chunks, each starting
-- at its first touch, in polars, in account batches); this model gives the table its
-- columns (no rows). The path's touches are the account's null_path touches from its first
-- to its last touch (int_null_path_touches lists them; int_markov_paths holds its channels).
-- No parameters.
select
    cast(null as varchar) as path_id,
    cast(null as varchar) as account_id,
    cast(null as timestamp) as first_touch_at,
    cast(null as timestamp) as last_touch_at
where false
