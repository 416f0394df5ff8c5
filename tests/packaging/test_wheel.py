"""The wheel holds what a non-editable install needs: every SQL file (under attribution/_sql/)
and the library's data files. `.ci/wheel-smoke` installs it in a fresh venv and runs the sample."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_the_wheel_ships_every_sql_file_and_data_file(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("attribution_engine-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sql_files = {
        f"attribution/_sql/{p.relative_to(REPO_ROOT / 'sql')}" for p in (REPO_ROOT / "sql").rglob("*.sql")
    }
    assert sql_files and sql_files <= names, sorted(sql_files - names)[:5]
    data_files = {
        str(p.relative_to(REPO_ROOT))
        for p in (REPO_ROOT / "attribution").rglob("*")
        if p.is_file() and p.suffix in {".toml", ".txt", ".typed", ".j2"}
    }
    assert data_files and data_files <= names, sorted(data_files - names)
    assert any(n.startswith("dagster_defs/") for n in names)
