-- batch_calibration_credits (calibration input): one row per wide credit row (a journey's
-- touch, or its `(none)` row) of the converted journeys of one account batch, whole journeys
-- together: the calibrated models scale and renormalize within a journey. With the journey's
-- account (the batch key another engine groups by; the calibration drops it).
-- Parameters: $batch, $batches. DuckDB-only: hash() (macros.sql in_batch).
select credits.*, journeys.account_id
from int_attribution_credits as credits
inner join int_journeys as journeys using (journey_kind, opportunity_id)
where in_batch(journeys.account_id, $batch, $batches)
