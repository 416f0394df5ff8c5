"""Sections of the HTML report, one module each (its builder and `SECTION`) with its template
`templates/sections/<id>.html.j2`. SECTIONS is the report's order: it drives the navigation
and the page; a new section is a module, a template, its entry here and a test."""

from __future__ import annotations

from attribution.report_sections import (
    campaigns,
    comparison,
    divergence,
    experiments,
    funnel,
    glossary,
    headline,
    manifest,
    markov,
    quality,
    restatements,
    segments,
    sourced,
    spend,
    time_to_convert,
    top_deals,
    trend,
)
from attribution.report_sections.base import ReportInputs, Section

__all__ = ["SECTIONS", "ReportInputs", "Section"]

SECTIONS: tuple[Section, ...] = (
    headline.SECTION,
    comparison.SECTION,
    divergence.SECTION,
    campaigns.SECTION,
    sourced.SECTION,
    trend.SECTION,
    segments.SECTION,
    spend.SECTION,
    time_to_convert.SECTION,
    funnel.SECTION,
    experiments.SECTION,
    markov.SECTION,
    top_deals.SECTION,
    restatements.SECTION,
    quality.SECTION,
    glossary.SECTION,
    manifest.SECTION,
)
