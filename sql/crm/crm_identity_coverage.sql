-- crm_identity_coverage: one row per (source object, identity method or unmatched reason): how
-- many of the object's touch rows (quarantined and excluded rows left out) found their account
-- this way (`method`: contact, converted_lead, email_domain, company_name, company_domain,
-- account) or stayed unmatched for this reason (`method` null), and their share of the
-- object's touch rows. Reads int_derived_touches. No parameters.
with touches as (
    select source_object, identity_method, unmatched_reason
    from int_derived_touches
    where reason is null and not is_excluded
),

counted as (
    select source_object, identity_method as method, unmatched_reason, count(*) as touches
    from touches
    group by all
)

select
    source_object,
    method,
    unmatched_reason,
    touches,
    touches / sum(touches) over (partition by source_object) as share_of_touches
from counted
order by source_object, method nulls last, unmatched_reason
