"""The Dagster UI on a materialized sample: GraphQL sees every asset, check and the schedule;
Debian's Chromium, driven by Playwright, renders the asset graph and the comparison page.

Needs /usr/bin/chromium (Debian's `chromium` package; `make test` and `.ci/run` install it).
No browser is downloaded. Screenshots go to tests/output/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attribution.models import MODELS
from attribution.sample_data import SampleSpec, write_sample
from tests.conftest import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
OUTPUT_DIR = REPO_ROOT / "tests" / "output"
EXPECTED_ASSETS = {
    "stg_fx_rates",
    "stg_opportunities",
    "stg_touchpoints",
    "quarantine",
    "int_journeys",
    "int_journey_touches",
    "int_null_path_touches",
    "int_markov_paths",
    "mart_attribution_credits",
    "mart_markov_removal_effects",
    "markov_transitions",
    "int_markov_fractions",
    "mart_campaign_comparison",
    "mart_channel_influence",
    "mart_campaign_comparison_wide",
    "mart_sourced_influenced",
    "int_journey_milestones",
    "stg_milestones",
    "stg_contact_roles",
    "int_derived_touches",
    "unmatched_touches",
    "crm_identity_coverage",
    "int_self_reported",
    "int_shapley_fractions",
    "mart_shapley_channel_values",
    "int_attribution_credits",
    "int_null_path_exclusions",
    "int_touch_rules",
    "int_eligible_touches",
    "int_pipeline_null_paths",
    "int_touch_roles",
    "int_null_path_settings",
    "int_attributed_by_month",
    "int_attributed_by_segment",
    "int_credits_by_channel",
    "load_audit",
    "mart_channel_comparison",
    "mart_channel_comparison_wide",
    "mart_influenced_pipeline",
    "mart_influenced_revenue",
    "mart_period_totals",
    "mart_reconciliation",
    "stg_spend",
    "int_opportunity_segments",
    "mart_attributed_by_quarter",
    "mart_campaign_influence",
    "mart_segment_comparison",
    "int_spend_return_by_period",
    "mart_spend_return",
    "mart_campaign_spend_return",
    "mart_time_to_convert",
    "mart_self_reported_comparison",
    "mart_reconciliation_cuts",
    "int_attribution_intervals",
    "mart_markov_order_selection",
    "report_snapshot",
    "mart_restatements",
    "exports",
    "joint_report",
}
EXPECTED_CHECKS = {
    "row_accounting",
    "unique_touchpoint_id",
    "unique_opportunity_id",
    "no_touch_after_conversion",
    "credit_conservation",
    "totals_reconcile_across_models",
    "markov_sanity",
    "markov_reconciliation_gap",
    "reconciled",
    "cuts_reconcile",
    "experiment_decisions_hold",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(base_url: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload
    return payload["data"]


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium chromium-driver)"
    )
    root = tmp_path_factory.mktemp("ui")
    write_sample(root / "sample", SampleSpec(scale=0.2, seed=7))
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "ATTRIBUTION_DUCKDB": str(root / "attribution.duckdb"),
        "ATTRIBUTION_TOUCHPOINTS": str(root / "sample" / "touchpoints" / "*.csv"),
        "ATTRIBUTION_OPPORTUNITIES": str(root / "sample" / "opportunities" / "*.csv"),
        "ATTRIBUTION_FX_RATES": str(root / "sample" / "fx_rates.csv"),
        "ATTRIBUTION_EXPORT_DIR": str(root / "exports"),
        "ATTRIBUTION_SPEND": str(root / "sample" / "spend.csv"),
        "ATTRIBUTION_SEGMENT_COLUMNS": "segment,region,type",
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    done = subprocess.run(
        [dagster, "asset", "materialize", "-m", "dagster_defs", "--select", "*"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (root / "dagster_dev.log").open("w")
    server = subprocess.Popen(
        [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (root / "dagster_dev.log").read_text()[-3000:]
            try:
                nodes = _graphql(base_url, "{ assetNodes { id } }")["assetNodes"]
                if nodes:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the Dagster UI did not come up within 180 s"
            time.sleep(1)
        _graphql(base_url, "mutation { setNuxSeen }")
        yield base_url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)
        log.close()


def test_graphql_sees_every_asset_check_and_the_schedule(dagster_ui):
    data = _graphql(
        dagster_ui,
        """
        {
          assetNodes {
            assetKey { path }
            groupName
            assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
          }
          workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
            ... on RepositoryLocation { repositories { schedules { name cronSchedule } } } } } } }
        }
        """,
    )
    nodes = data["assetNodes"]
    # the UI shows every asset the definitions hold (a mart added as its SQL file appears
    # without editing this test) and at least the hand-listed ones
    from dagster_defs import defs

    shown = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert shown == {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert shown >= EXPECTED_ASSETS, sorted(EXPECTED_ASSETS - shown)
    assert {n["groupName"] for n in nodes} == {"ingest", "journeys", "models", "reporting"}
    checks = {c["name"] for n in nodes for c in n["assetChecksOrError"]["checks"]}
    assert checks == EXPECTED_CHECKS
    schedules = [
        s
        for entry in data["workspaceOrError"]["locationEntries"]
        for repo in entry["locationOrLoadError"]["repositories"]
        for s in repo["schedules"]
    ]
    assert [(s["name"], s["cronSchedule"]) for s in schedules] == [("nightly_attribution_0200", "0 2 * * *")]


def test_browser_renders_the_graph_and_the_comparison(dagster_ui):
    from playwright.sync_api import sync_playwright

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            # the UI's first page load compiles its asset graph: 30 s was too short on a busy
            # 2-core machine (a CI run beside other work timed out on it)
            page.set_default_navigation_timeout(90_000)
            page.goto(f"{dagster_ui}/asset-groups", wait_until="networkidle")
            for group in ("ingest", "journeys", "models", "reporting"):
                page.get_by_text(group, exact=True).first.wait_for(timeout=30_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(OUTPUT_DIR / "asset_graph.png"))

            page.goto(f"{dagster_ui}/locations/dagster_defs/asset-groups/reporting", wait_until="networkidle")
            # with a dozen assets the group's graph abbreviates long node names (mart_c…_comparison,
            # so no exact text to wait for): wait for it to load and keep the picture; the assets are
            # checked through GraphQL above and on their own pages below
            page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=30_000)
            page.wait_for_timeout(2_000)
            page.screenshot(path=str(OUTPUT_DIR / "reporting_group.png"))

            page.goto(f"{dagster_ui}/assets/mart_channel_comparison", wait_until="networkidle")

            def open_markdown(key: str) -> None:
                row = page.locator("tr").filter(has=page.get_by_text(key, exact=True)).first
                row.wait_for(timeout=30_000)
                row.get_by_text("[Show Markdown]").click()
                page.get_by_role("dialog").wait_for(timeout=10_000)
                page.wait_for_timeout(800)  # let the dialog's fade-in finish before the screenshot

            open_markdown("pipeline_by_channel_and_model")
            dialog = page.get_by_role("dialog")
            headers = [h.strip() for h in dialog.locator("th").all_inner_texts()]
            assert headers == ["channel", *MODELS]
            assert dialog.locator("td", has_text="TOTAL").count() == 1
            page.screenshot(path=str(OUTPUT_DIR / "comparison_table.png"))
            dialog.get_by_role("button", name="Close").click()
            page.get_by_role("dialog").wait_for(state="hidden", timeout=10_000)

            open_markdown("chart")
            chart = page.get_by_role("dialog").locator("img[src^='data:image/png']").first
            chart.wait_for(timeout=10_000)
            assert chart.evaluate("img => img.complete && img.naturalWidth") > 100
            page.screenshot(path=str(OUTPUT_DIR / "comparison_chart.png"))
            page.get_by_role("dialog").get_by_role("button", name="Close").click()
            page.get_by_role("dialog").wait_for(state="hidden", timeout=10_000)

            # the confidence intervals as error bars
            open_markdown("share_intervals_chart")
            bars = page.get_by_role("dialog").locator("img[src^='data:image/png']").first
            bars.wait_for(timeout=10_000)
            assert bars.evaluate("img => img.complete && img.naturalWidth") > 100
            page.screenshot(path=str(OUTPUT_DIR / "share_intervals_chart.png"))
            page.get_by_role("dialog").get_by_role("button", name="Close").click()
            page.get_by_role("dialog").wait_for(state="hidden", timeout=10_000)

            # the spend-and-return mart's preview: channels by spend, with the return per dollar
            page.goto(f"{dagster_ui}/assets/mart_spend_return", wait_until="networkidle")
            # a short markdown value is shown inline in its metadata row
            row = (
                page.locator("tr").filter(has=page.get_by_text("return_all_periods_linear", exact=True)).first
            )
            row.wait_for(timeout=30_000)
            row.scroll_into_view_if_needed()
            headers = [h.strip() for h in row.locator("th").all_inner_texts()]
            assert headers == ["channel", "spend", "pipeline", "pipeline_per_dollar", "revenue_per_dollar"]
            assert row.get_by_role("cell", name="paid_search", exact=True).count() == 1
            page.wait_for_timeout(500)
            page.screenshot(path=str(OUTPUT_DIR / "spend_return.png"))
        finally:
            browser.close()
