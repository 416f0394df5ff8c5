-- batch_rows (model input): how many touch rows the models read in all (converted journeys
-- and non-converting paths), to choose the number of account batches. No parameters.
select (select count(*) from int_journey_touches where is_converted)
     + (select count(*) from int_null_path_touches) as touch_rows
