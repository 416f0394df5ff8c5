"""The bundled sample world written as a CRM's object export (`attribution-sample --objects
salesforce`): the same accounts, contacts, touches and deals in Salesforce's or HubSpot's
object shapes, so the objects path can be run and compared with the contract path."""

from __future__ import annotations

from pathlib import Path

import polars as pl

__all__ = ["CAMPAIGN_TYPES", "HUBSPOT_UTMS", "WEB_CHANNELS", "write_objects"]

# the sample's channels as the Salesforce campaign types the default channel rules map back
CAMPAIGN_TYPES: dict[str, str] = {
    "email": "Email",
    "paid_search": "Paid Search",
    "organic_search": "SEO",
    "direct": "Direct",
    "paid_social": "Paid Social",
    "content_syndication": "Content Syndication",
    "sdr_outreach": "Outbound",
    "webinar": "Webinar",
    "event": "Trade Show",
    "referral": "Referral Program",
}
# the sample's channels as the UTM query of a HubSpot form's page URL (the default rules map
# them back); email and sdr_outreach become e-mail click events and meetings instead
HUBSPOT_UTMS: dict[str, str] = {
    "paid_search": "utm_source=google&utm_medium=cpc",
    "organic_search": "utm_source=google&utm_medium=organic",
    "direct": "",
    "paid_social": "utm_source=linkedin&utm_medium=paid_social",
    "content_syndication": "utm_medium=syndication",
    "webinar": "utm_medium=webinar",
    "event": "utm_medium=event",
    "referral": "utm_medium=referral",
}
# the sample's channels HubSpot gets from web analytics events rather than form submissions
WEB_CHANNELS: tuple[str, ...] = ("organic_search", "direct", "referral")
_SF_STAGES = {"closed_won": "Closed Won", "closed_lost": "Closed Lost", "open": "Prospecting"}
_HS_STAGES = {"closed_won": "Closed Won", "closed_lost": "Closed Lost", "open": "Appointment Scheduled"}


def _read(folder: Path) -> pl.DataFrame:
    files = sorted(folder.glob("part-*"))
    frames = [
        pl.read_parquet(f) if f.suffix == ".parquet" else pl.read_csv(f, infer_schema=False) for f in files
    ]
    return pl.concat([f.cast(pl.String) for f in frames])


def write_objects(sample_dir: Path, out_dir: Path, crm: str) -> dict[str, int]:
    """Write the sample of `sample_dir` (touchpoints/ and opportunities/ part files) as `crm`'s
    object export under out_dir (fx rates, milestones and spend stay the contract's files:
    name them as inputs beside the objects); return row counts by file."""
    touches = _read(sample_dir / "touchpoints")
    opportunities = _read(sample_dir / "opportunities")
    unknown = sorted(set(touches["channel"]) - set(CAMPAIGN_TYPES))
    if unknown:
        raise ValueError(f"the sample has channels without an object form: {', '.join(unknown)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    accounts = (
        pl.concat([touches.select("account_id"), opportunities.select("account_id")])
        .unique()
        .sort("account_id")
    )
    contacts = touches.select("contact_id", "account_id").unique().sort("contact_id")
    frames = _salesforce(touches, opportunities, accounts, contacts) if crm == "salesforce" else None
    if crm == "hubspot":
        frames = _hubspot(touches, opportunities, accounts, contacts)
    if frames is None:
        raise ValueError(f"unknown CRM {crm!r}: salesforce or hubspot")
    counts = {}
    for name, frame in frames.items():
        frame.write_csv(out_dir / f"{name}.csv")
        counts[name] = len(frame)
    return counts


def _salesforce(
    touches: pl.DataFrame, opportunities: pl.DataFrame, accounts: pl.DataFrame, contacts: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    campaign_id = pl.concat_str("channel", pl.lit("|"), "campaign")
    campaigns = (
        touches.select(campaign_id.alias("Id"), pl.col("campaign").alias("Name"), "channel")
        .unique()
        .sort("Id")
        .with_columns(Type=pl.col("channel").replace_strict(CAMPAIGN_TYPES))
        .drop("channel")
    )
    members = touches.select(
        pl.col("touchpoint_id").alias("Id"),
        campaign_id.alias("CampaignId"),
        pl.col("contact_id").alias("ContactId"),
        pl.lit("").alias("LeadId"),
        pl.col("occurred_at").alias("FirstRespondedDate"),
        pl.col("occurred_at").alias("CreatedDate"),
        pl.col("touch_type").alias("Status"),
    )
    extra = [c for c in opportunities.columns if c in ("segment", "region")]
    deals = opportunities.select(
        pl.col("opportunity_id").alias("Id"),
        pl.col("account_id").alias("AccountId"),
        pl.col("created_at").alias("CreatedDate"),
        pl.col("closed_at").alias("CloseDate"),
        pl.col("stage").replace_strict(_SF_STAGES).alias("StageName"),
        pl.col("amount").alias("Amount"),
        pl.col("currency").alias("CurrencyIsoCode"),
        pl.col("type").alias("Type"),
        *extra,
    )
    return {
        "Account": accounts.select(
            pl.col("account_id").alias("Id"),
            pl.col("account_id").alias("Name"),
            pl.concat_str(pl.lit("https://www."), "account_id", pl.lit(".example.com")).alias("Website"),
        ),
        "Contact": contacts.select(pl.col("contact_id").alias("Id"), pl.col("account_id").alias("AccountId")),
        "Campaign": campaigns,
        "CampaignMember": members,
        "Opportunity": deals,
    }


def _hubspot(
    touches: pl.DataFrame, opportunities: pl.DataFrame, accounts: pl.DataFrame, contacts: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    web = touches.filter(pl.col("channel").is_in(WEB_CHANNELS))
    forms = touches.filter(~pl.col("channel").is_in(["email", "sdr_outreach", *WEB_CHANNELS]))
    page = pl.lit("https://www.vendor.example/lp?") + pl.col("channel").replace_strict(HUBSPOT_UTMS)
    extra = [c for c in opportunities.columns if c in ("segment", "region")]
    return {
        "companies": accounts.select(
            pl.col("account_id").alias("Record ID"),
            pl.col("account_id").alias("Company name"),
            pl.concat_str("account_id", pl.lit(".example.com")).alias("Company Domain Name"),
        ),
        "contacts": contacts.select(
            pl.col("contact_id").alias("Record ID"), pl.col("account_id").alias("Associated Company ID")
        ),
        "form_submissions": forms.select(
            pl.col("touchpoint_id").alias("Conversion ID"),
            pl.col("contact_id").alias("Contact ID"),
            pl.col("occurred_at").alias("Submitted At"),
            pl.col("campaign").alias("Form name"),
            page.alias("Page URL"),
        ),
        # web analytics: page views with UTMs in the URL (organic search, referral) or none (direct)
        "web_events": web.select(
            pl.col("touchpoint_id").alias("event_id"),
            pl.col("occurred_at").alias("timestamp"),
            pl.col("contact_id"),
            page.alias("page_url"),
            pl.lit("").alias("referrer"),
            pl.lit("page_view").alias("event_name"),
        ),
        "email_events": touches.filter(pl.col("channel") == "email").select(
            pl.col("touchpoint_id").alias("Event ID"),
            pl.col("contact_id").alias("Contact ID"),
            pl.col("occurred_at").alias("Created"),
            pl.lit("CLICK").alias("Type"),
            pl.col("campaign").alias("Email campaign name"),
        ),
        "meetings": touches.filter(pl.col("channel") == "sdr_outreach").select(
            pl.col("touchpoint_id").alias("Record ID"),
            pl.col("contact_id").alias("Associated Contact IDs"),
            pl.col("occurred_at").alias("Activity date"),
            pl.col("campaign").alias("Meeting name"),
        ),
        "deals": opportunities.select(
            pl.col("opportunity_id").alias("Record ID"),
            pl.col("account_id").alias("Associated Company IDs"),
            pl.col("created_at").alias("Create Date"),
            pl.col("closed_at").alias("Close Date"),
            pl.col("stage").replace_strict(_HS_STAGES).alias("Deal Stage"),
            pl.col("amount").alias("Amount"),
            pl.col("currency").alias("Currency"),
            pl.col("type").alias("Deal Type"),
            *extra,
        ),
    }
