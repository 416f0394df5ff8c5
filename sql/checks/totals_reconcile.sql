-- totals_reconcile (check): the rows of the reconciliation model (sql/marts/mart_reconciliation.sql)
-- that do not reconcile, computed straight from the credits, so it runs before that mart
-- exists. Python puts the model's text before it as the CTE `reconciliation` (one definition
-- of the sums): with reconciliation as (<mart_reconciliation.sql>) <this query>.
select * from reconciliation where not coalesce(is_reconciled, false) order by journey_kind, model
