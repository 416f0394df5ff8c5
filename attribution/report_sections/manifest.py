"""The report's "Run manifest" section (id `manifest`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attribution.export import MANIFEST
from attribution.report_sections.base import REPORT_FILE, ReportInputs, Section

__all__ = ["SECTION"]


def _manifest(export_dir: Path) -> dict[str, Any]:
    path = export_dir / MANIFEST
    if not path.exists():
        return {"inputs": [], "files": [], "config": {}}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = [
        {"name": name, "rows": entry.get("rows"), "sha256": entry["sha256"][:16]}
        for name, entry in sorted(manifest.get("files", {}).items())
        if name != REPORT_FILE
    ]
    inputs = [
        {"path": i["path"], "bytes": f"{i['bytes']:,}", "sha256": i["sha256"][:16]}
        for i in manifest.get("inputs", [])
    ]
    config = {
        k: json.dumps(v) if not isinstance(v, str) else v for k, v in manifest.get("config", {}).items()
    }
    return {"inputs": inputs, "files": files, "config": config, "written_at": manifest.get("written_at", "")}


def build(inputs: ReportInputs) -> dict[str, Any]:
    """The section's context: what its template reads as `data`."""
    return _manifest(inputs.export_dir)


SECTION = Section("manifest", "Run manifest", build)
