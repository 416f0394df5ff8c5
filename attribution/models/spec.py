"""A model is a spec: its function, its glossary definition, the settings it reads, the inputs it
needs, how the intervals resample it and how it explains a touch's credit. The registry, the
glossary, the config's validation, the intervals, the report and `attribution-explain` read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from attribution.config import AttributionConfig
from attribution.models.base import AttributionModel

__all__ = ["ModelSpec", "Resampling"]

# how a bootstrap replicate gets this model's credits (attribution.intervals):
# "exact": a journey's credits do not depend on other journeys, so a replicate reweights them;
# "markov_removal_share": the fitted fractions scaled by the replicate chain's removal shares;
# "shapley_refit": the set values refitted on the replicate's reweighted channel-set counts
Resampling = Literal["exact", "markov_removal_share", "shapley_refit"]

# the columns an explanation sees, one row per (model, touch) of one journey (attribution.explain):
# position, touch_count, channel, touch_type, days_before_event, milestones (the positions the
# touch holds, a list), credit, and for the fitted models removal_effect, removal_share,
# channel_fraction (the channel's share of the journey) and channel_touch_count
Explanation = Callable[[AttributionConfig], pl.Expr]


@dataclass(frozen=True)
class ModelSpec:
    """One attribution model and every fact about it that the rest of the engine reads."""

    name: str
    function: AttributionModel
    # one line for the glossary, the asset descriptions, docs/tables.md and the report
    definition: str
    # where it sits in every table's model columns (lower first)
    order: int
    # the AttributionConfig fields it reads (their defaults are the config's)
    parameters: tuple[str, ...] = ()
    # ModelInput fields it needs beyond journey_touches: milestone_touches (the milestone
    # models), fitted_fractions (fitted once by the pipeline's fit steps)
    needs: tuple[str, ...] = ()
    # fitted across journeys (a journey's credits depend on the other journeys and paths)
    fitted: bool = False
    resampling: Resampling = "exact"
    # may merge consecutive repeats of one channel first (merge_repeated_channels)
    mergeable: bool = False
    # the reason of a touch's credit, as a polars expression over the explanation's columns
    explain: Explanation | None = None
    # shown beside the lead model where a table has room for a few (the report's campaigns and
    # top deals): the extremes and the fitted models
    contrast: bool = False

    def defaults(self) -> dict[str, object]:
        """The default of each parameter, from AttributionConfig."""
        default = AttributionConfig()
        return {name: default.setting(name) for name in self.parameters}
