-- mart_channel_comparison_wide: one row per (journey_kind, channel), one column per model
-- holding the attributed amount: the models side by side. Columns follow the model names.
-- Reads mart_channel_comparison. No parameters. DuckDB-only: PIVOT syntax (Spark: pivot()).
pivot (
    select journey_kind, channel, model, attributed_amount from mart_channel_comparison
)
on model
using sum(attributed_amount)
group by journey_kind, channel
order by journey_kind, channel
