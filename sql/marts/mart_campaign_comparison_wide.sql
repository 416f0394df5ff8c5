-- mart_campaign_comparison_wide: one row per (journey_kind, channel, campaign), one column per
-- model holding the attributed amount: the models side by side per campaign. Columns follow
-- the model names. Reads mart_campaign_comparison. No parameters.
-- DuckDB-only: PIVOT syntax (Spark: pivot()).
pivot (
    select journey_kind, channel, campaign, model, attributed_amount from mart_campaign_comparison
)
on model
using sum(attributed_amount)
group by journey_kind, channel, campaign
order by journey_kind, channel, campaign
