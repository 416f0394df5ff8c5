-- int_crm_domain_accounts: one row per account domain: how many accounts have it and, when
-- one does, which (two accounts sharing a domain are ambiguous: nobody is matched by it).
-- Reads int_crm_accounts. No parameters.
select domain, count(distinct account_id) as account_count, min(account_id) as account_id
from int_crm_accounts
where domain is not null
group by domain
