-- batch_rows (model input): how many touch rows the fits read in all (the converting journeys'
-- and the non-converting paths' touches: int_markov_paths, one row per path with its touch
-- count), to choose the number of account batches. No parameters.
select coalesce(sum(touch_count), 0) as touch_rows from int_markov_paths
