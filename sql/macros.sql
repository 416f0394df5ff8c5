-- Macros shared by the SQL models (one definition each), stored in the DuckDB file so every
-- connection (assets, checks, analysts) has them. attribution.sql.define_macros runs this.
-- DuckDB-only (a Spark port would write them as SQL functions or inline them).
-- is_date_only(t): the text is a plain ISO date (YYYY-MM-DD), no time of day.
-- parse_instant(t, tz): an ISO-8601 text as a UTC timestamp; no offset means UTC; a plain
--   date is the start of that day in time zone `tz` (the company time zone). Null when
--   unparseable. The cast skips surrounding blanks itself; a text with a ':' is
--   never a plain date (the date test and its trim run only on the others); the instant is
--   taken as epoch pico-units (no time zone conversion: 1.5 -> 0.3 s at ten million touches).
--   Texts without an offset are read in the session time zone, which ingest sets to UTC.
-- parse_flag(t): a CRM boolean (true/false, 1/0, yes/no, t/f, y/n) or null.
-- (the length test first: the regular expression runs only on 10-character texts)
create or replace macro is_date_only(t) as
    coalesce(length(trim(t)) = 10 and regexp_full_match(trim(t), '\d{4}-\d{2}-\d{2}'), false);
--   A time-zone abbreviation (IST, CST, BST: each names several zones) is not guessed: null.
--   Accepted: offsets, Z, UTC, GMT and IANA names (Area/City). The test runs only on texts that
--   end in a letter.
create or replace macro parse_instant(t, tz) as
    case
        when not contains(t, ':') and is_date_only(t)
            then timezone('UTC', timezone(tz, cast(try_cast(trim(t) as date) as timestamp)))
        when lower(right(rtrim(t), 1)) between 'a' and 'y' and not contains(t, '/')
            and not regexp_matches(rtrim(t), '(?i)(\d|\s)(utc|gmt)$')
            then null
        else make_timestamp(epoch_us(try_cast(t as timestamptz)))
    end;
create or replace macro parse_flag(t) as
    case
        when lower(trim(t)) in ('true', '1', 'yes', 't', 'y') then true
        when lower(trim(t)) in ('false', '0', 'no', 'f', 'n') then false
    end;
-- Names are keyed by name_key(t) ('Paid Search' -> paid_search, Unicode-aware), a function the
--   ingest registers on its connection (attribution.keys), not a macro: NFKC and case folding
--   are beyond DuckDB's SQL. The macro it replaced is dropped from older files.
drop macro if exists snake_key;
create or replace macro stage_key(t) as
    regexp_replace(lower(trim(t)), '[^\pL\pN]', '', 'g');
-- account_batch(account_id, batches): the account's batch of `batches` (hash(account_id) %
--   batches); 0 without hashing when there is one batch (at ten million touches the hash cost
--   as much as reading the journey touches).
-- in_batch(account_id, batch, batches): the row belongs to account batch `batch`.
create or replace macro account_batch(account_id, batches) as
    case when batches = 1 then 0 else hash(account_id) % batches end;
create or replace macro in_batch(account_id, batch, batches) as
    account_batch(account_id, batches) = batch;
-- Money is summed exactly: as integers of pico-units (10^-12, attributed amounts) or cents
-- (opportunity amounts), so a sum does not depend on the order rows are added in:
--   from_picos(sum(to_picos(attributed_amount))), from_cents(sum(to_cents(amount))).
--   Each touch's amount rounds by at most half a pico-unit, so a journey of n touches sums
--   within n / 2 pico-units of its amount: to the cent up to 10^10 touches (micro-units were
--   a cent off at 20,000 touches of equal credit: 200,000 touches ran ten cents short).
-- campaign_label(channel, campaign): the campaign a credit counts under in the campaign cuts
--   and their intervals: '(no campaign)' for a touch without one, '(none)' for the
--   unattributed pseudo-channel's row (an empty journey).
create or replace macro campaign_label(channel, campaign) as
    case when channel = '(none)' then '(none)' else coalesce(campaign, '(no campaign)') end;
create or replace macro to_picos(x) as cast(round(x * 1e12) as hugeint);
create or replace macro from_picos(n) as cast(n as double) / 1e12;
create or replace macro to_cents(x) as cast(round(x * 100) as hugeint);
create or replace macro from_cents(n) as cast(n as double) / 100;
-- The quarantine reason of a checked row: its first validation reason, else duplicate_id
-- when an earlier valid row (by file, then row) has the same key. `occurrence` is the row's
-- row_number() over (partition by <key>, first_reason is null order by file_index, source_row).
create or replace macro reason_or_duplicate(first_reason, occurrence) as
    coalesce(first_reason, case when occurrence > 1 then 'duplicate_id' end);
-- The fiscal quarter of a date, 'FY2027-Q1': the fiscal year starts in month start_month
-- (1 = January) and is named by the calendar year in which it ends.
create or replace macro fiscal_quarter(d, start_month) as
    'FY' || cast(year(d) + case when start_month > 1 and month(d) >= start_month then 1 else 0 end as varchar)
    || '-Q' || cast((month(d) - start_month + 12) % 12 // 3 + 1 as varchar);
-- The first day of the fiscal quarter of a date (start_month as in fiscal_quarter).
create or replace macro fiscal_quarter_start(d, start_month) as
    cast(date_trunc('month', d) - to_months(cast((month(d) - start_month + 12) % 12 % 3 as integer)) as date);
-- CRM identities (attribution.crm):
-- sfdc_id(t): a Salesforce record id as its 18-character form (the 15-character id plus its
--   case checksum: three characters, one per five, whose bits mark the upper-case letters),
--   so a 15- and an 18-character export of one record join; any other text trimmed, '' null.
create or replace macro sfdc_id(t) as
    case
        when regexp_full_match(trim(t), '[0-9A-Za-z]{15}([0-9A-Za-z]{3})?')
            then left(trim(t), 15) || array_to_string(
                [substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345',
                        1 + cast(list_sum([case when substr(trim(t), c * 5 + i + 1, 1) between 'A' and 'Z'
                                           then 1 << i else 0 end for i in range(5)]) as integer), 1)
                 for c in range(3)], '')
        else nullif(trim(t), '')
    end;
-- web_host(u): the host of a website or URL without scheme, 'www.', port or path, lower case
--   ('https://www.Acme.com/about' -> 'acme.com'); null when blank.
create or replace macro web_host(u) as
    nullif(regexp_replace(split_part(split_part(split_part(split_part(
        regexp_replace(lower(trim(u)), '^[a-z][a-z0-9+.-]*://', ''), '/', 1), '?', 1), '#', 1), ':', 1),
        '^www[0-9]*\.', ''), '');
-- email_domain(e): the domain of an e-mail address, lower case; null without an '@'.
create or replace macro email_domain(e) as
    case when contains(e, '@') then nullif(lower(trim(split_part(trim(e), '@', -1))), '') end;
-- url_param(u, name): a query parameter of a URL, decoded ('' and missing: null).
create or replace macro url_param(u, name) as
    nullif(url_decode(replace(regexp_extract(u, '[?&]' || name || '=([^&#]*)', 1), '+', ' ')), '');
-- md5_bucket(t, n): a stable bucket 0..n-1 of a text, the same on every engine and machine
--   (the first 15 hexadecimal digits of its md5 as an integer, modulo n).
create or replace macro md5_bucket(t, n) as cast(('0x' || left(md5(t), 15)) as bigint) % n;
-- first_id(t): the first of a ';'-separated id list (HubSpot's "Associated Company IDs"), trimmed.
create or replace macro first_id(t) as nullif(trim(split_part(t, ';', 1)), '');
