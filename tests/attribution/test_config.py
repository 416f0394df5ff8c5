"""The config's groups, its typed weight maps, the flat setting names and the forms of earlier
versions (positional weights, 'name=weight' entries)."""

from __future__ import annotations

import dataclasses

import pytest

from attribution.config import (
    AttributionConfig,
    FxSettings,
    IntervalSettings,
    ModelWeights,
    SourceSettings,
    setting_types,
)
from attribution.config.groups import POSITION_BASED_POSITIONS
from attribution.runfile import resolve_run


def test_flat_settings_land_in_their_groups_and_read_back():
    config = AttributionConfig.from_settings(
        interval_replicates=7,
        interval_seed=3,
        fx_max_age_days=10,
        source_format="hubspot_objects",
        csv_encoding="LATIN_1",
        lookback_days=30,
    )
    assert config.intervals == IntervalSettings(replicates=7, level=0.9, seed=3)
    assert config.fx == FxSettings(base_currency="USD", max_age_days=10)
    assert config.source == SourceSettings(format="hubspot_objects", csv_encoding="latin-1")
    assert config.lookback_days == 30
    # every flat name reads back what the config holds
    for name in setting_types():
        assert config.setting(name) is not None or name == "as_of", name
    assert config.setting("interval_replicates") == 7
    assert config.setting("csv_encoding") == "latin-1"
    # changing one member keeps the group's others
    changed = config.with_settings(interval_seed=9, lookback_days=60)
    assert (changed.intervals.replicates, changed.intervals.seed, changed.lookback_days) == (7, 9, 60)
    with pytest.raises(ValueError, match="unknown setting"):
        AttributionConfig.from_settings(interval_replicate=3)


def test_every_group_member_has_one_flat_name_and_no_name_is_two_things():
    names = list(setting_types())
    assert len(names) == len(set(names))
    grouped = [
        member.metadata["setting"]
        for group in (ModelWeights, IntervalSettings, FxSettings, SourceSettings)
        for member in dataclasses.fields(group)
    ]
    assert set(grouped) <= set(names)
    top = {f.name for f in dataclasses.fields(AttributionConfig)}
    assert not set(grouped) & top  # a grouped setting is not also a top-level field


def test_weights_are_typed_maps_and_the_forms_of_earlier_versions_mean_the_same():
    typed = ModelWeights(position_based={"first": 0.3, "middle": 0.4, "last": 0.3})
    assert dict(typed.position_based) == {"first": 0.3, "middle": 0.4, "last": 0.3}
    # a positional list (earlier versions, in the order first, middle, last), a flag's text
    assert ModelWeights(position_based=(0.3, 0.4, 0.3)) == typed  # type: ignore[arg-type]
    assert ModelWeights(position_based="0.3,0.4,0.3") == typed  # type: ignore[arg-type]
    assert list(typed.position_based) == list(POSITION_BASED_POSITIONS)
    # 'name=weight' entries and a table name the same custom weights; keys are lower case
    entries = ModelWeights(custom=("First_Touch=0.5", "between=0.5"))  # type: ignore[arg-type]
    assert entries == ModelWeights(custom={"first_touch": 0.5, "between": 0.5})
    assert ModelWeights(custom="first_touch=0.5,between=0.5") == entries  # type: ignore[arg-type]
    assert AttributionConfig(touch_type_weights=("form_fill=3",)).touch_type_weights == {"form_fill": 3.0}  # type: ignore[arg-type]
    # deal motions: a map of type label -> motion, entries of earlier versions too
    motions = AttributionConfig(deal_motion_labels={"Upsell Q": "expansion"})
    assert motions == AttributionConfig(deal_motion_labels=("Upsell Q=expansion",))  # type: ignore[arg-type]
    assert motions.deal_motion_map()["upsell_q"] == "expansion"
    with pytest.raises(ValueError, match="deal_motion_labels"):
        AttributionConfig(deal_motion_labels={"Upsell": "upsold"})


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"first_touch": 0.5, "lead_created": 0.5}, "must weigh exactly first_touch, lead_created"),
        ((0.3, 0.3, 0.4), "must give 4 weights"),
        ({"first_touch": 0.3, "lead_created": 0.3, "opportunity_created": 0.3, "between": 0.2}, "sum to 1"),
        (
            {"first_touch": "x", "lead_created": 0.4, "opportunity_created": 0.3, "between": 0.3},
            "number >= 0",
        ),
    ],
)
def test_a_wrong_weight_map_names_the_setting_and_what_is_wrong(weights, message):
    with pytest.raises(ValueError, match=rf"w_shaped_weights.*{message}|w_shaped_weights {message}"):
        ModelWeights(w_shaped=weights)


def test_a_run_file_sets_weights_as_tables_and_group_members_by_their_flat_names(tmp_path):
    run_file = tmp_path / "attribution.toml"
    run_file.write_text(
        "[inputs]\n"
        'touchpoints = "t.csv"\n'
        'opportunities = "o.csv"\n'
        "[settings]\n"
        "interval_replicates = 25\n"
        'fx_base_currency = "eur"\n'
        "position_based_weights = { first = 0.5, middle = 0.0, last = 0.5 }\n"
        'custom_weights = ["first_touch=0.6", "between=0.4"]\n'
        "[settings.touch_type_weights]\n"
        "form_fill = 2\n",
        encoding="utf-8",
    )
    config = resolve_run(run_file, environ={}, check_inputs=False).config()
    assert config.intervals.replicates == 25
    assert config.fx.base_currency == "EUR"
    assert config.weights.position_based == {"first": 0.5, "middle": 0.0, "last": 0.5}
    assert config.weights.custom == {"first_touch": 0.6, "between": 0.4}
    assert config.touch_type_weights == {"form_fill": 2.0}
