"""The model specs are the one place a model's facts live: every model of the registry has a
definition and an order, its parameters are settings, and a fitted model has what the
pipeline's credit pass reads (its fractions table and its column in the touches' read)."""

from __future__ import annotations

from attribution.config import AttributionConfig, setting_types
from attribution.models import MODEL_SPECS, MODELS
from attribution.sql import read_sql
from attribution.sql_graph import sql_reads
from attribution.steps import STEP_OUTPUTS


def test_every_model_has_a_spec_with_a_definition_and_known_settings():
    assert list(MODELS) == list(MODEL_SPECS)
    orders = [spec.order for spec in MODEL_SPECS.values()]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for name, spec in MODEL_SPECS.items():
        assert spec.definition, name
        unknown = set(spec.parameters) - set(setting_types())
        assert not unknown, f"{name} names {unknown}, which are no settings"
        assert set(spec.defaults()) == set(spec.parameters)
        assert spec.resampling in ("exact", "markov_removal_share", "shapley_refit")
        assert (spec.resampling != "exact") == spec.fitted, name
    # the defaults are the config's (one place)
    assert MODEL_SPECS["position_based"].defaults()["position_based_weights"] == (
        AttributionConfig().weights.position_based
    )


def test_a_fitted_model_has_its_fractions_table_and_its_column_in_the_credit_read():
    written = {t for tables, _ in STEP_OUTPUTS.values() for t in tables}
    touches_read = sql_reads("reads/batch_journey_touches.sql")
    text = read_sql("reads/batch_journey_touches.sql")
    fitted = [name for name, spec in MODEL_SPECS.items() if spec.fitted]
    assert fitted == ["markov", "shapley"]
    for name in fitted:
        assert f"int_{name}_fractions" in written, name
        assert f"int_{name}_fractions" in touches_read, name
        assert f"as {name}_fraction" in text, name
