-- load_audit: one row per source: its last load's files and row accounting,
-- raw_rows = staged_rows + quarantined_rows + after_as_of_rows + excluded_rows (opportunity
-- types the type filter leaves out), the as-of time and the wall clock of the load. Each load of a source replaces its row. No parameters.
create table if not exists load_audit (
    source varchar primary key,
    files varchar[],
    raw_rows bigint,
    staged_rows bigint,
    quarantined_rows bigint,
    after_as_of_rows bigint,
    excluded_rows bigint,
    as_of timestamp,
    loaded_at timestamp
)
