-- markov_channels (model input): one row per (journey_kind, channel) seen in converting
-- journeys or non-converting paths: the channel list every batch counts Markov transitions
-- with. No parameters.
select distinct journey_kind, channel from int_journey_touches where is_converted
union
select distinct journey_kind, channel from int_null_path_touches
