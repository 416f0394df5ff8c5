-- totals_reconcile (check): the rows of the reconciliation model (sql/marts/mart_reconciliation.sql)
-- that do not reconcile, computed straight from the credits, so it runs before that mart
-- exists. Python splices the model's text into the subquery (one definition of the sums).
select * from ({mart_reconciliation}) where not coalesce(is_reconciled, false) order by journey_kind, model
