"""CRM object exports: the objects of each CRM and the columns each is read with (API names
and report labels). Which file is which object and their staging: attribution.crm.files."""

from __future__ import annotations

from dataclasses import dataclass

from attribution.contracts import SourceSpec
from attribution.mapping import SourceMapping, column_key

__all__ = [
    "CRM_OBJECTS",
    "OBJECT_REASONS",
    "UNMATCHED_REASONS",
    "ObjectSpec",
]

# why a CRM object row is quarantined, beyond missing_required and duplicate_id: a reference
# to a record the export does not hold (sql/crm/*/int_crm_touch_rows.sql, int_crm_contact_roles)
OBJECT_REASONS: tuple[str, ...] = ("unknown_campaign", "unknown_contact", "unknown_lead")
# why a valid touch row has no account (sql/crm/int_crm_people.sql, int_web_touch_rows.sql)
UNMATCHED_REASONS: tuple[str, ...] = (
    "ambiguous_email_domain",
    "ambiguous_company_name",
    "free_mail_domain",
    "no_email_or_company",
    "no_account_match",
    "anonymous",
    "unknown_contact",
    "unknown_email",
)


@dataclass(frozen=True)
class ObjectSpec:
    """One exported object: the file names it goes by (as column keys: lower case, letters and
    digits), its columns (canonical name -> the names exports give it), the required ones,
    its id column and, for Salesforce, the columns holding record ids (15 or 18 characters,
    read as one id). `kind`: reference (people, accounts, campaigns), touches (each row a
    touch), roles, or opportunities (handed to the opportunities loader with the CRM's
    column preset)."""

    crm: str
    name: str
    file_keys: tuple[str, ...]
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    required: tuple[str, ...] = ()
    id_column: str | None = "id"
    record_ids: tuple[str, ...] = ()
    kind: str = "reference"

    @property
    def source(self) -> str:
        """Its name in the load audit and quarantine: crm.Object."""
        return f"{self.crm}.{self.name}"

    @property
    def table(self) -> str:
        return f"crm_{self.crm}_{column_key(self.name)}"

    def source_spec(self) -> SourceSpec:
        """The object as an input source of the raw loader (every column optional but the
        required ones)."""
        names = tuple(c for c, _ in self.columns)
        return SourceSpec(
            name=self.table,
            required=tuple(c for c in names if c in self.required),
            optional=tuple(c for c in names if c not in self.required),
            staging_sql="",
        )

    def mapping(self) -> SourceMapping:
        """The object's column names as mapping entries of the raw loader."""
        return SourceMapping(
            columns=tuple(
                (self.table, column, alias) for column, aliases in self.columns for alias in aliases
            )
        )


def _sf(name: str, keys: tuple[str, ...], columns: dict[str, tuple[str, ...]], **kw: object) -> ObjectSpec:
    return ObjectSpec("salesforce", name, keys, tuple(columns.items()), **kw)  # type: ignore[arg-type]


def _hs(name: str, keys: tuple[str, ...], columns: dict[str, tuple[str, ...]], **kw: object) -> ObjectSpec:
    return ObjectSpec("hubspot", name, keys, tuple(columns.items()), **kw)  # type: ignore[arg-type]


_SELF_REPORTED = (
    "How_did_you_hear_about_us__c",
    "How did you hear about us?",
    "How did you hear about us",
    "Self_Reported_Source__c",
    "Self-Reported Source",
    "self_reported_source",
    "how_did_you_hear_about_us",
)
_WEB_EVENTS = ObjectSpec(
    "web",
    "web_events",
    ("webevents", "webevent", "events", "sessions", "pageviews", "webanalytics"),
    (
        ("id", ("event_id", "Event ID", "session_id", "Session ID", "message_id")),
        ("occurred_at", ("timestamp", "event_timestamp", "Event Time", "session_start", "received_at")),
        ("contact_id", ("Contact ID", "crm_contact_id", "hubspot_contact_id", "sfdc_contact_id")),
        ("email", ("Email", "user_email", "identified_email")),
        ("company_domain", ("account_domain", "Company Domain", "reverse_ip_domain", "clearbit_domain")),
        ("page_url", ("Page URL", "page_location", "landing_page", "url", "Landing Page")),
        ("referrer", ("Referrer", "page_referrer", "referrer_url", "Referring URL")),
        ("utm_source", ("UTM Source", "source", "context_campaign_source")),
        ("utm_medium", ("UTM Medium", "medium", "context_campaign_medium")),
        ("utm_campaign", ("UTM Campaign", "campaign", "context_campaign_name")),
        ("event_name", ("Event Name", "event", "event_type")),
    ),
    required=("id", "occurred_at"),
    kind="touches",
)

CRM_OBJECTS: dict[str, tuple[ObjectSpec, ...]] = {
    "salesforce": (
        _sf(
            "Account",
            ("account", "accounts"),
            {"id": ("Id", "Account ID"), "name": ("Name", "Account Name"), "website": ("Website",)},
            required=("id",),
            record_ids=("id",),
        ),
        _sf(
            "Contact",
            ("contact", "contacts"),
            {
                "id": ("Id", "Contact ID"),
                "account_id": ("AccountId", "Account ID"),
                "email": ("Email",),
                "created_at": ("CreatedDate", "Created Date"),
                "self_reported": _SELF_REPORTED,
            },
            required=("id",),
            record_ids=("id", "account_id"),
        ),
        _sf(
            "Lead",
            ("lead", "leads"),
            {
                "id": ("Id", "Lead ID"),
                "email": ("Email",),
                "company": ("Company",),
                "is_converted": ("IsConverted", "Converted"),
                "converted_account_id": ("ConvertedAccountId", "Converted Account ID"),
                "converted_contact_id": ("ConvertedContactId", "Converted Contact ID"),
                "converted_at": ("ConvertedDate", "Converted Date"),
                "created_at": ("CreatedDate", "Created Date"),
                "lead_source": ("LeadSource", "Lead Source"),
                "self_reported": _SELF_REPORTED,
            },
            required=("id",),
            record_ids=("id", "converted_account_id", "converted_contact_id"),
        ),
        _sf(
            "Campaign",
            ("campaign", "campaigns"),
            {
                "id": ("Id", "Campaign ID"),
                "name": ("Name", "Campaign Name"),
                "type": ("Type", "Campaign Type"),
                "channel_label": ("Channel__c",),
                "utm_source": ("UTM_Source__c",),
                "utm_medium": ("UTM_Medium__c",),
            },
            required=("id",),
            record_ids=("id",),
        ),
        _sf(
            "CampaignMember",
            ("campaignmember", "campaignmembers"),
            {
                "id": ("Id", "Campaign Member ID", "CampaignMemberId"),
                "campaign_id": ("CampaignId", "Campaign ID"),
                "contact_id": ("ContactId", "Contact ID"),
                "lead_id": ("LeadId", "Lead ID"),
                "first_responded_at": ("FirstRespondedDate", "First Responded Date"),
                "created_at": ("CreatedDate", "Created Date", "Member First Associated Date"),
                "has_responded": ("HasResponded", "Responded"),
                "status": ("Status", "Member Status"),
            },
            required=("id", "campaign_id", "created_at"),
            record_ids=("id", "campaign_id", "contact_id", "lead_id"),
            kind="touches",
        ),
        _sf(
            "Task",
            ("task", "tasks"),
            {
                "id": ("Id", "Task ID", "Activity ID"),
                "who_id": ("WhoId", "Name ID", "Contact/Lead ID"),
                "account_id": ("AccountId", "Account ID"),
                "occurred_at": ("ActivityDate", "Due Date", "CompletedDateTime"),
                "created_at": ("CreatedDate", "Created Date"),
                "type": ("Type", "TaskSubtype", "Task Subtype"),
                "subject": ("Subject",),
            },
            required=("id", "created_at"),
            record_ids=("id", "who_id", "account_id"),
            kind="touches",
        ),
        _sf(
            "Event",
            ("event", "events"),
            {
                "id": ("Id", "Event ID", "Activity ID"),
                "who_id": ("WhoId", "Name ID", "Contact/Lead ID"),
                "account_id": ("AccountId", "Account ID"),
                "occurred_at": ("StartDateTime", "ActivityDateTime", "Start", "ActivityDate"),
                "created_at": ("CreatedDate", "Created Date"),
                "type": ("Type", "EventSubtype", "Event Subtype"),
                "subject": ("Subject",),
            },
            required=("id", "created_at"),
            record_ids=("id", "who_id", "account_id"),
            kind="touches",
        ),
        _sf(
            "OpportunityContactRole",
            ("opportunitycontactrole", "opportunitycontactroles", "contactrole", "contactroles"),
            {
                "id": ("Id", "Contact Role ID"),
                "opportunity_id": ("OpportunityId", "Opportunity ID"),
                "contact_id": ("ContactId", "Contact ID"),
                "role": ("Role", "Contact Role"),
                "is_primary": ("IsPrimary", "Primary"),
            },
            required=("opportunity_id", "contact_id"),
            id_column=None,
            record_ids=("id", "opportunity_id", "contact_id"),
            kind="roles",
        ),
        ObjectSpec("salesforce", "Opportunity", ("opportunity", "opportunities"), kind="opportunities"),
        _WEB_EVENTS,
    ),
    "hubspot": (
        _hs(
            "companies",
            ("companies", "company"),
            {
                "id": ("Record ID", "Company ID", "hs_object_id", "companyId"),
                "name": ("Company name", "Name", "name"),
                "domain": ("Company Domain Name", "Domain", "domain"),
                "website": ("Website URL", "Website", "website"),
            },
            required=("id",),
        ),
        _hs(
            "contacts",
            ("contacts", "contact"),
            {
                "id": ("Record ID", "Contact ID", "hs_object_id", "vid"),
                "email": ("Email", "email"),
                "company_id": (
                    "Associated Company ID",
                    "Primary Associated Company ID",
                    "Associated Company IDs",
                    "Associated Company IDs (Primary)",
                    "associatedcompanyid",
                ),
                "company": ("Company Name", "Company", "company"),
                "created_at": ("Create Date", "createdate"),
                "original_source": ("Original Source", "hs_analytics_source", "Original source"),
                "original_source_detail": ("Original Source Drill-Down 1", "hs_analytics_source_data_1"),
                "latest_source": ("Latest Source", "hs_latest_source"),
                "latest_source_at": ("Latest Source Timestamp", "hs_latest_source_timestamp"),
                "lead_at": ("Became a Lead Date", "hs_lifecyclestage_lead_date"),
                "mql_at": (
                    "Became a Marketing Qualified Lead Date",
                    "hs_lifecyclestage_marketingqualifiedlead_date",
                ),
                "sql_at": ("Became a Sales Qualified Lead Date", "hs_lifecyclestage_salesqualifiedlead_date"),
                "self_reported": _SELF_REPORTED,
            },
            required=("id",),
            kind="touches",
        ),
        _hs(
            "form_submissions",
            ("formsubmissions", "formsubmission", "forms", "submissions"),
            {
                "id": ("Conversion ID", "Submission ID", "conversionId"),
                "contact_id": ("Contact ID", "Record ID", "vid"),
                "email": ("Email", "email"),
                "occurred_at": ("Submitted At", "Conversion Date", "Submission date", "submittedAt"),
                "form": ("Form name", "Form", "Form Title", "formName"),
                "page_url": ("Page URL", "pageUrl", "Page url"),
            },
            required=("occurred_at",),
            id_column=None,
            kind="touches",
        ),
        _hs(
            "email_events",
            ("emailevents", "emailevent", "marketingemailevents", "emailclicks"),
            {
                "id": ("Event ID", "id"),
                "contact_id": ("Contact ID", "Record ID", "vid"),
                "email": ("Recipient", "Email", "recipient"),
                "occurred_at": ("Created", "Event date", "Event Date", "created", "timestamp"),
                "type": ("Type", "Event type", "type"),
                "campaign": ("Email campaign name", "Campaign", "Email name", "emailCampaignId"),
            },
            required=("occurred_at", "type"),
            kind="touches",
        ),
        _hs(
            "meetings",
            ("meetings", "meeting"),
            {
                "id": ("Record ID", "Meeting ID", "hs_object_id"),
                "contact_id": ("Associated Contact IDs", "Associated Contact", "Contact ID"),
                "company_id": ("Associated Company IDs", "Associated Company", "Company ID"),
                "occurred_at": (
                    "Activity date",
                    "Meeting start time",
                    "hs_timestamp",
                    "hs_meeting_start_time",
                ),
                "title": ("Meeting name", "Title", "hs_meeting_title"),
            },
            required=("id", "occurred_at"),
            kind="touches",
        ),
        _hs(
            "deal_contacts",
            ("dealcontacts", "dealcontactassociations", "dealtocontact", "contactroles"),
            {
                "opportunity_id": ("Deal ID", "deal_id", "Record ID (Deal)", "fromObjectId"),
                "contact_id": ("Contact ID", "contact_id", "Record ID (Contact)", "toObjectId"),
                "role": ("Association label", "Label", "label", "Role"),
            },
            required=("opportunity_id", "contact_id"),
            id_column=None,
            kind="roles",
        ),
        ObjectSpec("hubspot", "deals", ("deals", "deal"), kind="opportunities"),
        _WEB_EVENTS,
    ),
}
