-- unreconciled (check): rows of the reconciliation mart that do not reconcile. Empty means
-- finance can sign off. No parameters.
select * from reconciliation where not coalesce(is_reconciled, false) order by all
