"""Salesforce and HubSpot object exports in (issue 23): derived touches, matched accounts,
channels, journey scopes and deal motions of a hand-built world (tests/fixtures/crm_objects.py:
every expected value there is written out by hand from its rows)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from attribution.checks import publication_blockers
from attribution.config import AttributionConfig
from attribution.crm.files import discover_objects
from attribution.ingest import InputFileError
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv
from tests.fixtures import crm_objects as world

AS_OF = datetime(2026, 6, 1)


def _config(**settings: object) -> AttributionConfig:
    values: dict[str, object] = {
        "as_of": AS_OF,
        "interval_replicates": 0,
        "source_format": "salesforce_objects",
    }
    values.update(settings)
    return AttributionConfig.from_settings(values)


def _run(folder: Path, **settings: object) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(None, None, objects=str(folder)), _config(**settings))
    return conn


def _journeys(conn: duckdb.DuckDBPyConnection, ids: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Pipeline journey channels per opportunity (every staged opportunity, empty ones too),
    keyed by the Salesforce 15-character id (HubSpot deals through `ids`)."""
    rows = conn.sql(
        "select j.opportunity_id, coalesce(list(t.channel order by t.position) filter (where t.channel is not null), []) "
        "from int_journeys j left join int_journey_touches t using (journey_kind, opportunity_id) "
        "where j.journey_kind = 'pipeline' group by 1"
    ).fetchall()
    back = {v: k for k, v in (ids or {}).items()}
    return {back.get(opp, opp[:15]): list(channels) for opp, channels in rows}


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return world.write_salesforce(tmp_path_factory.mktemp("salesforce"))


@pytest.fixture(scope="module")
def salesforce_run(salesforce: Path) -> duckdb.DuckDBPyConnection:
    return _run(salesforce)


def test_each_campaign_member_becomes_the_touch_written_out_by_hand(salesforce_run):
    rows = salesforce_run.sql(
        "select source_id, row_number() over (partition by source_id order by source_row) as n, reason, "
        "unmatched_reason, identity_method, account_id, replace(channel, '(unclassified)', 'unclassified'), "
        "left(occurred_at, 10) from int_derived_touches where source_object = 'campaign_member'"
    ).fetchall()
    seen = {}
    for source_id, n, reason, unmatched, method, account, channel, day in rows:
        assert source_id == world.id18(source_id[:15])  # 18-character ids
        if n > 1:  # the repeated id of the second row
            assert (source_id[:15], reason) == (world.DUPLICATE_MEMBER, "duplicate_id")
            continue
        seen[source_id[:15]] = (account, channel, day, reason or unmatched or method)
    expected = {}
    for member, (account, channel, day, why) in world.MEMBERS.items():
        if why in ("unknown_campaign", "unknown_contact"):
            expected[member] = (*seen[member][:2], day, why)  # quarantined: account, channel unused
        else:
            expected[member] = (world.id18(account) if account else None, channel, day, why)
    assert seen == expected


def test_every_object_row_is_accounted_for(salesforce_run):
    audit = {
        r[0]: r[1:]
        for r in salesforce_run.sql(
            "select source, raw_rows, staged_rows, quarantined_rows, after_as_of_rows, excluded_rows, "
            "unmatched_rows from load_audit"
        ).fetchall()
    }
    for source, (raw, staged, quarantined, after, excluded, unmatched) in audit.items():
        assert raw == staged + quarantined + after + excluded + unmatched, source
    # 15 member rows: 3 quarantined (unknown campaign, unknown contact, repeated id), 4 without
    # an account (Frank, Gina, the lead with nothing: by hand from MEMBERS), 9 handed on as touches
    members = audit["salesforce.CampaignMember"]
    unmatched = sum(
        1 for a, _, _, why in world.MEMBERS.values() if a is None and not why.startswith("unknown")
    )
    assert members[:3] == (15, 15 - 3 - unmatched, 3)
    assert members[5] == unmatched == 3
    assert audit["touchpoints"][0] == members[1]  # every handed-on member reaches the touch load
    assert audit["salesforce.OpportunityContactRole"][:3] == (3, 2, 1)
    assert audit["salesforce.Lead"][:2] == (7, 7)
    assert salesforce_run.sql("select count(*) from unmatched_touches").fetchall()[0][0] == unmatched
    reasons = dict(
        salesforce_run.sql(
            "select reason, count(*) from quarantine where source = 'salesforce.CampaignMember' group by 1"
        ).fetchall()
    )
    assert reasons == {"unknown_campaign": 1, "unknown_contact": 1, "duplicate_id": 1}


def test_lead_matching_by_method_and_reason(salesforce_run):
    people = dict(
        salesforce_run.sql(
            "select person_id, coalesce(identity_method, unmatched_reason) || ':' || coalesce(account_id, '-') "
            "from int_crm_people"
        ).fetchall()
    )
    acme, globex, umbrella = (world.id18(a) for a in (world.A_ACME, world.A_GLOBEX, world.A_UMBRELLA))
    expected = {
        world.C_JANE: f"contact:{acme}",
        world.C_BOB: f"contact:{globex}",
        world.C_CAROL: f"email_domain:{acme}",  # no AccountId: acme.com is Acme's www.acme.com/about
        world.L_BOB: f"converted_lead:{globex}",
        world.L_DAN: f"email_domain:{acme}",
        world.L_EVE: f"company_name:{globex}",  # gmail.com never matches; company Globex does
        world.L_FRANK: "free_mail_domain:-",
        world.L_GINA: "ambiguous_email_domain:-",  # initech.com is Initech's and Initech Europe's
        world.L_HAL: f"company_name:{umbrella}",  # "Umbrella Corp." keys as "Umbrella Corp"
        world.L_NOBODY: "no_email_or_company:-",
    }
    assert {k[:15]: v for k, v in people.items()} == expected


@pytest.mark.parametrize("scope", ["account", "contact_roles", "primary_contact_role", "hybrid"])
def test_every_journey_scope_gives_the_journeys_by_hand_and_reconciles(salesforce, scope):
    conn = _run(salesforce, journey_scope=scope)
    assert _journeys(conn) == world.PIPELINE_JOURNEYS[scope]
    assert publication_blockers(conn) == []
    # every model gives each pipeline journey credits summing to 1 and its whole amount
    sums = conn.sql(
        "select model, opportunity_id, sum(credit), sum(attributed_amount) from mart_attribution_credits "
        "where journey_kind = 'pipeline' group by all"
    ).fetchall()
    assert sums
    for model, opportunity, credit, amount in sums:
        assert credit == pytest.approx(1.0), (model, opportunity)
        assert amount == pytest.approx(world.AMOUNTS[opportunity[:15]]), (model, opportunity)


def test_a_touch_of_a_contact_without_a_role_counts_under_account_only(salesforce):
    # Dan's paid-search touch (a lead, no role on Acme's first deal) is the first deal's
    # second touch under account and absent under contact_roles
    by_scope = {}
    for scope in ("account", "contact_roles"):
        conn = _run(salesforce, journey_scope=scope)
        by_scope[scope] = conn.sql(
            "select sum(attributed_amount) from mart_attribution_credits where model = 'linear' "
            "and journey_kind = 'pipeline' and channel = 'paid_search' and opportunity_id = ?",
            params=[world.id18(world.O_ACME_NEW)],
        ).fetchall()[0][0]
    assert by_scope["account"] == pytest.approx(10000 * 2 / 4)  # 2 of its 4 touches, linear
    assert by_scope["contact_roles"] is None


def test_deal_motions_and_touches_after_the_first_win(salesforce_run):
    motions = dict(salesforce_run.sql("select opportunity_id, deal_motion from stg_opportunities").fetchall())
    assert {k[:15]: v for k, v in motions.items()} == world.MOTIONS
    cut = dict(
        salesforce_run.sql(
            "select segment_value, count(distinct opportunity_id) from int_opportunity_segments "
            "where dimension = 'deal_motion' group by 1"
        ).fetchall()
    )
    assert cut == {"new_business": 4, "expansion": 1}


def test_ids_of_15_and_18_characters_are_one_id(salesforce_run):
    # the Opportunity file names Acme by 15 characters, the Account file by 18, the contact role
    # Bob by 18 and his contact row by 15: every staged id is the 18-character form
    ids = salesforce_run.sql(
        "select opportunity_id, account_id from stg_opportunities union all "
        "select opportunity_id, contact_id from stg_contact_roles"
    ).fetchall()
    assert ids and all(a == world.id18(a[:15]) and b == world.id18(b[:15]) for a, b in ids)


def test_unrecognized_files_are_listed_not_read(salesforce, salesforce_run):
    claimed, unused = discover_objects(str(salesforce), "salesforce")
    assert [Path(p).name for p in unused] == ["User.csv"]
    assert set(claimed) >= {"CampaignMember", "Campaign", "Opportunity", "OpportunityContactRole"}
    # the load audit lists it, with no row read
    listed = salesforce_run.sql(
        "select files, raw_rows from load_audit where source = 'salesforce.(not recognized)'"
    ).fetchall()
    assert [([Path(f).name for f in files], rows) for files, rows in listed] == [(["User.csv"], 0)]


def test_an_object_file_missing_a_required_column_names_file_and_column(salesforce, tmp_path):
    folder = tmp_path / "sf"
    for path in salesforce.iterdir():
        (folder / path.name).parent.mkdir(exist_ok=True)
        (folder / path.name).write_bytes(path.read_bytes())
    write_csv(
        folder / "CampaignMember.csv",
        ["Id", "ContactId", "CreatedDate"],
        [["00vAb0000000001", "x", "2026-01-01"]],
    )
    with pytest.raises(
        InputFileError, match=r"CampaignMember\.csv: missing required column\(s\) campaign_id"
    ):
        _run(folder)


def test_a_folder_without_opportunities_is_a_clear_error(tmp_path):
    write_csv(tmp_path / "Account.csv", ["Id", "Name"], [["001Ab0000000001", "Acme"]])
    with pytest.raises(InputFileError, match="no Opportunity export found"):
        _run(tmp_path)


def test_the_same_world_in_hubspot_shape_gives_the_same_journeys(tmp_path_factory):
    hubspot = world.write_hubspot(tmp_path_factory.mktemp("hubspot"))
    for scope in ("account", "contact_roles", "hybrid"):
        conn = _run(hubspot, source_format="hubspot_objects", journey_scope=scope)
        assert _journeys(conn, world.HS_DEALS) == world.PIPELINE_JOURNEYS[scope], scope
        assert publication_blockers(conn) == []
    audit = dict(conn.sql("select source, excluded_rows from load_audit").fetchall())
    assert audit["hubspot.email_events"] == 1  # the OPEN event is no touch
    motions = dict(conn.sql("select opportunity_id, deal_motion from stg_opportunities").fetchall())
    assert {k: motions[v] for k, v in world.HS_DEALS.items()} == world.MOTIONS


def test_what_buyers_say_next_to_every_model(salesforce_run):
    answers = {
        k[:15]: (channel, source)
        for k, channel, source in salesforce_run.sql(
            "select opportunity_id, channel, answer_source from int_self_reported"
        ).fetchall()
    }
    assert answers == world.SELF_REPORTED
    rows = {
        (m, c): (reported, model_share, agreement)
        for m, c, reported, model_share, agreement in salesforce_run.sql(
            "select model, channel, self_reported_share, model_share, agreement_rate "
            "from mart_self_reported_comparison"
        ).fetchall()
    }
    # first touch (by hand from PIPELINE_JOURNEYS): webinar first in Acme's three deals (3/5),
    # agreeing with the answer only on Acme's first deal (1 of 5 answered deals)
    assert rows[("first_touch", "webinar")] == pytest.approx((1 / 5, 3 / 5, 1 / 5))
    assert rows[("first_touch", "organic_search")] == pytest.approx((2 / 5, 0.0, 1 / 5))
    # last touch: no deal's last touch is its answer's channel
    assert rows[("last_touch", "webinar")][2] == 0.0
    # every model's shares add up to 1 over the answered deals, as the answers do
    for model in {m for m, _ in rows}:
        assert sum(v[1] for (m, _), v in rows.items() if m == model) == pytest.approx(1.0)
        assert sum(v[0] for (m, _), v in rows.items() if m == model) == pytest.approx(1.0)


def test_parquet_object_folders_of_a_warehouse_loader_read_the_same(salesforce, tmp_path):
    # Fivetran-like: one folder per object (campaign_member/part-0.parquet), snake_case names
    import polars as pl

    names = {
        "Account": "account",
        "Contact": "contact",
        "Lead": "lead",
        "Campaign": "campaign",
        "CampaignMember": "campaign_member",
        "Opportunity": "opportunity",
        "OpportunityContactRole": "opportunity_contact_role",
    }
    for stem, folder in names.items():
        (tmp_path / folder).mkdir()
        pl.read_csv(salesforce / f"{stem}.csv", infer_schema=False).write_parquet(
            tmp_path / folder / "part-0.parquet"
        )
    conn = _run(tmp_path)
    assert _journeys(conn) == world.PIPELINE_JOURNEYS["account"]
    query = "select source_id, reason, unmatched_reason, account_id, channel from int_derived_touches order by all"
    assert conn.sql(query).fetchall() == _run(salesforce).sql(query).fetchall()


def test_sales_activities_become_sdr_outreach_touches_only_when_asked(salesforce, tmp_path):
    folder = tmp_path / "sf"
    folder.mkdir()
    for path in salesforce.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    write_csv(
        folder / "Task.csv",
        ["Id", "WhoId", "AccountId", "ActivityDate", "CreatedDate", "Type", "Subject"],
        [
            # a call to Jane before Acme's first deal: in its journey, second by time
            [
                "00TAb0000000001",
                world.C_JANE,
                "",
                "2026-02-12",
                "2026-02-12T10:00:00.000+0000",
                "Call",
                "Intro",
            ],
            # an account-only task at Globex (identity method `account`)
            [
                "00TAb0000000002",
                "",
                world.A_GLOBEX,
                "2026-02-02",
                "2026-02-02T10:00:00.000+0000",
                "Email",
                "Follow",
            ],
            # a task naming nobody: quarantined
            ["00TAb0000000003", "", "", "2026-02-03", "2026-02-03T10:00:00.000+0000", "Call", "?"],
        ],
    )
    off = _run(folder)
    assert off.sql(
        "select raw_rows, excluded_rows from load_audit where source = 'salesforce.Task'"
    ).fetchall() == [(3, 3)]
    assert _journeys(off) == world.PIPELINE_JOURNEYS["account"]
    on = _run(folder, include_sales_activities=True)
    journeys = _journeys(on)
    assert journeys[world.O_ACME_NEW] == [
        "webinar",
        "sdr_outreach",
        "paid_search",
        "unclassified",
        "paid_search",
    ]
    assert journeys[world.O_GLOBEX] == ["event", "email", "sdr_outreach", "webinar"]
    methods = dict(
        on.sql(
            "select source_id, coalesce(reason, identity_method) from int_derived_touches where source_object = 'task'"
        ).fetchall()
    )
    assert {k[:15]: v for k, v in methods.items()} == {
        "00TAb0000000001": "contact",
        "00TAb0000000002": "account",
        "00TAb0000000003": "missing_required",
    }


def test_a_folder_with_only_opportunities_completes_unattributed(salesforce, tmp_path):
    (tmp_path / "Opportunity.csv").write_bytes((salesforce / "Opportunity.csv").read_bytes())
    conn = _run(tmp_path)
    assert publication_blockers(conn) == []
    assert all(channels == [] for channels in _journeys(conn).values())
    none = conn.sql(
        "select sum(attributed_amount) from mart_attribution_credits where journey_kind = 'pipeline' "
        "and model = 'linear' and channel = '(none)'"
    ).fetchall()[0][0]
    assert none == pytest.approx(sum(world.AMOUNTS.values()))  # all of it unattributed
