"""The joint marketing-sales report: one self-contained HTML file per run, next to the exports.

It opens offline from a file or an e-mail attachment: the Plotly JavaScript is embedded once
(no CDN, no server), the charts are Plotly figures (hover for the exact figure, click a legend
entry to hide a model), the tables are formatted for people, and every number comes from the
same marts the exports hold (cells the tests check carry `data-value` with the exact figure).
Rendered with Jinja2 (autoescaped) from `report_sections/templates/` (a page and one
template per section, in the order of `report_sections.SECTIONS`); a print stylesheet makes it a
clean PDF. `python -m attribution.html_report` renders it from a DuckDB file.

Why these libraries: Plotly's Python package carries its JavaScript bundle, so one offline file
holds interactive SVG charts that a browser test can count marks in; Jinja2 is already in the
dependency tree (Dagster) and escapes every value by default.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.export import MANIFEST, file_sha256, write_atomically
from attribution.report import run_database
from attribution.report_sections.base import REPORT_FILE

__all__ = ["REPORT_FILE", "ReportResult", "main", "render_report", "report_available", "write_report"]


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, its size, checksum and how long it took to render."""

    path: Path
    bytes: int
    sha256: str
    seconds: float


def render_report(
    conn: duckdb.DuckDBPyConnection, export_dir: Path, config: AttributionConfig | None = None
) -> str:
    """The report's HTML, from the marts of `conn` and the manifest of `export_dir`; `config`
    (the run's settings; default the defaults) gives the weights the top deals' reasons cite."""
    import jinja2
    from plotly.offline import get_plotlyjs

    from attribution.report_sections import SECTIONS, ReportInputs

    currency_rows = conn.sql("select distinct reporting_currency from stg_opportunities").fetchall()
    currency = currency_rows[0][0] if currency_rows else "USD"
    as_of_rows = conn.sql("select max(as_of) from load_audit").fetchall()
    as_of = f"{as_of_rows[0][0]:%Y-%m-%d %H:%M} UTC" if as_of_rows and as_of_rows[0][0] else "unknown"
    inputs = ReportInputs(conn, currency, as_of, config or AttributionConfig(), export_dir)
    contexts = {section.id: section.build(inputs) for section in SECTIONS}
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("attribution.report_sections", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("report.html.j2").render(
        title="Marketing attribution: pipeline and revenue by channel",
        sections=SECTIONS,
        contexts=contexts,
        headline=contexts["headline"],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plotly_js=get_plotlyjs(),
    )


def report_available() -> bool:
    """Whether the report extra (Plotly, Jinja2) is installed: the lean library runs without."""
    return all(importlib.util.find_spec(name) is not None for name in ("plotly", "jinja2"))


def write_report(
    conn: duckdb.DuckDBPyConnection, export_dir: Path, config: AttributionConfig | None = None
) -> ReportResult:
    """Render the report into `export_dir/attribution_report.html` (written to a temporary
    name, then renamed) and list it in the manifest with its checksum."""
    started = time.perf_counter()
    export_dir.mkdir(parents=True, exist_ok=True)
    html = render_report(conn, export_dir, config)
    path = export_dir / REPORT_FILE
    write_atomically(path, html)
    checksum = file_sha256(path)
    manifest_path = export_dir / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("files", {})[REPORT_FILE] = {"table": None, "rows": None, "sha256": checksum}
        write_atomically(manifest_path, json.dumps(manifest, indent=2, sort_keys=True))
    return ReportResult(path, path.stat().st_size, checksum, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """CLI: write the HTML report from a DuckDB file next to its exports."""
    parser = argparse.ArgumentParser(description="Write the joint attribution report (self-contained HTML).")
    parser.add_argument("--database", help="default: the run file's, else $ATTRIBUTION_DUCKDB")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a run that is writing")
    parser.add_argument("--export-dir", help="default: the run file's, else $ATTRIBUTION_EXPORT_DIR")
    args = parser.parse_args(argv)
    with run_database(args.database, args.wait, args.export_dir) as (conn, export_dir):
        result = write_report(conn, export_dir)
    print(f"wrote {result.path} ({result.bytes / 1e6:.1f} MB in {result.seconds:.1f} s)")
