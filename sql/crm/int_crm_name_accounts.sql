-- int_crm_name_accounts: one row per account name as keyed (name_key: 'ACME, Inc.' ->
-- acme_inc): how many accounts have it and, when one does, which. Reads int_crm_accounts.
-- No parameters.
select name_key(account_name) as name_key, count(distinct account_id) as account_count,
       min(account_id) as account_id
from int_crm_accounts
where name_key(account_name) is not null
group by name_key(account_name)
