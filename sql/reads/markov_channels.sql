-- markov_channels (model input): one row per (journey_kind, channel) seen in converting
-- journeys or non-converting paths (int_markov_paths): the channel list every batch counts
-- Markov transitions with. No parameters. DuckDB-only: unnest.
select distinct journey_kind, unnest(path) as channel
from int_markov_paths
