"""The report's "Glossary" section (id `glossary`): the shared definitions."""

from __future__ import annotations

from typing import Any

from attribution.glossary import glossary_terms
from attribution.report_sections.base import ReportInputs, Section

__all__ = ["SECTION"]


def build(inputs: ReportInputs) -> dict[str, Any]:
    """Every term of the glossary, the models' included, in alphabetical order."""
    return {"terms": sorted(glossary_terms().items())}


SECTION = Section("glossary", "Glossary", build)
