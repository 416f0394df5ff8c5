-- quarantine: one row per input row that was not staged for a reason: the source, the file
-- and 1-based row it came from, the row as JSON (text, exactly as read), the reason code
-- (attribution.contracts.QuarantineReason) and the load's as-of time. Each load of a source
-- replaces that source's rows. No parameters.
create table if not exists quarantine (
    source varchar not null,
    source_file varchar,
    source_row bigint,
    record varchar,
    reason varchar not null,
    loaded_at timestamp not null
)
