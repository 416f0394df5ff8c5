"""One frozen configuration object carried by every step of the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["AttributionConfig", "JOURNEY_KINDS"]

JOURNEY_KINDS: tuple[str, ...] = ("pipeline", "revenue")


def _now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class AttributionConfig:
    """Model and window parameters; defaults are the ones in DESIGN §1."""

    lookback_days: int = 90
    time_decay_half_life_days: float = 7.0
    markov_order: int = 1
    collapse_repeats: bool = False
    reporting_currency: str = "USD"
    as_of: datetime = field(default_factory=_now_utc)

    def __post_init__(self) -> None:
        if self.lookback_days < 0:
            raise ValueError(f"lookback_days must be >= 0, got {self.lookback_days}")
        if not self.time_decay_half_life_days > 0:
            raise ValueError(
                f"time_decay_half_life_days must be > 0, got {self.time_decay_half_life_days}"
            )
        if not 1 <= self.markov_order <= 4:
            raise ValueError(f"markov_order must be in 1..4, got {self.markov_order}")
        if len(self.reporting_currency) != 3 or not self.reporting_currency.isalpha():
            raise ValueError(
                f"reporting_currency must be an ISO 4217 code, got {self.reporting_currency!r}"
            )
        if self.as_of.tzinfo is not None:
            object.__setattr__(
                self, "as_of", self.as_of.astimezone(timezone.utc).replace(tzinfo=None)
            )
        object.__setattr__(self, "reporting_currency", self.reporting_currency.upper())
