"""The terminal report's comparison chart: drawn once per distinct comparison."""

from __future__ import annotations

import polars as pl

from attribution import report


def _tables(email: float) -> dict[str, pl.DataFrame]:
    return {
        "pipeline": pl.DataFrame(
            {"channel": ["email", "webinar"], "linear": [email, 40.0], "markov": [55.0, 45.0]}
        ),
        "revenue": pl.DataFrame({"channel": ["email"], "linear": [10.0], "markov": [10.0]}),
    }


def test_the_same_comparison_is_drawn_once_and_a_changed_one_again(monkeypatch):
    # A run draws the comparison for the mart and again for the report's preview: the second
    # call with equal tables (new frames, same content) returns the first drawing's bytes;
    # one changed figure draws anew.
    drawn: list[float] = []

    def draw(tables: dict[str, pl.DataFrame], currency: str) -> bytes:
        drawn.append(float(tables["pipeline"]["linear"][0]))
        return f"png {len(drawn)} {currency}".encode()

    monkeypatch.setattr(report, "_CHARTS", {})
    monkeypatch.setattr(report, "_draw_comparison_chart", draw)
    first = report.comparison_chart_png(_tables(60.0))
    assert report.comparison_chart_png(_tables(60.0)) == first == b"png 1 USD"
    assert report.comparison_chart_png(_tables(61.0)) == b"png 2 USD"
    assert report.comparison_chart_png(_tables(60.0), "EUR") == b"png 3 EUR"
    assert drawn == [60.0, 61.0, 60.0]


def test_the_chart_is_a_png():
    png = report.comparison_chart_png(_tables(60.0))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1_000
