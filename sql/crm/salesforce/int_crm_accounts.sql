-- int_crm_accounts (Salesforce): one row per valid Account row: the account id (18
-- characters), its name and the host of its website ('https://www.acme.com/x' -> acme.com),
-- what unconverted leads are matched against. Reads crm_salesforce_account. No parameters.
select id as account_id, nullif(trim(name), '') as account_name, web_host(website) as domain
from crm_salesforce_account
where reason is null
