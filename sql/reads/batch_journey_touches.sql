-- batch_journey_touches (model input): one row per touch of the converted journeys of one
-- account batch, in no particular order: the models read `position` and `touch_count`, and the
-- wide credits follow this row order (a sort of every touch row here cost 0.6 s at L). With
-- the fitted fractions of the touch's channel in its journey (int_markov_fractions,
-- int_shapley_fractions; null where a fit has none) and how many touches that channel has
-- there: joined here, in parallel, they cost 0.3 s at 100k opportunities where the two polars
-- joins of the Markov and Shapley models cost 0.8-1.4 s.
-- Each fitted model (ModelSpec.fitted) has its fraction here as `<model>_fraction`, from the
-- `int_<model>_fractions` its fit step writes (a test checks every fitted spec has both).
-- Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch).
with touches as (
    select journey_kind, opportunity_id, touchpoint_id, channel, campaign, touch_type, position,
        touch_count, days_before_event
    from int_journey_touches
    where is_converted and in_batch(account_id, $batch, $batches)
)

select
    touches.*,
    coalesce(markov.channel_touch_count, shapley.channel_touch_count) as channel_touch_count,
    markov.fraction as markov_fraction,
    shapley.fraction as shapley_fraction
from touches
left join int_markov_fractions as markov using (journey_kind, opportunity_id, channel)
left join int_shapley_fractions as shapley using (journey_kind, opportunity_id, channel)
