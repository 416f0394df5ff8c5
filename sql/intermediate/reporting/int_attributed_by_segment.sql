-- int_attributed_by_segment: one row per (journey_kind, dimension, segment_value, period_month,
-- fiscal_quarter, channel, model): the amount the model attributes to the channel there, in
-- exact pico-units (attributed_picos), and how many opportunities gave the channel a non-zero
-- credit. The dimension '(all)' (value '(all)') holds every opportunity once; every other
-- dimension is a segment column (int_opportunity_segments), which also partitions them. The
-- one place where the models' columns become rows: the channel, month, quarter and segment
-- marts sum it at their grain (an opportunity is one row per channel and month, so the
-- credited counts add up). Reads int_credits_by_channel, int_opportunity_segments.
-- No parameters. Money summed exactly (macros.sql).
with cuts as (
    select '(all)' as dimension, '(all)' as segment_value, credits.*
    from int_credits_by_channel as credits
    union all  -- the same columns in the same order
    select segments.dimension, segments.segment_value, credits.*
    from int_credits_by_channel as credits
    -- on, not using: Spark puts a using key first in credits.*, and the union is positional
    inner join int_opportunity_segments as segments on credits.opportunity_id = segments.opportunity_id
),

-- the models as columns, summed at this grain
wide as (
    select
        journey_kind, dimension, segment_value, period_month, fiscal_quarter, channel,
        sum(columns('^picos_(.*)$')) as "picos_\1",
        count_if(columns('^credit_(.*)$') > 0) as "credited_\1"
    from cuts
    group by journey_kind, dimension, segment_value, period_month, fiscal_quarter, channel
),

-- then one row per model: its amount and the opportunities that gave a non-zero credit
amounts as (
    select
        journey_kind, dimension, segment_value, period_month, fiscal_quarter, channel,
        substr(model, 7) as model, attributed_picos
    from wide
    unpivot (attributed_picos for model in (columns('^picos_')))
),

credited as (
    select
        journey_kind, dimension, segment_value, period_month, fiscal_quarter, channel,
        substr(model, 10) as model, opportunities_credited
    from wide
    unpivot (opportunities_credited for model in (columns('^credited_')))
),

final as (
    select *
    from amounts
    inner join credited
        using (journey_kind, dimension, segment_value, period_month, fiscal_quarter, channel, model)
)

select * from final
