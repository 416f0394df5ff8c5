-- load_audit: one row per source: its last load's files and row accounting,
-- raw_rows = staged_rows + quarantined_rows + after_as_of_rows + excluded_rows (opportunity
-- types the type filter leaves out, e-mail events that are no click) + unmatched_rows (a CRM
-- object's touch rows without an account: unmatched_touches), the as-of time and the wall
-- clock of the load. A CRM object (salesforce.CampaignMember) has a row of its own: its
-- staged rows are the touches (or roles, people) it hands on. Each load of a source replaces
-- its row. No parameters.
create table if not exists load_audit (
    source varchar primary key,
    files varchar[],
    raw_rows bigint,
    staged_rows bigint,
    quarantined_rows bigint,
    after_as_of_rows bigint,
    excluded_rows bigint,
    unmatched_rows bigint,
    as_of timestamp,
    loaded_at timestamp
)
