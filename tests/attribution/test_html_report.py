"""The joint HTML report: every headline and comparison figure is the exports' figure, the file
stands alone (no network), and the manifest lists it with its checksum."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.export import export_marts, file_sha256
from attribution.glossary import glossary_terms
from attribution.html_report import REPORT_FILE, write_report
from attribution.models import MODELS
from attribution.pipeline import SourcePaths, run_pipeline
from attribution.restatements import build_restatements, take_snapshot
from tests.conftest import AS_OF


class _DataCells(HTMLParser):
    """Every element with a data-value attribute: its data-* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k[5:]: v or "" for k, v in attrs if k.startswith("data-")}
        if "value" in data:
            self.cells.append(data)
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)


@pytest.fixture(scope="module")
def report(published_sample: Path) -> tuple[Path, Path]:
    return published_sample, published_sample / REPORT_FILE


def _parse(path: Path) -> _DataCells:
    parser = _DataCells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_headline_figures_are_the_exported_totals(report):
    export_dir, path = report
    cells = {c["figure"]: float(c["value"]) for c in _parse(path).cells if "figure" in c}
    totals = pl.read_parquet(export_dir / "mart_period_totals.parquet")
    pipeline = totals.filter(pl.col("journey_kind") == "pipeline")
    revenue = totals.filter(pl.col("journey_kind") == "revenue")
    assert cells["pipeline"] == pytest.approx(pipeline["total_amount"].sum(), abs=1e-6)
    assert cells["won_revenue"] == pytest.approx(revenue["total_amount"].sum(), abs=1e-6)
    assert cells["influenced_pipeline_share"] == pytest.approx(
        pipeline["influenced_amount"].sum() / pipeline["total_amount"].sum(), abs=1e-6
    )
    assert cells["opportunities"] == pipeline["opportunities"].sum()
    assert cells["won_opportunities"] == revenue["opportunities"].sum()


def test_every_comparison_cell_is_the_exported_amount(report):
    export_dir, path = report
    cells = [c for c in _parse(path).cells if "model" in c and "channel" in c and c["channel"] != "TOTAL"]
    exported = pl.read_parquet(export_dir / "mart_channel_comparison.parquet")
    expected = {
        (k, m, c): a
        for k, m, c, a in exported.select("journey_kind", "model", "channel", "attributed_amount").iter_rows()
    }
    assert len(cells) == len(expected)  # every channel of every model and kind, once
    for cell in cells:
        assert float(cell["value"]) == pytest.approx(
            expected[(cell["kind"], cell["model"], cell["channel"])], abs=1e-6
        )
    # the TOTAL row: every model attributes the whole pipeline / won revenue
    totals = (
        pl.read_parquet(export_dir / "mart_period_totals.parquet")
        .group_by("journey_kind")
        .agg(pl.col("total_amount").sum())
    )
    kind_total = dict(totals.iter_rows())
    total_cells = [c for c in _parse(path).cells if c.get("channel") == "TOTAL"]
    assert {c["model"] for c in total_cells} == set(MODELS)
    for cell in total_cells:
        assert float(cell["value"]) == pytest.approx(kind_total[cell["kind"]], abs=0.01)


def test_the_report_stands_alone_and_is_in_the_manifest(report):
    export_dir, path = report
    html = path.read_text(encoding="utf-8")
    # no network: the page's markup loads nothing from elsewhere (the Plotly bundle is inline;
    # the browser test also records every request)
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.DOTALL)
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", markup)
    assert "<script src" not in html
    assert "Plotly.newPlot" in html and len(html) > 1_000_000
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["files"][REPORT_FILE]["sha256"] == file_sha256(path)
    parsed = _parse(path)
    for section in (
        "headline",
        "comparison",
        "divergence",
        "campaigns",
        "sourced",
        "trend",
        "segments",
        "spend",
        "time",
        "markov",
        "restatements",
        "quality",
        "glossary",
        "manifest",
    ):
        assert section in parsed.ids, section
    for term in glossary_terms():
        assert term in html


@pytest.mark.parametrize(
    "opportunity_rows",
    [[], [["o1", "acme", "2026-03-01", "open", "100"]]],
    ids=["no opportunity", "a deal without touches"],
)
def test_a_degenerate_world_still_gets_its_report(tmp_path, opportunity_rows):
    from tests.conftest import write_csv

    touches = write_csv(tmp_path / "t.csv", ["touchpoint_id", "occurred_at", "account_id", "channel"], [])
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        opportunity_rows,
    )
    config = AttributionConfig(as_of=AS_OF, run_started_at=AS_OF)
    with duckdb.connect() as conn:
        run_pipeline(conn, SourcePaths(touches, opportunities), config)
        take_snapshot(conn, "only-run", config)
        build_restatements(conn)
        export_marts(conn, tmp_path / "exports", config)
        result = write_report(conn, tmp_path / "exports")
    cells = {c["figure"]: float(c["value"]) for c in _parse(result.path).cells if "figure" in c}
    expected = sum(float(r[4]) for r in opportunity_rows)
    assert cells["pipeline"] == pytest.approx(expected)
    html = result.path.read_text(encoding="utf-8")
    assert "No campaign has attributed pipeline." in html
    assert "No spend input was given" in html


class _TitledCells(HTMLParser):
    """The cells of the top-deal tables: table id, data-model, data-value and title."""

    def __init__(self) -> None:
        super().__init__()
        self.table: str | None = None
        self.cells: list[tuple[str, str, float, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            self.table = values.get("id")
        if tag == "td" and self.table and self.table.startswith("table-deal-") and "data-model" in values:
            self.cells.append(
                (
                    self.table,
                    values["data-model"] or "",
                    float(values["data-value"] or "nan"),
                    values.get("title") or "",
                )
            )


def test_top_deals_show_each_touchs_published_credit_and_reason(report):
    """Each cell of a top-deal table is that touch's credit in mart_attribution_credits (the
    credits of a model in one table sum to 1) and carries the model's reason."""
    export_dir, path = report
    parser = _TitledCells()
    parser.feed(path.read_text(encoding="utf-8"))
    assert parser.cells, "no top-deal table"
    credits = pl.read_parquet(export_dir / "mart_attribution_credits.parquet")
    tables = {table for table, *_ in parser.cells}
    assert len(tables) == 3
    for table in tables:
        cells = [c for c in parser.cells if c[0] == table]
        by_model: dict[str, float] = {}
        for _, model, value, title in cells:
            by_model[model] = by_model.get(model, 0.0) + value
            assert title, f"{table} {model}: no reason"
        assert set(by_model) == set(credits["model"].unique())
        assert all(total == pytest.approx(1.0, abs=1e-5) for total in by_model.values()), by_model
    # the largest won deal's linear credits are 1/n for its n touches
    first = [c for c in parser.cells if c[0] == "table-deal-1" and c[1] == "linear"]
    assert all(value == pytest.approx(1 / len(first), abs=1e-6) for _, _, value, _ in first)
    assert all(title.startswith(f"1/{len(first)}:") for *_, title in first)
