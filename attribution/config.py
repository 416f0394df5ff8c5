"""One frozen configuration object carried by every step of the engine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attribution.keys import name_key
from attribution.mapping import SourceMapping

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
    "env_setting",
    "parse_as_of",
    "snake_key",
    "split_names",
]

# where the inputs and outputs are: environment variable -> default (the bundled sample)
ENV_DEFAULTS: dict[str, str] = {
    "ATTRIBUTION_DUCKDB": "data/attribution.duckdb",
    "ATTRIBUTION_TOUCHPOINTS": "data/sample/touchpoints/*.csv",
    "ATTRIBUTION_OPPORTUNITIES": "data/sample/opportunities/*.csv",
    "ATTRIBUTION_FX_RATES": "data/sample/fx_rates.csv",
    "ATTRIBUTION_MILESTONES": "",  # optional input; make run points it at the sample's
    "ATTRIBUTION_SPEND": "",  # optional input; make run points it at the sample's
    # opportunity columns carried as segment dimensions, comma-separated (make run: the sample's)
    "ATTRIBUTION_SEGMENT_COLUMNS": "",
    "ATTRIBUTION_EXPORT_DIR": "data/exports",
    "ATTRIBUTION_COLUMN_PRESET": "",
    "ATTRIBUTION_MAPPING": "",
}


def env_setting(variable: str, value: str | None = None) -> str:
    """`value` unless None (an empty value stays empty: e.g. no fx file), else the environment
    variable (set, even empty), else its default."""
    if value is not None:
        return value
    return os.environ.get(variable, ENV_DEFAULTS[variable])


JOURNEY_KINDS: tuple[str, ...] = ("pipeline", "revenue")
# what the inputs are (source_format): the contract's files, or a folder of CRM object exports
SOURCE_FORMATS: tuple[str, ...] = ("contract", "salesforce_objects", "hubspot_objects")
# where the steps after ingest run (engine): DuckDB on this machine, or Apache Spark
ENGINES: tuple[str, ...] = ("duckdb", "spark")
# whose touches a journey holds (journey_scope)
JOURNEY_SCOPES: tuple[str, ...] = ("account", "contact_roles", "primary_contact_role", "hybrid")
# what a deal does for the business, from its opportunity type
DEAL_MOTIONS: tuple[str, ...] = ("new_business", "expansion", "renewal")
# opportunity types (name_key) of Salesforce's and HubSpot's default picklists -> deal motion;
# a deal without a known type is new business, or expansion when its account had already won
# a deal closed before it was created (sql/staging/stg_opportunities.sql)
DEFAULT_DEAL_MOTIONS: dict[str, str] = {
    "new_business": "new_business",
    "new_customer": "new_business",
    "new": "new_business",
    "newbusiness": "new_business",
    "new_logo": "new_business",
    "existing_customer_upgrade": "expansion",
    "existing_business": "expansion",
    "existingbusiness": "expansion",
    "expansion": "expansion",
    "upsell": "expansion",
    "up_sell": "expansion",
    "cross_sell": "expansion",
    "add_on": "expansion",
    "upgrade": "expansion",
    "renewal": "renewal",
    "existing_customer_renewal": "renewal",
    "existing_customer_replacement": "renewal",
    "existing_customer_downgrade": "renewal",
    "contract_renewal": "renewal",
}
# the encodings DuckDB's CSV reader has without an extension (csv_encoding)
CSV_ENCODINGS: tuple[str, ...] = ("utf-8", "utf-16", "latin-1")


def _mergeable_models() -> tuple[str, ...]:
    """The models whose spec says they may merge consecutive repeats of one channel first
    (Markov has collapse_repeats; Shapley and the milestone models do not depend on repeats)."""
    from attribution.models import MERGEABLE_MODELS  # the registry imports this module

    return MERGEABLE_MODELS


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def snake_key(text: str) -> str:
    """A value as the marts key it (attribution.keys.name_key, as the staging SQL); '' when
    nothing is left."""
    return name_key(text) or ""


def split_names(text: str) -> tuple[str, ...]:
    """'a, b,c' -> ('a', 'b', 'c'): a comma-separated setting (blank items dropped)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _named_weight(entry: str, setting: str) -> tuple[str, float]:
    name, separator, value = entry.partition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = float("nan")
    if not separator or not name.strip() or not weight >= 0:
        raise ValueError(f"{setting} entries are 'name=weight' with a weight >= 0, got {entry!r}")
    return name.strip().lower(), weight


def parse_as_of(text: str) -> datetime:
    """An as-of setting: an ISO timestamp (UTC unless it has an offset), or a plain date,
    which means the end of that day (the day's touches and deals are in the report)."""
    value = text.strip()
    moment = datetime.fromisoformat(value)
    if len(value) == 10:  # YYYY-MM-DD
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment


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
    # fx rates convert into this base; any reporting currency goes through it (cross rates)
    fx_base_currency: str = "USD"
    fx_max_age_days: int = 45
    # date-only values (a CRM's CloseDate) cover their whole day in this time zone
    company_timezone: str = "UTC"
    mapping: SourceMapping = field(default_factory=SourceMapping)
    # the models to run (empty: every model of the registry), in this order
    models: tuple[str, ...] = ()
    # position_based (U-shaped): first, middle (shared), last
    position_based_weights: tuple[float, float, float] = (0.4, 0.2, 0.4)
    # the lead-creation touch when the milestones input has no lead_created for the account
    lead_touch_types: tuple[str, ...] = ("form_fill", "demo_request", "sign_up")
    # w_shaped: first touch, lead creation, opportunity creation, the touches between
    w_shaped_weights: tuple[float, float, float, float] = (0.3, 0.3, 0.3, 0.1)
    # full_path: first touch, lead creation, opportunity creation, closed won, between
    full_path_weights: tuple[float, float, float, float, float] = (0.225, 0.225, 0.225, 0.225, 0.1)
    # custom: "position=weight" per milestone position (first_touch, lead_created, any milestone
    # of the milestones input such as mql, opportunity_created, closed_won) and "between"
    custom_weights: tuple[str, ...] = (
        "first_touch=0.25",
        "lead_created=0.15",
        "mql=0.15",
        "opportunity_created=0.25",
        "closed_won=0.1",
        "between=0.1",
    )
    # the first month of the fiscal year (1 = January): fiscal quarters in the marts
    fiscal_year_start_month: int = 1
    # who "sourced" an opportunity: its journey's first-touch channel, or the CRM's lead_source
    sourced_by: str = "first_touch"
    # touch rules, applied before journeys are built (defaults off): touch types and channels
    # left out of journeys and null paths, and "touch_type=weight" entries that weight
    # touches in linear and time_decay (unlisted types weigh 1)
    excluded_touch_types: tuple[str, ...] = ()
    excluded_channels: tuple[str, ...] = ()
    touch_type_weights: tuple[str, ...] = ()
    # opportunity columns carried into the marts as segment dimensions (segment, region, ...),
    # matched like contract columns; a name no opportunities file has is an error
    segment_columns: tuple[str, ...] = ()
    # opportunity types (the `type` column: new_business, renewal, expansion, ...) kept in
    # pipeline: only these (empty: every type), and never these; the rest is counted, not staged
    included_opportunity_types: tuple[str, ...] = ()
    excluded_opportunity_types: tuple[str, ...] = ()
    # confidence intervals: Poisson-bootstrap replicates (0: none), level, seed (attribution.intervals)
    interval_replicates: int = 200
    interval_level: float = 0.9
    interval_seed: int = 20_261_129
    # restatement history: runs taken more than this many days ago are pruned (0: keep all)
    snapshot_retention_days: int = 730
    # the text encoding of CSV inputs: utf-8, utf-16 or latin-1 (a spreadsheet's "CSV" export)
    csv_encoding: str = "utf-8"
    # what the inputs are: contract (touchpoints and opportunities files), salesforce_objects or
    # hubspot_objects (a folder of object exports, input `objects`: attribution.crm)
    source_format: str = "contract"
    # where the steps after ingest run: duckdb (this machine) or spark (attribution.engine.spark:
    # the extra 'attribution-engine[spark]', a Java runtime, the ATTRIBUTION_SPARK_* settings);
    # ingest, quarantine, audit, checks, exports and the report stay in the DuckDB file
    engine: str = "duckdb"
    # the channel rules TOML file ('' = the defaults, attribution/crm/default_channel_rules.toml);
    # with contract-format touchpoints, a file set here re-maps their channel labels
    channel_rules: str = ""
    # Salesforce Task and Event rows become sdr_outreach-like touches (off: campaign members only)
    include_sales_activities: bool = False
    # whose touches a journey holds: account (every touch of the account), contact_roles (only
    # touches of contacts with a role on the opportunity), primary_contact_role, or hybrid
    # (contact roles where the opportunity has any, else the account)
    journey_scope: str = "account"
    # "label=motion" entries (motion: new_business, expansion, renewal) over the CRM defaults
    # of opportunity types (attribution.mapping.DEFAULT_DEAL_MOTIONS)
    deal_motion_labels: tuple[str, ...] = ()
    # the run's wall clock: a timestamp later than this plus a day is a data error
    run_started_at: datetime = field(default_factory=_now_utc)

    def __post_init__(self) -> None:
        self._check_ranges()
        self._normalize_names()
        self._check_weights()
        self._check_choices()
        self._normalize_moments()

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
        if self.interval_replicates < 0:
            raise ValueError(f"interval_replicates must be >= 0, got {self.interval_replicates}")
        if not 0 < self.interval_level < 1:
            raise ValueError(f"interval_level must be between 0 and 1, got {self.interval_level}")
        if self.snapshot_retention_days < 0:
            raise ValueError(f"snapshot_retention_days must be >= 0, got {self.snapshot_retention_days}")
        if self.fx_max_age_days < 0:
            raise ValueError(f"fx_max_age_days must be >= 0, got {self.fx_max_age_days}")

    def _normalize_names(self) -> None:
        """Currency codes upper case, lists as tuples, type and channel names keyed."""
        for name in ("reporting_currency", "fx_base_currency"):
            code = getattr(self, name)
            if len(code) != 3 or not code.isalpha():
                raise ValueError(f"{name} must be an ISO 4217 code, got {code!r}")
            object.__setattr__(self, name, code.upper())
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "lead_touch_types", tuple(t.strip().lower() for t in self.lead_touch_types))
        object.__setattr__(
            self, "excluded_touch_types", tuple(t.strip().lower() for t in self.excluded_touch_types)
        )
        object.__setattr__(
            self, "excluded_channels", tuple(snake_key(c) for c in self.excluded_channels if snake_key(c))
        )
        object.__setattr__(self, "touch_type_weights", tuple(self.touch_type_weights))
        segments = tuple(name.strip() for name in self.segment_columns if name.strip())
        if len({snake_key(name) for name in segments}) != len(segments) or not all(map(snake_key, segments)):
            raise ValueError(f"segment_columns must name distinct columns, got {self.segment_columns!r}")
        object.__setattr__(self, "segment_columns", segments)
        for name in ("included_opportunity_types", "excluded_opportunity_types"):
            object.__setattr__(self, name, tuple(snake_key(t) for t in getattr(self, name) if snake_key(t)))

    def _check_weights(self) -> None:
        """The models' weights: non-negative, summing to 1, each position once."""
        weights = tuple(float(w) for w in self.position_based_weights)
        if (
            len(weights) != 3
            or min(weights) < 0
            or abs(sum(weights) - 1) > 1e-9
            or weights[0] + weights[2] <= 0
        ):
            raise ValueError(
                "position_based_weights must be three non-negative weights (first, middle, last) "
                f"summing to 1 with first + last > 0, got {self.position_based_weights!r}"
            )
        object.__setattr__(self, "position_based_weights", weights)
        for name, size in (("w_shaped_weights", 4), ("full_path_weights", 5)):
            values = tuple(float(w) for w in getattr(self, name))
            if len(values) != size or min(values) < 0 or abs(sum(values) - 1) > 1e-9:
                raise ValueError(
                    f"{name} must be {size} non-negative weights summing to 1, got {getattr(self, name)!r}"
                )
            object.__setattr__(self, name, values)
        object.__setattr__(self, "custom_weights", tuple(self.custom_weights))
        self.touch_type_weight_map()  # validates
        self.custom_weight_map()  # validates

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
        object.__setattr__(self, "csv_encoding", self.csv_encoding.strip().lower().replace("_", "-"))
        if self.csv_encoding not in CSV_ENCODINGS:
            raise ValueError(
                f"csv_encoding must be one of {', '.join(CSV_ENCODINGS)}, got {self.csv_encoding!r}"
            )
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.source_format not in SOURCE_FORMATS:
            raise ValueError(
                f"source_format must be one of {', '.join(SOURCE_FORMATS)}, got {self.source_format!r}"
            )
        if self.journey_scope not in JOURNEY_SCOPES:
            raise ValueError(
                f"journey_scope must be one of {', '.join(JOURNEY_SCOPES)}, got {self.journey_scope!r}"
            )
        object.__setattr__(self, "deal_motion_labels", tuple(self.deal_motion_labels))
        self.deal_motion_map()  # validates

    def _normalize_moments(self) -> None:
        """As-of and the run's start as naive UTC."""
        for name in ("as_of", "run_started_at"):
            moment = getattr(self, name)
            if moment.tzinfo is not None:
                object.__setattr__(self, name, moment.astimezone(UTC).replace(tzinfo=None))

    def deal_motion_map(self) -> dict[str, str]:
        """Opportunity type (name_key) -> deal motion: the CRM defaults overlaid with
        deal_motion_labels ("label=motion")."""
        motions = dict(DEFAULT_DEAL_MOTIONS)
        for entry in self.deal_motion_labels:
            label, separator, motion = entry.partition("=")
            if not separator or not snake_key(label) or motion.strip() not in DEAL_MOTIONS:
                raise ValueError(
                    f"deal_motion_labels entries are 'type label=motion' with a motion of "
                    f"{', '.join(DEAL_MOTIONS)}, got {entry!r}"
                )
            motions[snake_key(label)] = motion.strip()
        return motions

    def custom_weight_map(self) -> dict[str, float]:
        """The custom model's weights by position ("between": the touches holding none); a
        clear error unless they are non-negative, name each position once and sum to 1."""
        pairs = [_named_weight(entry, "custom_weights") for entry in self.custom_weights]
        weights = dict(pairs)
        if len(weights) != len(pairs):
            raise ValueError(f"custom_weights name a position twice: {self.custom_weights!r}")
        if abs(sum(weights.values()) - 1) > 1e-9:
            raise ValueError(
                f"custom_weights must sum to 1, got {sum(weights.values()):g} from {self.custom_weights!r}"
            )
        return weights

    @property
    def milestone_names(self) -> tuple[str, ...]:
        """The milestones of the milestones input the models look up: lead_created and the
        custom model's other positions."""
        positions = {"first_touch", "opportunity_created", "closed_won", "between", "lead_created"}
        extra = [name for name in self.custom_weight_map() if name not in positions]
        return ("lead_created", *extra)

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

    def touch_type_weight_map(self) -> dict[str, float]:
        """Weights of touch types in linear and time_decay ("touch_type=weight", >= 0)."""
        pairs = [_named_weight(entry, "touch_type_weights") for entry in self.touch_type_weights]
        return dict(pairs)
