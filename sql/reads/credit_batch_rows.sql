-- credit_batch_rows (model input): how many touch rows the credit pass reads in all (the
-- converted journeys' touches; the fits read null paths as well: batch_rows.sql), to choose
-- the number of account batches. No parameters.
select count(*) as touch_rows from int_journey_touches where is_converted
