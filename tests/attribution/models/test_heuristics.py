"""Heuristic models on tiny hand-built journeys; expected credits worked out in comments."""

from __future__ import annotations

import math

import polars as pl
import pytest

from attribution.config import AttributionConfig, ModelWeights
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.models import MODELS, ModelInput, attribute, conservation_errors
from attribution.models.heuristics import first_touch, last_touch, linear, time_decay


def journey(
    opportunity_id: str,
    touches: list[tuple[str, str, float]],
    journey_kind: str = "pipeline",
) -> pl.DataFrame:
    """touches: (touchpoint_id, channel, days_before_event), already in journey order."""
    n = len(touches)
    return pl.DataFrame(
        {
            "journey_kind": [journey_kind] * n,
            "opportunity_id": [opportunity_id] * n,
            "touchpoint_id": [t[0] for t in touches],
            "channel": [t[1] for t in touches],
            "position": list(range(1, n + 1)),
            "touch_count": [n] * n,
            "days_before_event": [t[2] for t in touches],
        },
        schema_overrides={"position": pl.Int64, "touch_count": pl.Int64},
    )


# o1: three touches 10, 3 and 0 days before the event.
O1 = journey("o1", [("t1", "paid_search", 10.0), ("t2", "email", 3.0), ("t3", "webinar", 0.0)])
# o2: one touch.
O2 = journey("o2", [("t9", "event", 5.0)])
CONFIG = AttributionConfig(time_decay_half_life_days=7.0)


def credits_of(model, frame: pl.DataFrame, config: AttributionConfig = CONFIG) -> dict[str, float]:
    out = model(ModelInput(journey_touches=frame), config)
    return dict(zip(out["touchpoint_id"], out["credit"], strict=True))


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (first_touch, {"t1": 1.0, "t2": 0.0, "t3": 0.0, "t9": 1.0}),
        (last_touch, {"t1": 0.0, "t2": 0.0, "t3": 1.0, "t9": 1.0}),
        (linear, {"t1": 1 / 3, "t2": 1 / 3, "t3": 1 / 3, "t9": 1.0}),
    ],
)
def test_position_models(model, expected):
    got = credits_of(model, pl.concat([O1, O2]))
    assert got.keys() == expected.keys()
    for touch, credit in expected.items():
        assert got[touch] == pytest.approx(credit, abs=1e-12)


def test_time_decay_exact_weights_for_known_gaps():
    # weights 2^(-10/7), 2^(-3/7), 2^0 ; normalized by their sum
    w = [2 ** (-10 / 7), 2 ** (-3 / 7), 1.0]
    total = sum(w)
    got = credits_of(time_decay, O1)
    assert got["t1"] == pytest.approx(w[0] / total, rel=1e-12)
    assert got["t2"] == pytest.approx(w[1] / total, rel=1e-12)
    assert got["t3"] == pytest.approx(w[2] / total, rel=1e-12)
    # one half-life apart: the nearer touch weighs exactly twice the farther one
    pair = journey("o3", [("a", "email", 14.0), ("b", "email", 7.0)])
    got_pair = credits_of(time_decay, pair)
    assert got_pair == {"a": pytest.approx(1 / 3), "b": pytest.approx(2 / 3)}


def test_time_decay_respects_half_life_config():
    pair = journey("o3", [("a", "email", 2.0), ("b", "email", 0.0)])
    # half-life 1 day: weights 2^-2 = 0.25 and 1 -> credits 0.2 and 0.8
    got = credits_of(time_decay, pair, AttributionConfig(time_decay_half_life_days=1.0))
    assert got == {"a": pytest.approx(0.2), "b": pytest.approx(0.8)}


def test_time_decay_does_not_underflow_for_long_gaps():
    # 2^(-5000/0.5) underflows to 0 in double precision; the shifted exponent keeps ratios exact
    far = journey("o4", [("a", "email", 5000.0), ("b", "event", 4999.5)])
    got = credits_of(time_decay, far, AttributionConfig(time_decay_half_life_days=0.5))
    assert got == {"a": pytest.approx(1 / 3), "b": pytest.approx(2 / 3)}
    assert all(math.isfinite(v) for v in got.values())


def test_single_touch_journey_gets_full_credit_in_every_model():
    for name, model in MODELS.items():
        got = credits_of(model, O2)
        assert got == {"t9": pytest.approx(1.0)}, name


def test_ties_in_time_follow_position_which_breaks_ties_by_touchpoint_id():
    # two touches at the same instant: SQL orders them by touchpoint_id, so 'a' is position 1
    tie = journey("o5", [("a", "email", 1.0), ("b", "webinar", 1.0)])
    assert credits_of(first_touch, tie) == {"a": 1.0, "b": 0.0}
    assert credits_of(last_touch, tie) == {"a": 0.0, "b": 1.0}
    assert credits_of(time_decay, tie) == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}


def test_empty_journey_goes_to_none_bucket_in_every_model():
    values = pl.DataFrame(
        {
            "journey_kind": ["pipeline", "pipeline"],
            "opportunity_id": ["o1", "empty"],
            "journey_amount": [100.0, 50.0],
        }
    )
    credits = attribute(ModelInput(journey_touches=O1, journey_values=values), CONFIG)
    none_rows = credits.filter(pl.col("channel") == UNATTRIBUTED_CHANNEL)
    assert sorted(none_rows["model"].to_list()) == sorted(MODELS)
    assert none_rows["opportunity_id"].unique().to_list() == ["empty"]
    assert none_rows["credit"].to_list() == [1.0] * len(MODELS)
    assert none_rows["touchpoint_id"].null_count() == len(MODELS)
    assert conservation_errors(credits).is_empty()


def test_conservation_errors_catches_a_broken_model():
    def broken(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
        return linear(inputs, config).with_columns(pl.col("credit") * 0.9)

    credits = attribute(ModelInput(journey_touches=O1), CONFIG, {"broken": broken})
    errors = conservation_errors(credits)
    assert errors["opportunity_id"].to_list() == ["o1"]
    assert errors["credit_sum"][0] == pytest.approx(0.9)


def test_every_model_conserves_credit_on_many_random_journeys():
    import numpy as np

    rng = np.random.default_rng(3)
    frames = []
    for j in range(200):
        n = int(rng.integers(1, 30))
        days = np.sort(rng.uniform(0, 90, size=n))[::-1]
        frames.append(
            journey(f"o{j}", [(f"t{j}-{i}", f"c{rng.integers(0, 5)}", float(d)) for i, d in enumerate(days)])
        )
    credits = attribute(ModelInput(journey_touches=pl.concat(frames)), CONFIG)
    assert conservation_errors(credits).is_empty()
    assert credits["credit"].min() >= 0


@pytest.mark.parametrize(
    ("n", "weights", "expected"),
    [
        # one touch takes everything
        (1, (0.4, 0.2, 0.4), [1.0]),
        # two touches: no middle; its 20% goes to first and last in proportion 0.4 : 0.4
        (2, (0.4, 0.2, 0.4), [0.5, 0.5]),
        # three touches: 40 / 20 / 40
        (3, (0.4, 0.2, 0.4), [0.4, 0.2, 0.4]),
        # five touches: the middle 20% shared by three: 0.2 / 3 each
        (5, (0.4, 0.2, 0.4), [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4]),
        # custom weights 30 / 40 / 30: two touches 0.3 : 0.3 -> 50/50; four touches 0.2 each middle
        (2, (0.3, 0.4, 0.3), [0.5, 0.5]),
        (4, (0.3, 0.4, 0.3), [0.3, 0.2, 0.2, 0.3]),
        # unequal first/last with no middle: 0.5 : 0.3 -> 0.625 / 0.375
        (2, (0.5, 0.2, 0.3), [0.625, 0.375]),
    ],
)
def test_position_based_by_hand(n, weights, expected):
    from attribution.models.heuristics import position_based

    touches = journey("o", [(f"t{i}", "email", float(n - i)) for i in range(n)])
    first, middle, last = weights
    config = AttributionConfig(
        weights=ModelWeights(position_based={"first": first, "middle": middle, "last": last})
    )
    credits = position_based(ModelInput(touches), config)
    assert credits["credit"].to_list() == pytest.approx(expected)
    assert conservation_errors(credits.with_columns(model=pl.lit("position_based"))).is_empty()


def test_position_based_weights_are_validated():
    with pytest.raises(ValueError, match="position_based_weights"):
        ModelWeights(position_based={"first": 0.5, "middle": 0.5, "last": 0.5})
    with pytest.raises(ValueError, match="position_based_weights"):
        ModelWeights(position_based={"first": 0.0, "middle": 1.0, "last": 0.0})
    with pytest.raises(ValueError, match="position_based_weights must weigh exactly first, middle, last"):
        ModelWeights(position_based={"first": 0.5, "last": 0.5})


def test_the_models_setting_selects_and_orders_the_registry():
    from attribution.models import UnknownModelError, select_models

    assert list(select_models(AttributionConfig())) == list(MODELS)
    assert list(select_models(AttributionConfig(models=("markov", "linear")))) == ["markov", "linear"]
    with pytest.raises(UnknownModelError, match=r"shapely.*choose from first_touch"):
        select_models(AttributionConfig(models=("shapely",)))


def test_touch_type_weights_in_linear_and_time_decay():
    # o1 touches: t1 'form_fill' weight 3, t2 'email_click' weight 1 (unlisted), t3 no type (1).
    touches = O1.with_columns(touch_type=pl.Series(["form_fill", "email_click", None]))
    config = AttributionConfig(touch_type_weights={"form_fill": 3})
    # linear: 3 : 1 : 1 -> 0.6, 0.2, 0.2
    assert linear(ModelInput(touches), config)["credit"].to_list() == pytest.approx([0.6, 0.2, 0.2])
    # time decay (half-life 7): raw weights 2^(-10/7), 2^(-3/7), 1 -> times 3, 1, 1, normalized
    raw = [3 * 2 ** (-10 / 7), 2 ** (-3 / 7), 1.0]
    assert time_decay(ModelInput(touches), config)["credit"].to_list() == pytest.approx(
        [w / sum(raw) for w in raw]
    )
    with pytest.raises(ValueError, match="touch_type_weights"):
        AttributionConfig(touch_type_weights={"form_fill": -1})


def test_fraction_models_read_fractions_carried_by_the_touches_as_from_their_frames():
    # The pipeline joins the fitted Markov and Shapley fractions to each touch in DuckDB
    # (markov_fraction, shapley_fraction, channel_touch_count); the models then read those
    # columns. The same fractions given as frames (joined in polars) give the same credits,
    # and a touch without a fitted fraction has a null credit on both routes.
    import numpy as np

    from attribution.models.markov import markov
    from attribution.models.shapley import shapley

    rng = np.random.default_rng(8)
    touches = pl.concat(
        journey(f"o{j}", [(f"t{j}-{i}", f"c{rng.integers(0, 4)}", float(10 - i)) for i in range(1 + j % 5)])
        for j in range(40)
    )
    per_channel = touches.group_by("journey_kind", "opportunity_id", "channel").agg(
        channel_touch_count=pl.len().cast(pl.UInt32)
    )
    fractions = {
        name: per_channel.with_columns(fraction=pl.Series(rng.random(per_channel.height))).filter(
            pl.col("opportunity_id") != "o3"
        )  # no fit row for one journey
        for name in ("markov", "shapley")
    }
    key = ["journey_kind", "opportunity_id", "channel"]
    carried = touches.join(
        fractions["markov"].select(*key, "channel_touch_count", markov_fraction="fraction"),
        on=key,
        how="left",
    ).join(fractions["shapley"].select(*key, shapley_fraction="fraction"), on=key, how="left")
    from_frames = ModelInput(
        touches, fitted_fractions={"markov": fractions["markov"], "shapley": fractions["shapley"]}
    )
    for model in (markov, shapley):
        expected = model(from_frames, CONFIG).sort("opportunity_id", "touchpoint_id")
        got = model(ModelInput(carried), CONFIG).sort("opportunity_id", "touchpoint_id")
        assert got.equals(expected)
        assert got.filter(pl.col("opportunity_id") == "o3")["credit"].null_count() > 0


def test_repeats_of_a_channel_merge_into_one_step_when_asked():
    # one journey: email, email, webinar, email (positions 1-4). Merged (Snowplow's way) the
    # steps are email(t1), webinar(t3), email(t4): linear gives each step 1/3, held by the
    # run's first touch (t2 gets 0); unmerged (ChannelAttribution, DP6) each touch 1/4.
    # position_based merged: 0.4 / 0.2 / 0.4 over three steps; last_touch is t4 either way.
    import polars as pl

    from attribution.config import AttributionConfig
    from attribution.models import ModelInput, attribute_wide

    touches = pl.DataFrame(
        {
            "journey_kind": ["pipeline"] * 4,
            "opportunity_id": ["o1"] * 4,
            "touchpoint_id": ["t1", "t2", "t3", "t4"],
            "channel": ["email", "email", "webinar", "email"],
            "position": pl.Series([1, 2, 3, 4], dtype=pl.UInt32),
            "touch_count": pl.Series([4, 4, 4, 4], dtype=pl.UInt32),
            "days_before_event": [3.0, 2.0, 1.0, 0.0],
        }
    )
    models = {name: MODELS[name] for name in ("linear", "position_based", "last_touch", "first_touch")}
    plain = attribute_wide(ModelInput(touches), AttributionConfig(), models)
    assert plain["linear"].to_list() == [0.25] * 4
    merged = attribute_wide(
        ModelInput(touches), AttributionConfig(merge_repeated_channels=("linear", "position_based")), models
    )
    assert merged["linear"].to_list() == pytest.approx([1 / 3, 0.0, 1 / 3, 1 / 3])
    assert merged["position_based"].to_list() == pytest.approx([0.4, 0.0, 0.2, 0.4])
    assert merged["last_touch"].to_list() == [0.0, 0.0, 0.0, 1.0]
    # channel totals: email 2/3, webinar 1/3 merged; email 3/4 unmerged
    assert merged.filter(pl.col("channel") == "email")["linear"].sum() == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="merge_repeated_channels names markov"):
        AttributionConfig(merge_repeated_channels=("markov",))
