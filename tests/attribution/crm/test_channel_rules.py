"""Channel rules (issue 23): first match wins, defaults modelled on GA4's channel grouping, a
user's file before the defaults, clear errors, the re-map of contract-format channels, and
web events with UTMs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.crm.channel_rules import (
    RULE_FIELDS,
    ChannelRulesError,
    load_channel_rules,
    normalized_fields_sql,
)
from attribution.ingest import InputFileError, load_touchpoints
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv
from tests.fixtures import crm_objects as world


def _channel(rules_file: Path | None = None, **fields: str) -> str:
    """The channel the rules give one touch (fields not named are missing)."""
    rules = load_channel_rules(rules_file)
    conn = duckdb.connect()
    names = ", ".join(f"?::varchar as {f}" for f in RULE_FIELDS)
    values = [fields.get(f) for f in RULE_FIELDS]
    return str(
        conn.sql(
            f"select {rules.channel_sql()} from (select {normalized_fields_sql(RULE_FIELDS)} from (select {names}))",
            params=values,
        ).fetchall()[0][0]
    )


@pytest.mark.parametrize(
    ("fields", "channel"),
    [
        # GA4: a search engine with a paid medium is paid search; organic medium organic search
        ({"utm_source": "google", "utm_medium": "cpc"}, "paid_search"),
        ({"utm_source": "Bing", "utm_medium": "PPC"}, "paid_search"),
        ({"utm_source": "linkedin", "utm_medium": "paid_social"}, "paid_social"),
        ({"utm_source": "linkedin", "utm_medium": "social"}, "organic_social"),
        ({"utm_source": "google", "utm_medium": "organic"}, "organic_search"),
        ({"utm_medium": "display"}, "display"),
        ({"utm_medium": "affiliate"}, "affiliates"),
        ({"utm_source": "newsletter", "utm_medium": "email"}, "email"),
        ({"referrer_domain": "news.ycombinator.com", "source_object": "web_event"}, "referral"),
        ({"referrer_domain": "www.google.com", "source_object": "web_event"}, "organic_search"),
        ({"source_object": "web_event"}, "direct"),  # no source, medium or referrer
        # B2B: CRM campaign types and HubSpot source properties
        ({"campaign_type": "Webinar"}, "webinar"),
        ({"campaign_type": "Trade Show"}, "event"),
        ({"campaign_type": "Content Syndication"}, "content_syndication"),
        ({"campaign_type": "Partners"}, "partner"),
        ({"crm_source": "PAID_SEARCH"}, "paid_search"),
        ({"crm_source": "Organic Search"}, "organic_search"),
        ({"source_object": "task"}, "sdr_outreach"),
        ({"campaign_type": "Other"}, "(unclassified)"),
        ({"utm_medium": "misc"}, "(unclassified)"),
    ],
)
def test_default_rules(fields, channel):
    assert _channel(**fields) == channel


def test_first_match_wins_and_a_users_rules_run_before_the_defaults(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "include_defaults = true\n"
        '[[rule]]\nchannel = "brand_search"\nutm_campaign_regex = "brand.*"\nutm_medium = ["cpc"]\n'
        '[[rule]]\nchannel = "never"\nutm_campaign = ["brand"]\n'
    )
    assert _channel(rules, utm_source="google", utm_medium="cpc", utm_campaign="Brand-2026") == "brand_search"
    assert _channel(rules, utm_source="google", utm_medium="cpc", utm_campaign="generic") == "paid_search"
    assert _channel(rules, utm_medium="cpc", utm_campaign="brand") == "brand_search"  # first wins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nutm_medium = ["cpc"]\n', "needs channel"),
        ('[[rule]]\nchannel = "x"\nutm_mediums = ["cpc"]\n', "unknown key 'utm_mediums'"),
        ('[[rule]]\nchannel = "x"\nutm_medium_regex = "("\n', "not a regular expression"),
        ('[[rule]]\nchannel = "x"\nutm_medium = [1]\n', "must be a value or a list"),
        ("rules = 1\n", "unknown key"),
        ("[[rule]\n", "not a TOML file"),
    ],
)
def test_a_bad_rules_file_names_the_rule_and_the_key(tmp_path, text, message):
    rules = tmp_path / "rules.toml"
    rules.write_text(text)
    with pytest.raises(ChannelRulesError, match=message):
        load_channel_rules(rules)


def test_rules_re_map_the_channels_of_a_contract_format_file(tmp_path):
    touches = write_csv(
        tmp_path / "touchpoints.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["t1", "2026-02-01", "a1", "Google Ads"],
            ["t2", "2026-02-02", "a1", "AdWords"],
            ["t3", "2026-02-03", "a1", "Webinar"],
        ],
    )
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nchannel = "paid_search"\nchannel_label_regex = "(google ads|adwords)"\n')
    conn = duckdb.connect()
    config = AttributionConfig.from_settings(as_of=datetime(2026, 6, 1), channel_rules=str(rules))
    load_touchpoints(conn, touches, config)
    channels = dict(conn.sql("select touchpoint_id, channel from stg_touchpoints").fetchall())
    # a label no rule matches keeps its label (keyed as always)
    assert channels == {"t1": "paid_search", "t2": "paid_search", "t3": "webinar"}
    rules.write_text('[[rule]]\nchannel = "x"\nchannel_label_regex = "(?<=a)b"\n')  # RE2 has no look-behind
    with pytest.raises(InputFileError, match=r"not an RE2 pattern|not a regular expression"):
        load_touchpoints(conn, touches, config)


def test_web_events_become_touches_by_utm_referrer_and_identity(tmp_path):
    folder = world.write_salesforce(tmp_path / "sf")
    write_csv(
        folder / "web_events.csv",
        ["event_id", "timestamp", "email", "company_domain", "page_url", "referrer"],
        [
            # Jane by e-mail: her contact's account; paid search from the page URL's UTMs
            [
                "w1",
                "2026-02-27T08:00:00Z",
                "JANE@acme.com",
                "",
                "https://v.io/p?utm_source=google&utm_medium=cpc",
                "",
            ],
            # an unknown address at acme.com: Acme by domain; a referral
            [
                "w2",
                "2026-02-27T09:00:00Z",
                "zed@acme.com",
                "",
                "https://v.io/p",
                "https://news.ycombinator.com/item",
            ],
            # reverse-IP domain only: Globex; a visit from the vendor's own site is direct
            ["w3", "2026-02-27T10:00:00Z", "", "globex.io", "https://v.io/a", "https://v.io/b"],
            # nobody: anonymous, unmatched
            ["w4", "2026-02-27T11:00:00Z", "", "", "https://v.io/a", ""],
            # a Gmail address: unmatched
            ["w5", "2026-02-27T12:00:00Z", "x@gmail.com", "", "https://v.io/a", ""],
        ],
    )
    conn = duckdb.connect()
    config = AttributionConfig.from_settings(
        as_of=datetime(2026, 6, 1), interval_replicates=0, source_format="salesforce_objects"
    )
    run_pipeline(conn, SourcePaths(None, None, objects=str(folder)), config)
    rows = {
        r[0]: r[1:]
        for r in conn.sql(
            "select source_id, account_id, channel, coalesce(identity_method, unmatched_reason) "
            "from int_derived_touches where source_object = 'web_event'"
        ).fetchall()
    }
    acme, globex = world.id18(world.A_ACME), world.id18(world.A_GLOBEX)
    assert rows == {
        "w1": (acme, "paid_search", "contact"),
        "w2": (acme, "referral", "email_domain"),
        "w3": (globex, "direct", "company_domain"),
        "w4": (None, "direct", "anonymous"),
        "w5": (None, "direct", "free_mail_domain"),
    }
    audit = conn.sql(
        "select raw_rows, staged_rows, unmatched_rows from load_audit where source = 'web.web_events'"
    ).fetchall()
    assert audit == [(5, 3, 2)]
    # w1 and w2 (Acme, 2026-02-27) join Acme's upsell journey (created 2026-05-01): 5 + 2 touches
    assert (
        conn.sql(
            "select count(*) from int_journey_touches where journey_kind = 'pipeline' and opportunity_id = ?",
            params=[world.id18(world.O_ACME_UPSELL)],
        ).fetchall()[0][0]
        == 5 + 2
    )
