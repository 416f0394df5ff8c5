"""The joint HTML report in Debian's chromium (Playwright): it opens from a file with no
network request and no console error, every chart draws its marks, the comparison table has
its header and totals, it fits a laptop screen and prints to PDF; screenshots are kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from attribution.html_report import REPORT_FILE
from attribution.models import MODELS

CHROMIUM = "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO_ROOT / "tests" / "output"


@pytest.fixture(scope="module")
def report_file(published_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} not found: install Debian's chromium (make chromium)"
    # an attachment has no folder around it: open a lone copy
    lone = tmp_path_factory.mktemp("attachment") / REPORT_FILE
    shutil.copy(published_sample / REPORT_FILE, lone)
    return lone


def test_the_report_renders_offline_in_chromium(report_file: Path):
    from playwright.sync_api import sync_playwright

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri(), wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.chart .main-svg').length >= 9", timeout=30_000
            )
            page.wait_for_timeout(500)
            assert errors == []
            assert all(url.startswith("file://") for url in requests), requests
            # every chart drew: an SVG with its marks (points, error bars, bars)
            charts = page.locator("div.chart")
            # a comparison and a trend per journey kind (pipeline, revenue, qualified, the
            # sample's mql), spend
            assert charts.count() == 9
            for i in range(charts.count()):
                assert charts.nth(i).locator("svg.main-svg").count() > 0
            for kind in ("pipeline", "revenue"):
                chart = page.locator(f"#chart-comparison-{kind}")
                assert chart.locator(".scatterlayer .trace").count() == len(MODELS)
                assert chart.locator(".scatterlayer .point").count() >= 10 * len(MODELS)
                assert chart.locator(".scatterlayer .errorbar").count() >= 10 * len(MODELS)
                assert page.locator(f"#chart-trend-{kind} .barlayer .point").count() > 50
            assert page.locator("#chart-spend .barlayer .point").count() >= 5
            # the comparison table: header and a TOTAL row per kind
            header = [
                h.strip() for h in page.locator("#table-comparison-pipeline thead th").all_inner_texts()
            ]
            assert header == ["channel", *MODELS]
            assert page.locator("#table-comparison-pipeline tr.total td").first.inner_text() == "TOTAL"
            assert page.locator("#table-comparison-revenue tr.total").count() == 1
            # a laptop screen: the page is not wider than the window (tables scroll inside their box)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1440
            page.screenshot(path=str(OUTPUT_DIR / "report_headline.png"))
            page.locator("#chart-comparison-pipeline").scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT_DIR / "report_comparison.png"))
            page.locator("#sourced").scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT_DIR / "report_sourced.png"))
            # printable: the print stylesheet gives a PDF
            pdf = OUTPUT_DIR / "report.pdf"
            page.emulate_media(media="print")
            page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
            assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
        finally:
            browser.close()
