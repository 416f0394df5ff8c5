"""Experiments: holdout assignment (assign), lift estimation with the checks that protect the
decision (estimate), and the results table over the run's opportunities (results)."""

from __future__ import annotations

from attribution.experiments.assign import assign_units, unit_draw
from attribution.experiments.estimate import (
    DECISIONS,
    ArmOutcomes,
    DecisionRule,
    LiftEstimate,
    estimate_lift,
    minimum_detectable_effect,
)

__all__ = [
    "DECISIONS",
    "ArmOutcomes",
    "DecisionRule",
    "LiftEstimate",
    "assign_units",
    "estimate_lift",
    "minimum_detectable_effect",
    "unit_draw",
]
