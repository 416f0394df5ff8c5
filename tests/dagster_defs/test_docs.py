"""The manual stays true: docs/tables.md is what the assets and checks say, and every link of
the README and the docs points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

from attribution.contracts import QuarantineReason
from attribution.glossary import QUARANTINE_REASONS
from dagster_defs import defs
from dagster_defs.checks import INVARIANTS
from dagster_defs.docs import TABLES_DOC, render_tables_doc

ROOT = Path(__file__).resolve().parents[2]


def test_tables_doc_is_generated_from_the_definitions() -> None:
    """A stale docs/tables.md (an asset, check or glossary text changed) fails: regenerate it."""
    assert TABLES_DOC.read_text(encoding="utf-8") == render_tables_doc(defs), (
        "docs/tables.md is stale: run python -m dagster_defs.docs"
    )


def test_tables_doc_lists_every_asset_check_and_reason() -> None:
    text = render_tables_doc(defs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert f"| `{key.to_user_string()}` |" in text
    for invariant in INVARIANTS:
        assert f"| `{invariant.name}` | `{invariant.asset}` |" in text
    assert set(QUARANTINE_REASONS) == {reason.value for reason in QuarantineReason}


def test_every_link_of_the_manual_exists() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "bench" / "README.md"]
    pages += sorted((ROOT / "docs").glob("*.md"))
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_readme_first_screen_holds_the_two_commands_and_the_map() -> None:
    """Page one: the two commands within its first 20 lines, the map and the manual's index."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("make run") for line in lines[:20])
    assert any(line.startswith("make test") for line in lines[:20])
    text = "\n".join(lines)
    assert "## The map" in text and "## How to add" in text and "## The manual" in text
    assert len(lines) <= 150
