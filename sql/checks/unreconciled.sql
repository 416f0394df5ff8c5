-- unreconciled (check): rows of the mart_reconciliation mart that do not reconcile. Empty means
-- finance can sign off. No parameters.
select * from mart_reconciliation where not coalesce(is_reconciled, false) order by journey_kind, model
