-- int_opportunity_segments: one row per (opportunity, segment dimension): the opportunity's
-- value of each segment column of the settings (segment_columns: segment, region, type, ...),
-- as the CRM export wrote it, trimmed; a blank value is '(not set)'. Empty when no segment
-- column is set. Reads stg_opportunities (its `segments` map). No parameters.
with entries as (
    select opportunity_id, unnest(map_entries(segments)) as entry
    from stg_opportunities
),

final as (
    select
        opportunity_id,
        entry.key as dimension,
        coalesce(nullif(trim(entry.value), ''), '(not set)') as segment_value
    from entries
)

select * from final
order by dimension, opportunity_id
