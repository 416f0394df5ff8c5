-- order_selection_paths (model input): one row per path of $journey_kind the Markov chain is
-- fitted on (int_markov_paths: converted journeys with touches and non-converting paths), its
-- channels in order as 0-based codes (their rank in $channels, the kind's sorted channels),
-- and whether it is held out: the accounts with md5_bucket(account_id, 5) = 0 (a fifth,
-- deterministic, never split across the two sets). In no order (the scores do not depend on
-- it); md5 once per account, not per path (0.76 s of 0.91 at 100k opportunities).
-- Parameters: $journey_kind, $channels. macros.sql (md5_bucket).
with holdout_accounts as (
    select account_id, md5_bucket(account_id, 5) = 0 as is_holdout
    from (select distinct account_id from int_markov_paths where journey_kind = $journey_kind) as accounts
)

select
    paths.is_converted,
    list_transform(paths.path, lambda channel: cast(list_position($channels, channel) - 1 as usmallint)) as path,
    holdout_accounts.is_holdout
from int_markov_paths as paths
inner join holdout_accounts using (account_id)
where paths.journey_kind = $journey_kind
