"""The fixed vocabularies of the settings (journey kinds, source formats, engines, scopes,
deal motions, encodings), where the inputs are by default, and the small parsers of setting
text."""

from __future__ import annotations

import os
from datetime import datetime

from attribution.keys import name_key

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


# what a journey leads to: the opportunity's creation (pipeline), its win (revenue), the
# moment it reached the qualified stage (qualified); pipeline and revenue are always built
JOURNEY_KINDS: tuple[str, ...] = ("pipeline", "revenue", "qualified")
REQUIRED_JOURNEY_KINDS: tuple[str, ...] = ("pipeline", "revenue")
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


def snake_key(text: str) -> str:
    """A value as the marts key it (attribution.keys.name_key, as the staging SQL); '' when
    nothing is left."""
    return name_key(text) or ""


def split_names(text: str) -> tuple[str, ...]:
    """'a, b,c' -> ('a', 'b', 'c'): a comma-separated setting (blank items dropped)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def parse_as_of(text: str) -> datetime:
    """An as-of setting: an ISO timestamp (UTC unless it has an offset), or a plain date,
    which means the end of that day (the day's touches and deals are in the report)."""
    value = text.strip()
    moment = datetime.fromisoformat(value)
    if len(value) == 10:  # YYYY-MM-DD
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment
