"""Column presets are data files (attribution/presets/<name>.toml): each names only contract
columns and stages, and a preset file is all it takes to add one."""

from __future__ import annotations

import tomllib

import pytest

from attribution import mapping
from attribution.contracts import SOURCES
from attribution.mapping import DEFAULT_STAGE_LABELS, PRESET_DIR, PRESETS, STAGES, load_mapping


def test_every_preset_file_names_contract_columns_and_stages():
    files = sorted(PRESET_DIR.glob("*.toml"))
    assert {f.stem for f in files} == set(PRESETS) - {"none"} and {"salesforce", "hubspot"} <= set(PRESETS)
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert set(data) <= {"columns", "stages", "qualified_stage"}, path.name
        if "qualified_stage" in data:  # the qualification stage is one of the preset's open stages
            assert data["stages"][data["qualified_stage"]] == "open", path.name
        for source, columns in data["columns"].items():
            assert set(columns) <= set(SOURCES[source].columns), (path.name, source)
            assert all(isinstance(names, list) and names for names in columns.values()), path.name
        assert set(data.get("stages", {}).values()) <= set(STAGES), path.name
        # every preset's stage labels are known to every run
        assert all(DEFAULT_STAGE_LABELS[label] == stage for label, stage in data.get("stages", {}).items())


def test_a_new_preset_is_one_data_file(tmp_path, monkeypatch):
    (tmp_path / "pipedrive.toml").write_text(
        '[columns.opportunities]\nopportunity_id = ["Deal - ID"]\namount = ["Deal - Value"]\n'
        '[stages]\n"Deal won" = "closed_won"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(mapping, "PRESET_DIR", tmp_path)
    presets = mapping._load_presets()
    assert presets["pipedrive"]["columns"]["opportunities"]["amount"] == ("Deal - Value",)
    assert presets["pipedrive"]["stages"] == {"Deal won": "closed_won"}
    assert set(presets) == {"none", "pipedrive"}


def test_an_unknown_preset_names_the_ones_there_are():
    with pytest.raises(ValueError, match="hubspot"):
        load_mapping(preset="zoho")
