-- Parsing rules shared by every staging model (one definition each). Run once per load.
-- is_date_only(t): the text is a plain ISO date (YYYY-MM-DD), no time of day.
-- parse_instant(t, tz): an ISO-8601 text as a UTC timestamp; no offset means UTC; a plain
--   date is the start of that day in time zone `tz` (the company time zone). Null when
--   unparseable.
-- parse_flag(t): a CRM boolean (true/false, 1/0, yes/no, t/f, y/n) or null.
create or replace temp macro is_date_only(t) as
    coalesce(regexp_full_match(trim(t), '\d{4}-\d{2}-\d{2}'), false);
create or replace temp macro parse_instant(t, tz) as
    case
        when is_date_only(t)
            then timezone('UTC', timezone(tz, cast(try_cast(trim(t) as date) as timestamp)))
        else try_cast(trim(t) as timestamptz) at time zone 'UTC'
    end;
create or replace temp macro parse_flag(t) as
    case
        when lower(trim(t)) in ('true', '1', 'yes', 't', 'y') then true
        when lower(trim(t)) in ('false', '0', 'no', 'f', 'n') then false
    end;
create or replace temp macro stage_key(t) as
    regexp_replace(lower(trim(t)), '[^\pL\pN]', '', 'g');
