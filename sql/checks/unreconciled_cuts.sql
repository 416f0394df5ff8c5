-- unreconciled_cuts (check): cells of mart_reconciliation_cuts where an additive table does not
-- add up to the pipeline / won revenue the opportunities hold. Empty means every cut
-- reconciles. No parameters.
select * from mart_reconciliation_cuts
where not coalesce(is_reconciled, false)
order by table_name, journey_kind, model, cut, cut_value
