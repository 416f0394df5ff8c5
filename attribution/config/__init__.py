"""One frozen configuration object carried by every step of the engine.

Settings have flat names (a run file's [settings], the CLI's flags, the launchpad); the
config holds the ones that belong together in groups (`weights`, `intervals`, `fx`,
`source`: attribution.config.groups). `AttributionConfig.from_settings` builds a config from
flat names, `config.setting(name)` reads one back, `setting_types()` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attribution.config.choices import (
    CSV_ENCODINGS,
    DEAL_MOTIONS,
    DEFAULT_DEAL_MOTIONS,
    ENGINES,
    ENV_DEFAULTS,
    JOURNEY_KINDS,
    JOURNEY_SCOPES,
    REQUIRED_JOURNEY_KINDS,
    SOURCE_FORMATS,
    env_setting,
    parse_as_of,
    snake_key,
    split_names,
)
from attribution.config.groups import (
    FxSettings,
    IntervalSettings,
    ModelWeights,
    SourceSettings,
    label_map,
    weight_map,
)
from attribution.mapping import SourceMapping, column_key, default_qualified_stage, default_stage_order

__all__ = [
    "CSV_ENCODINGS",
    "DEAL_MOTIONS",
    "DEFAULT_DEAL_MOTIONS",
    "ENGINES",
    "ENV_DEFAULTS",
    "JOURNEY_KINDS",
    "JOURNEY_SCOPES",
    "SOURCE_FORMATS",
    "AttributionConfig",
    "FxSettings",
    "IntervalSettings",
    "ModelWeights",
    "SourceSettings",
    "env_setting",
    "parse_as_of",
    "setting_types",
    "snake_key",
    "split_names",
]

# the config's groups: field -> its class
GROUPS: dict[str, type] = {
    "weights": ModelWeights,
    "intervals": IntervalSettings,
    "fx": FxSettings,
    "source": SourceSettings,
}


def _mergeable_models() -> tuple[str, ...]:
    """The models whose spec says they may merge consecutive repeats of one channel first
    (Markov has collapse_repeats; Shapley and the milestone models do not depend on repeats)."""
    from attribution.models import MERGEABLE_MODELS  # the registry imports this module

    return MERGEABLE_MODELS


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class AttributionConfig:
    """Model and window parameters; defaults are the ones in DESIGN §1."""

    lookback_days: int = 90
    time_decay_half_life_days: float = 7.0
    markov_order: int = 1
    collapse_repeats: bool = False
    # the most distinct channels a journey kind may have for the Markov model (one solve each)
    markov_max_channels: int = 1000
    # heuristic models (first_touch, last_touch, linear, time_decay, position_based, or "all")
    # that merge consecutive repeats of one channel into one step before attributing, as
    # Snowplow's package does (default none: every touch counts, as ChannelAttribution and DP6)
    merge_repeated_channels: tuple[str, ...] = ()
    reporting_currency: str = "USD"
    as_of: datetime = field(default_factory=_now_utc)
    fx: FxSettings = field(default_factory=FxSettings)
    # date-only values (a CRM's CloseDate) cover their whole day in this time zone
    company_timezone: str = "UTC"
    mapping: SourceMapping = field(default_factory=SourceMapping)
    # the models to run (empty: every model of the registry), in this order
    models: tuple[str, ...] = ()
    # models to calibrate by the experiments (opt-in): each adds calibrated_<model>, its credits
    # with a tested channel's (campaign's) credit scaled by measured / attributed, what that
    # removes credited to a `(baseline)` pseudo-channel (attribution.experiments.calibration)
    calibrated_models: tuple[str, ...] = ()
    # the rule-based models' weights by position (position_based, w_shaped, full_path, custom)
    weights: ModelWeights = field(default_factory=ModelWeights)
    # the lead-creation touch when the milestones input has no lead_created for the account
    lead_touch_types: tuple[str, ...] = ("form_fill", "demo_request", "sign_up")
    # the first month of the fiscal year (1 = January): fiscal quarters in the marts
    fiscal_year_start_month: int = 1
    # who "sourced" an opportunity: its journey's first-touch channel, or the CRM's lead_source
    sourced_by: str = "first_touch"
    # touch rules, applied before journeys are built (defaults off): touch types and channels
    # left out of journeys and null paths, and weights of touch types in linear and
    # time_decay ({touch_type: weight}; unlisted types weigh 1)
    excluded_touch_types: tuple[str, ...] = ()
    excluded_channels: tuple[str, ...] = ()
    touch_type_weights: Mapping[str, float] = field(default_factory=dict)
    # opportunity columns carried into the marts as segment dimensions (segment, region, ...),
    # matched like contract columns; a name no opportunities file has is an error
    segment_columns: tuple[str, ...] = ()
    # opportunity types (the `type` column: new_business, renewal, expansion, ...) kept in
    # pipeline: only these (empty: every type), and never these; the rest is counted, not staged
    included_opportunity_types: tuple[str, ...] = ()
    excluded_opportunity_types: tuple[str, ...] = ()
    intervals: IntervalSettings = field(default_factory=IntervalSettings)
    # restatement history: runs taken more than this many days ago are pruned (0: keep all)
    snapshot_retention_days: int = 730
    # how the inputs are read: format, CSV encoding, channel rules, sales activities
    source: SourceSettings = field(default_factory=SourceSettings)
    # where the steps after ingest run: duckdb (this machine) or spark (attribution.engine.spark:
    # the extra 'attribution-engine[spark]', a Java runtime, the ATTRIBUTION_SPARK_* settings);
    # ingest, quarantine, audit, checks, exports and the report stay in the DuckDB file
    engine: str = "duckdb"
    # whose touches a journey holds: account (every touch of the account), contact_roles (only
    # touches of contacts with a role on the opportunity), primary_contact_role, or hybrid
    # (contact roles where the opportunity has any, else the account)
    journey_scope: str = "account"
    # the funnel's stages in order (CRM stage labels; empty: the column preset's CRM sequence,
    # else Salesforce's): a deal reached a stage when it entered it or any later one
    stage_order: tuple[str, ...] = ()
    # the stage whose entry (or any later stage's, as the stage history tells) makes a deal
    # qualified pipeline (empty: the column preset's, else the funnel's second stage)
    qualified_stage: str = ""
    # a milestone of the milestones input (e.g. sql) that qualifies a deal instead: its
    # account's first one from a lookback before its creation to its close (empty: the stage)
    qualified_milestone: str = ""
    # the lead funnel's milestones in order (milestones input, lower snake case), followed by
    # the account's first opportunity and first won deal (mart_lead_funnel)
    lead_funnel_milestones: tuple[str, ...] = ("lead_created", "mql", "sal", "sql")
    # the journey kinds every model runs on: pipeline and revenue always, qualified (journeys up
    # to the moment a deal was qualified) unless left out, and milestones of the milestones
    # input (mql, sal, ...: an account's journey up to its first such milestone, worth 1)
    journey_kinds: tuple[str, ...] = JOURNEY_KINDS
    # {type label: motion} (motion: new_business, expansion, renewal) over the CRM defaults
    # of opportunity types (attribution.config.choices.DEFAULT_DEAL_MOTIONS)
    deal_motion_labels: Mapping[str, str] = field(default_factory=dict)
    # the run's wall clock: a timestamp later than this plus a day is a data error
    run_started_at: datetime = field(default_factory=_now_utc)

    def __post_init__(self) -> None:
        self._check_ranges()
        self._normalize_names()
        self._check_choices()
        self._normalize_moments()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None = None, **values: Any) -> AttributionConfig:
        """A config from flat setting names (`settings`, then `values`; e.g. interval_replicates,
        fx_base_currency, position_based_weights) and config fields (mapping, run_started_at)."""
        flat = {**(settings or {}), **values}
        paths = setting_paths()
        unknown = [name for name in flat if name not in paths and name not in _FIELDS]
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}")
        grouped: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
        top: dict[str, Any] = {}
        for name, value in flat.items():
            group, member = paths.get(name, (None, name))
            (grouped[group] if group else top)[member] = value
        for group, members in grouped.items():
            if members and group not in top:
                top[group] = GROUPS[group](**members)
        return cls(**top)

    def with_settings(self, **values: Any) -> AttributionConfig:
        """This config with some flat settings (or fields) changed."""
        paths = setting_paths()
        changed: dict[str, Any] = {}
        for name, value in values.items():
            group, member = paths.get(name, (None, name))
            if group is None:
                changed[member] = value
            else:
                changed[group] = replace(changed.get(group, getattr(self, group)), **{member: value})
        return replace(self, **changed)

    def setting(self, name: str) -> Any:
        """The value of one flat setting (position_based_weights -> weights.position_based)."""
        group, member = setting_paths()[name]
        return getattr(getattr(self, group), member) if group else getattr(self, member)

    def _check_ranges(self) -> None:
        """Every bounded number within its bounds."""
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must be >= 0, got {self.lookback_days}")
        if not self.time_decay_half_life_days > 0:
            raise ValueError(f"time_decay_half_life_days must be > 0, got {self.time_decay_half_life_days}")
        if not 1 <= self.markov_order <= 4:
            raise ValueError(f"markov_order must be in 1..4, got {self.markov_order}")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError(f"fiscal_year_start_month must be 1..12, got {self.fiscal_year_start_month}")
        if self.markov_max_channels < 1:
            raise ValueError(f"markov_max_channels must be >= 1, got {self.markov_max_channels}")
        if self.snapshot_retention_days < 0:
            raise ValueError(f"snapshot_retention_days must be >= 0, got {self.snapshot_retention_days}")

    def _normalize_names(self) -> None:
        """The currency code upper case, lists as tuples, type and channel names keyed."""
        code = self.reporting_currency
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"reporting_currency must be an ISO 4217 code, got {code!r}")
        object.__setattr__(self, "reporting_currency", code.upper())
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "calibrated_models", tuple(dict.fromkeys(self.calibrated_models)))
        if self.models and set(self.calibrated_models) - set(self.models):
            missing = ", ".join(sorted(set(self.calibrated_models) - set(self.models)))
            raise ValueError(f"calibrated_models names model(s) the run does not run: {missing}")
        order = tuple(label.strip() for label in self.stage_order if label.strip())
        if len({column_key(label) for label in order}) != len(order):
            raise ValueError(f"stage_order names a stage twice: {self.stage_order!r}")
        object.__setattr__(self, "stage_order", order)
        object.__setattr__(self, "qualified_stage", self.qualified_stage.strip())
        object.__setattr__(self, "qualified_milestone", snake_key(self.qualified_milestone))
        steps = tuple(snake_key(name) for name in self.lead_funnel_milestones if snake_key(name))
        if len(set(steps)) != len(steps) or {"opportunity", "closed_won"} & set(steps):
            raise ValueError(
                "lead_funnel_milestones must name distinct milestones (opportunity and closed_won "
                f"follow them), got {self.lead_funnel_milestones!r}"
            )
        object.__setattr__(self, "lead_funnel_milestones", steps)
        object.__setattr__(self, "lead_touch_types", tuple(t.strip().lower() for t in self.lead_touch_types))
        object.__setattr__(
            self, "excluded_touch_types", tuple(t.strip().lower() for t in self.excluded_touch_types)
        )
        object.__setattr__(
            self, "excluded_channels", tuple(snake_key(c) for c in self.excluded_channels if snake_key(c))
        )
        object.__setattr__(
            self, "touch_type_weights", weight_map(self.touch_type_weights, "touch_type_weights")
        )
        segments = tuple(name.strip() for name in self.segment_columns if name.strip())
        if len({snake_key(name) for name in segments}) != len(segments) or not all(map(snake_key, segments)):
            raise ValueError(f"segment_columns must name distinct columns, got {self.segment_columns!r}")
        object.__setattr__(self, "segment_columns", segments)
        for name in ("included_opportunity_types", "excluded_opportunity_types"):
            object.__setattr__(self, name, tuple(snake_key(t) for t in getattr(self, name) if snake_key(t)))
        for name, group in GROUPS.items():
            if not isinstance(getattr(self, name), group):
                raise ValueError(f"{name} must be a {group.__name__}, got {getattr(self, name)!r}")

    def _check_choices(self) -> None:
        """Every setting that names one of a fixed set of values names one of it."""
        if self.sourced_by not in ("first_touch", "lead_source"):
            raise ValueError(f"sourced_by must be first_touch or lead_source, got {self.sourced_by!r}")
        try:
            ZoneInfo(self.company_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"company_timezone must be an IANA time zone such as UTC or Europe/Berlin, "
                f"got {self.company_timezone!r}"
            ) from exc
        merge = tuple(name.strip().lower() for name in self.merge_repeated_channels if name.strip())
        wrong = [name for name in merge if name not in (*_mergeable_models(), "all")] if merge else []
        if wrong:
            raise ValueError(
                f"merge_repeated_channels names {', '.join(wrong)}; use any of "
                f"{', '.join(_mergeable_models())} or all "
                "(Markov merges repeats with collapse_repeats)"
            )
        object.__setattr__(self, "merge_repeated_channels", merge)
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.journey_scope not in JOURNEY_SCOPES:
            raise ValueError(
                f"journey_scope must be one of {', '.join(JOURNEY_SCOPES)}, got {self.journey_scope!r}"
            )
        object.__setattr__(
            self, "deal_motion_labels", label_map(self.deal_motion_labels, "deal_motion_labels")
        )
        self.deal_motion_map()  # validates
        self._check_journey_kinds()

    def _check_journey_kinds(self) -> None:
        """journey_kinds: known kinds, pipeline and revenue among them, in JOURNEY_KINDS order;
        qualified_stage: a stage of the funnel."""
        kinds = list(dict.fromkeys(snake_key(kind) for kind in self.journey_kinds if snake_key(kind)))
        missing = [kind for kind in REQUIRED_JOURNEY_KINDS if kind not in kinds]
        reserved = [kind for kind in kinds if kind in ("opportunity", "closed_won")]
        if missing or reserved:
            raise ValueError(
                f"journey_kinds must name {' and '.join(REQUIRED_JOURNEY_KINDS)} and may add "
                f"{', '.join(k for k in JOURNEY_KINDS if k not in REQUIRED_JOURNEY_KINDS)} and "
                f"milestones of the milestones input (mql, sal, ...; not opportunity or closed_won); "
                f"got {', '.join(self.journey_kinds) or 'none'}"
            )
        milestones = tuple(k for k in kinds if k not in JOURNEY_KINDS)
        object.__setattr__(self, "journey_kinds", (*(k for k in JOURNEY_KINDS if k in kinds), *milestones))
        keys = [column_key(label) for label in self.funnel_stages]
        if self.qualified_stage and column_key(self.qualified_stage) not in keys:
            raise ValueError(
                f"qualified_stage {self.qualified_stage!r} is no stage of the funnel "
                f"({', '.join(self.funnel_stages)}): name one of them, or set stage_order"
            )

    def _normalize_moments(self) -> None:
        """As-of and the run's start as naive UTC."""
        for name in ("as_of", "run_started_at"):
            moment = getattr(self, name)
            if moment.tzinfo is not None:
                object.__setattr__(self, name, moment.astimezone(UTC).replace(tzinfo=None))

    def deal_motion_map(self) -> dict[str, str]:
        """Opportunity type (name_key) -> deal motion: the CRM defaults overlaid with
        deal_motion_labels ({label: motion})."""
        motions = dict(DEFAULT_DEAL_MOTIONS)
        for label, motion in self.deal_motion_labels.items():
            if not snake_key(label) or motion not in DEAL_MOTIONS:
                raise ValueError(
                    f"deal_motion_labels map a type label to a motion of {', '.join(DEAL_MOTIONS)}, "
                    f"got {label!r} = {motion!r}"
                )
            motions[snake_key(label)] = motion
        return motions

    @property
    def milestone_names(self) -> tuple[str, ...]:
        """The milestones of the milestones input the models look up: lead_created and the
        custom model's other positions."""
        positions = {"first_touch", "opportunity_created", "closed_won", "between", "lead_created"}
        extra = [name for name in self.weights.custom if name not in positions]
        return ("lead_created", *extra)

    @property
    def funnel_stages(self) -> tuple[str, ...]:
        """The funnel's stage labels in order: stage_order, else the column preset's CRM
        sequence (attribution.mapping.default_stage_order)."""
        return self.stage_order or default_stage_order(self.mapping.preset)

    @property
    def qualification_stage(self) -> str:
        """The funnel stage that qualifies a deal: qualified_stage, else the column preset's
        (attribution.mapping.default_qualified_stage)."""
        return self.qualified_stage or default_qualified_stage(self.mapping.preset, self.funnel_stages)

    @property
    def qualified_position(self) -> int:
        """The qualification stage's position in the funnel (1-based, as int_funnel_stages):
        a deal is qualified once it entered this stage or a later one."""
        keys = [column_key(label) for label in self.funnel_stages]
        return keys.index(column_key(self.qualification_stage)) + 1

    @property
    def milestone_kinds(self) -> tuple[str, ...]:
        """The journey kinds that are milestones of the milestones input (journey_kinds beyond
        pipeline, revenue and qualified): one journey per account up to its first such milestone."""
        return tuple(kind for kind in self.journey_kinds if kind not in JOURNEY_KINDS)

    @property
    def builds_qualified_journeys(self) -> bool:
        """Whether the qualified journey kind is built (journey_kinds names it)."""
        return "qualified" in self.journey_kinds

    @property
    def merged_models(self) -> tuple[str, ...]:
        """The models that merge consecutive repeats of one channel (merge_repeated_channels)."""
        if "all" in self.merge_repeated_channels:
            return _mergeable_models()
        return self.merge_repeated_channels

    @property
    def filters_opportunity_types(self) -> bool:
        """Whether the type filter is on (then every opportunities file needs a type column)."""
        return bool(self.included_opportunity_types or self.excluded_opportunity_types)

    @property
    def segment_dimensions(self) -> dict[str, str]:
        """Segment dimension (lower snake case, as in the marts) -> the column name set."""
        return {snake_key(name): name for name in self.segment_columns}


# config fields that are not settings: the column mapping and the run's wall clock
_FIELDS = ("mapping", "run_started_at")


def setting_paths() -> dict[str, tuple[str | None, str]]:
    """Every flat setting name -> (its group, or None for a top-level field; the field)."""
    paths: dict[str, tuple[str | None, str]] = {}
    for top in fields(AttributionConfig):
        if top.name in GROUPS:
            for member in fields(GROUPS[top.name]):
                paths[member.metadata["setting"]] = (top.name, member.name)
        elif top.name not in _FIELDS:
            paths[top.name] = (None, top.name)
    return paths


def setting_types() -> dict[str, Any]:
    """Every flat setting name -> its type (what a run file's [settings] may set)."""
    hints = {None: get_type_hints(AttributionConfig)} | {
        group: get_type_hints(kind) for group, kind in GROUPS.items()
    }
    return {name: hints[group][member] for name, (group, member) in setting_paths().items()}
