"""The groups of settings that belong together: the rule-based models' weights, the confidence
intervals, currency conversion and how the inputs are read. Each field keeps its flat setting
name (`metadata["setting"]`: what a run file's [settings], a CLI flag and the launchpad call it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from attribution.config.choices import CSV_ENCODINGS, SOURCE_FORMATS

__all__ = [
    "FULL_PATH_POSITIONS",
    "POSITION_BASED_POSITIONS",
    "W_SHAPED_POSITIONS",
    "FxSettings",
    "IntervalSettings",
    "ModelWeights",
    "SourceSettings",
    "label_map",
    "weight_map",
]

POSITION_BASED_POSITIONS: tuple[str, ...] = ("first", "middle", "last")
W_SHAPED_POSITIONS: tuple[str, ...] = ("first_touch", "lead_created", "opportunity_created", "between")
FULL_PATH_POSITIONS: tuple[str, ...] = (
    "first_touch",
    "lead_created",
    "opportunity_created",
    "closed_won",
    "between",
)


def _setting(default: Any, name: str) -> Any:
    """A group field with its flat setting name."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"setting": name})
    return field(default=default, metadata={"setting": name})


def _entries(value: Any, setting: str) -> list[tuple[str, str]]:
    """(name, value text) pairs of a mapping, or of 'name=value' entries (a list, or one
    comma-separated text: the form of earlier versions and of a CLI flag)."""
    if isinstance(value, Mapping):
        return [(str(name), str(item)) for name, item in value.items()]
    items = value.split(",") if isinstance(value, str) else list(value)
    pairs = []
    for entry in items:
        name, separator, text = str(entry).partition("=")
        if not separator or not name.strip():
            raise ValueError(f"{setting} entries are 'name=value' (or a table of them), got {entry!r}")
        pairs.append((name, text))
    return pairs


def weight_map(value: Any, setting: str, positions: tuple[str, ...] = ()) -> dict[str, float]:
    """A weights setting as {name: weight >= 0}: a mapping, 'name=weight' entries, or (for a
    model with fixed `positions`) the weights in the order of its positions; with positions,
    each one exactly once. A clear error otherwise."""
    if isinstance(value, str) and "=" not in value:  # '0.4,0.2,0.4': a flag of earlier versions
        try:
            value = [float(item) for item in value.split(",") if item.strip()]
        except ValueError as exc:
            raise ValueError(f"{setting} entries are 'name=weight', got {value!r}") from exc
    numbers = not isinstance(value, str | Mapping) and all(isinstance(v, int | float) for v in value)
    if positions and numbers and len(value) > 0:
        if len(value) != len(positions):
            raise ValueError(
                f"{setting} must give {len(positions)} weights ({', '.join(positions)}), got {value!r}"
            )
        pairs = [(name, str(weight)) for name, weight in zip(positions, value, strict=True)]
    else:
        pairs = _entries(value, setting)
    weights: dict[str, float] = {}
    for name, text in pairs:
        key = name.strip().lower()
        try:
            weight = float(text)
        except ValueError:
            weight = math.nan
        if not weight >= 0 or math.isinf(weight):
            raise ValueError(f"{setting}: the weight of {key!r} must be a number >= 0, got {text!r}")
        if key in weights:
            raise ValueError(f"{setting} name {key!r} twice")
        weights[key] = weight
    if positions and set(weights) != set(positions):
        raise ValueError(
            f"{setting} must weigh exactly {', '.join(positions)}, got {', '.join(weights) or 'none'}"
        )
    return {name: weights[name] for name in positions} if positions else weights


def label_map(value: Any, setting: str) -> dict[str, str]:
    """A labels setting as {label: value}: a mapping or 'label=value' entries."""
    return {name.strip(): text.strip() for name, text in _entries(value, setting)}


def _sums_to_one(weights: Mapping[str, float], setting: str) -> None:
    if abs(sum(weights.values()) - 1) > 1e-9:
        raise ValueError(f"{setting} must sum to 1, got {sum(weights.values()):g} from {dict(weights)!r}")


@dataclass(frozen=True)
class ModelWeights:
    """The rule-based models' weights by position, each summing to 1 (DESIGN §1 defaults)."""

    # position_based (U-shaped): the first touch, the touches between (shared), the last
    position_based: Mapping[str, float] = _setting(
        {"first": 0.4, "middle": 0.2, "last": 0.4}, "position_based_weights"
    )
    # w_shaped: first touch, lead creation, opportunity creation, the touches between
    w_shaped: Mapping[str, float] = _setting(
        {"first_touch": 0.3, "lead_created": 0.3, "opportunity_created": 0.3, "between": 0.1},
        "w_shaped_weights",
    )
    # full_path: first touch, lead creation, opportunity creation, closed won, between
    full_path: Mapping[str, float] = _setting(
        {
            "first_touch": 0.225,
            "lead_created": 0.225,
            "opportunity_created": 0.225,
            "closed_won": 0.225,
            "between": 0.1,
        },
        "full_path_weights",
    )
    # custom: any milestone position (first_touch, lead_created, any milestone of the
    # milestones input such as mql, opportunity_created, closed_won) and "between"
    custom: Mapping[str, float] = _setting(
        {
            "first_touch": 0.25,
            "lead_created": 0.15,
            "mql": 0.15,
            "opportunity_created": 0.25,
            "closed_won": 0.1,
            "between": 0.1,
        },
        "custom_weights",
    )

    def __post_init__(self) -> None:
        for name, positions in (
            ("position_based", POSITION_BASED_POSITIONS),
            ("w_shaped", W_SHAPED_POSITIONS),
            ("full_path", FULL_PATH_POSITIONS),
            ("custom", ()),
        ):
            setting = f"{name}_weights"
            weights = weight_map(getattr(self, name), setting, positions)
            _sums_to_one(weights, setting)
            object.__setattr__(self, name, weights)
        if self.position_based["first"] + self.position_based["last"] <= 0:
            raise ValueError(
                f"position_based_weights must give first + last > 0, got {dict(self.position_based)!r}"
            )


@dataclass(frozen=True)
class IntervalSettings:
    """Confidence intervals: Poisson-bootstrap replicates (0: none), level, seed."""

    replicates: int = _setting(200, "interval_replicates")
    level: float = _setting(0.9, "interval_level")
    seed: int = _setting(20_261_129, "interval_seed")

    def __post_init__(self) -> None:
        if self.replicates < 0:
            raise ValueError(f"interval_replicates must be >= 0, got {self.replicates}")
        if not 0 < self.level < 1:
            raise ValueError(f"interval_level must be between 0 and 1, got {self.level}")


@dataclass(frozen=True)
class FxSettings:
    """Currency conversion: the currency fx rates convert into (any reporting currency crosses
    through it) and the oldest rate used without a stale flag."""

    base_currency: str = _setting("USD", "fx_base_currency")
    max_age_days: int = _setting(45, "fx_max_age_days")

    def __post_init__(self) -> None:
        code = self.base_currency
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"fx_base_currency must be an ISO 4217 code, got {code!r}")
        object.__setattr__(self, "base_currency", code.upper())
        if self.max_age_days < 0:
            raise ValueError(f"fx_max_age_days must be >= 0, got {self.max_age_days}")


@dataclass(frozen=True)
class SourceSettings:
    """How the inputs are read: their format, the CSV text encoding, the channel rules file and
    whether CRM sales activities are touches."""

    # contract (touchpoints and opportunities files), salesforce_objects or hubspot_objects
    # (a folder of object exports, input `objects`: attribution.crm)
    format: str = _setting("contract", "source_format")
    # the text encoding of CSV inputs: utf-8, utf-16 or latin-1 (a spreadsheet's "CSV" export)
    csv_encoding: str = _setting("utf-8", "csv_encoding")
    # the channel rules TOML file ('' = the defaults, attribution/crm/default_channel_rules.toml);
    # with contract-format touchpoints, a file set here re-maps their channel labels
    channel_rules: str = _setting("", "channel_rules")
    # Salesforce Task and Event rows become sdr_outreach-like touches (off: campaign members only)
    include_sales_activities: bool = _setting(False, "include_sales_activities")

    def __post_init__(self) -> None:
        if self.format not in SOURCE_FORMATS:
            raise ValueError(f"source_format must be one of {', '.join(SOURCE_FORMATS)}, got {self.format!r}")
        encoding = self.csv_encoding.strip().lower().replace("_", "-")
        if encoding not in CSV_ENCODINGS:
            raise ValueError(
                f"csv_encoding must be one of {', '.join(CSV_ENCODINGS)}, got {self.csv_encoding!r}"
            )
        object.__setattr__(self, "csv_encoding", encoding)
