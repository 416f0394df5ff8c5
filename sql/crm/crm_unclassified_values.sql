-- crm_unclassified_values: one row per combination of the fields the channel rules read that no
-- rule matched, with how many touch rows have it: what to add to the rules file. Reads
-- int_derived_touches. No parameters.
select
    source_object,
    campaign_type,
    utm_source,
    utm_medium,
    referrer_domain,
    crm_source,
    touch_type,
    count(*) as touches
from int_derived_touches
where channel = '(unclassified)'
group by all
order by touches desc, source_object
