"""The synthetic B2B world's shape: its channels, touch types, currencies, win rates, segments
and spend, and the size of a world (SampleSpec)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

__all__ = ["CHANNELS", "CURRENCIES", "SPEND", "TOUCH_TYPES", "WIN_RATE", "SampleSpec", "iso", "pick"]

# channel -> (share of touches, probability that one touch sparks an opportunity)
CHANNELS: dict[str, tuple[float, float]] = {
    "paid_search": (0.16, 0.030),
    "organic_search": (0.14, 0.025),
    "paid_social": (0.12, 0.008),
    "email": (0.18, 0.012),
    "webinar": (0.06, 0.060),
    "event": (0.04, 0.080),
    "content_syndication": (0.08, 0.015),
    "referral": (0.03, 0.110),
    "direct": (0.12, 0.020),
    "sdr_outreach": (0.07, 0.070),
}
TOUCH_TYPES: dict[str, str] = {
    "paid_search": "click",
    "organic_search": "visit",
    "paid_social": "click",
    "email": "email_click",
    "webinar": "attended",
    "event": "visit",
    "content_syndication": "form_fill",
    "referral": "form_fill",
    "direct": "visit",
    "sdr_outreach": "meeting",
}
CURRENCIES: dict[str, tuple[float, float]] = {"USD": (0.70, 1.0), "EUR": (0.20, 1.08), "GBP": (0.10, 1.27)}
WIN_RATE: dict[str, float] = {
    "paid_search": 0.30,
    "organic_search": 0.32,
    "paid_social": 0.20,
    "email": 0.25,
    "webinar": 0.40,
    "event": 0.45,
    "content_syndication": 0.22,
    "referral": 0.55,
    "direct": 0.30,
    "sdr_outreach": 0.35,
    "(sales)": 0.30,
}
# account segments as a CRM labels them: value -> share of accounts
SEGMENTS: dict[str, float] = {"Enterprise": 0.2, "Mid-Market": 0.35, "SMB": 0.45}
REGIONS: dict[str, float] = {"NA": 0.55, "EMEA": 0.3, "APAC": 0.15}
# an account's later deals: renewal or expansion (its first is new business)
LATER_DEAL_TYPES: dict[str, float] = {"Renewal": 0.6, "Expansion": 0.4}
# channel -> (cost per touch, spend currency, has campaigns): the monthly spend file (about a
# ninth of the pipeline it comes with, as B2B budgets run); direct
# costs nothing, organic search is a channel-level SEO budget, events are paid in EUR
SPEND: dict[str, tuple[float, str, bool]] = {
    "paid_search": (85.0, "USD", True),
    "organic_search": (18.0, "USD", False),
    "paid_social": (55.0, "USD", True),
    "email": (5.0, "USD", True),
    "webinar": (270.0, "USD", True),
    "event": (950.0, "EUR", True),
    "content_syndication": (330.0, "USD", True),
    "referral": (150.0, "USD", True),
    "sdr_outreach": (230.0, "USD", False),
}
_MICROS_PER_DAY = 86_400 * 1_000_000


@dataclass(frozen=True)
class SampleSpec:
    """Size and shape of the synthetic world; scale 1 is ~50k touches, ~1.5k opportunities."""

    scale: float = 1.0
    seed: int = 42
    start: datetime = datetime(2025, 10, 1)
    end: datetime = datetime(2026, 11, 1)
    accounts_per_scale: int = 3000
    touches_per_account: float = 17.0
    spark_scale: float = 1.0
    sales_sourced_share: float = 0.08
    accounts_per_chunk: int = 50_000
    # the holdout experiment's planted effect: extra deals per treated account in its window
    # (attribution.sample_data.experiment; 0 plants none)
    experiment_deals_per_account: float = 0.3

    @property
    def n_accounts(self) -> int:
        return max(1, round(self.accounts_per_scale * self.scale))


def iso(col: pl.Expr) -> pl.Expr:
    return col.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def pick(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    """`size` draws of the keys of `shares`, in proportion to their values."""
    p = np.array(list(shares.values()))
    return np.array(list(shares))[rng.choice(len(shares), size=size, p=p / p.sum())]
