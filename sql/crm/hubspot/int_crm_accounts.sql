-- int_crm_accounts (HubSpot): one row per valid company row: its record id, name and domain
-- (the Company Domain Name, else the host of the Website URL). Reads crm_hubspot_companies.
-- No parameters.
select id as account_id, nullif(trim(name), '') as account_name, coalesce(web_host(domain), web_host(website)) as domain
from crm_hubspot_companies
where reason is null
