-- row_accounting (check): the last load of source $source unless raw = staged + quarantined +
-- after as-of + excluded and the staged and quarantined counts are what the tables hold; a source never
-- loaded is a violation too. Empty means the invariant holds.
-- Parameters: $source (touchpoints, opportunities, fx_rates). DuckDB-only: query_table().
with audit as (
    select * from load_audit where source = $source
),

held as (
    select
        (select count(*) from query_table('stg_' || $source)) as staged_in_table,
        (select count(*) from quarantine where source = $source) as quarantined_in_table
),

final as (
    select audit.source, audit.raw_rows, audit.staged_rows, audit.quarantined_rows,
           audit.after_as_of_rows, audit.excluded_rows, held.staged_in_table, held.quarantined_in_table
    from audit cross join held
    where not (audit.raw_rows = audit.staged_rows + audit.quarantined_rows + audit.after_as_of_rows
                                   + audit.excluded_rows + coalesce(audit.unmatched_rows, 0)
               and audit.staged_rows = held.staged_in_table
               and audit.quarantined_rows = held.quarantined_in_table)
    union all
    select $source, null, null, null, null, null, null, null
    where not exists (select 1 from audit)
)

select * from final
