-- markov_gap (check): channels whose fitted Markov conversions differ from the canonical
-- ones by more than $threshold of the journey kind's converting journeys.
-- Parameters: $threshold (a fraction, e.g. 0.01).
with gaps as (
    select journey_kind, channel, canonical_conversions, fitted_conversions, conversion_gap,
           canonical_value, fitted_value,
           conversion_gap / nullif(sum(canonical_conversions) over (partition by journey_kind), 0)
               as gap_share
    from mart_markov_removal_effects
)

select * from gaps
where abs(gap_share) > $threshold
order by journey_kind, channel
