-- int_attributed_by_month: one row per (journey_kind, period_month, model, channel): the
-- amount the model attributes to the channel in the month (company calendar) and how many
-- opportunities gave the channel a non-zero credit. The one model behind both influenced
-- marts. Reads int_attributed_by_segment (its '(all)' rows). No parameters.
select
    journey_kind,
    period_month,
    fiscal_quarter,
    model,
    channel,
    from_picos(attributed_picos) as attributed_amount,
    opportunities_credited
from int_attributed_by_segment
where dimension = '(all)'
