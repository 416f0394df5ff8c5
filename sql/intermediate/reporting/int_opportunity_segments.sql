-- int_opportunity_segments: one row per (opportunity, segment dimension): the opportunity's
-- value of each segment column of the settings (segment_columns: segment, region, type, ...),
-- as the CRM export wrote it, trimmed; a blank value is '(not set)'; and always the dimension
-- deal_motion (new_business, expansion, renewal: from the opportunity type, stg_opportunities),
-- so every segment cut splits new business from expansion and renewal.
-- Reads stg_opportunities (its `segments` map, deal_motion). No parameters.
with entries as (
    select opportunity_id, unnest(map_entries(segments)) as entry
    from stg_opportunities
),

-- entry.key and entry.value are struct fields, not table references (sqlfluff's RF03)
final as (
    select
        opportunity_id,  -- noqa: RF03
        entry.key as dimension,  -- noqa: RF03
        coalesce(nullif(trim(entry.value), ''), '(not set)') as segment_value
    from entries
    where entry.key <> 'deal_motion'
    union all
    select opportunity_id, 'deal_motion', deal_motion
    from stg_opportunities
)

select * from final
order by dimension, opportunity_id
