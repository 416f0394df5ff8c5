"""Markov chain: tiny chains solved by hand, order k, degenerate input, the journey route."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.models import ModelInput, attribute, conservation_errors
from attribution.models.base import journey_channels
from attribution.models.markov import count_journeys, fit_markov, markov
from attribution.models.markov_chain import CONVERSION, NULL, START, markov_attribution
from attribution.models.markov_chain import fit_chain as build_chain


def markov_fit(inputs: ModelInput, config: AttributionConfig) -> SimpleNamespace:
    """The journey route as the pipeline runs it: count, fit, then the model's credits."""
    fit = fit_markov(count_journeys(inputs, config), journey_channels(inputs), config)
    credits = markov(replace(inputs, fitted_fractions={"markov": fit.fractions}), config)
    return SimpleNamespace(credits=credits, removal_effects=fit.removal_effects)


def paths(*rows: tuple[list[str], int, int, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "path": [r[0] for r in rows],
            "conversions": [r[1] for r in rows],
            "nulls": [r[2] for r in rows],
            "value": [r[3] for r in rows],
        },
        schema={"path": pl.List(pl.String), "conversions": pl.Int64, "nulls": pl.Int64, "value": pl.Float64},
    )


def as_dict(frame: pl.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(frame["channel"], frame[column], strict=True))


def test_two_channel_chain_by_hand():
    # paths: (a) 2 conv; (b) 1 conv + 1 null; (a, b) 1 conv.
    # counts: start->a 3, start->b 2; a->conv 2, a->b 1; b->conv 2, b->null 1
    # x_b = 2/3; x_a = 2/3 + 1/3 * x_b = 8/9; P = 3/5 * 8/9 + 2/5 * 2/3 = 0.8
    # without a: P = 2/5 * 2/3 = 4/15 -> RE_a = 1 - (4/15)/0.8 = 2/3
    # without b: x_a = 2/3 -> P = 3/5 * 2/3 = 2/5 -> RE_b = 1/2
    # shares: a = (2/3)/(7/6) = 4/7, b = 3/7; 4 conversions, value 700
    chain = build_chain(paths((["a"], 2, 0, 300.0), (["b"], 1, 1, 100.0), (["a", "b"], 1, 0, 300.0)))
    assert chain.p_conversion == pytest.approx(0.8)
    effects = chain.removal_effects
    assert as_dict(effects, "removal_effect") == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 2)}
    assert as_dict(effects, "share") == {"a": pytest.approx(4 / 7), "b": pytest.approx(3 / 7)}
    assert as_dict(effects, "attributed_conversions") == {
        "a": pytest.approx(16 / 7),
        "b": pytest.approx(12 / 7),
    }
    assert as_dict(effects, "attributed_value") == {"a": pytest.approx(400.0), "b": pytest.approx(300.0)}
    # the graph carries counts and probabilities
    assert chain.graph.edges[START, "a"]["count"] == 3
    assert chain.graph.edges["b", NULL]["probability"] == pytest.approx(1 / 3)
    assert chain.graph.edges["a", CONVERSION]["probability"] == pytest.approx(2 / 3)


def test_order_two_differs_from_order_one():
    # paths (a, b) conv, (b, a) null.
    # order 1: start->a 1/2, start->b 1/2; a->b 1/2, a->null 1/2; b->conv 1/2, b->a 1/2
    #   x_a = x_b / 2, x_b = 1/2 + x_a / 2 -> x_b = 2/3, x_a = 1/3; P = 1/2
    #   without a: P = 1/2 * 1/2 = 1/4 -> RE_a = 1/2; without b: P = 0 -> RE_b = 1
    #   shares 1/3, 2/3
    # order 2: states a, b, "a > b", "b > a"; the only converting route is a -> a > b.
    #   removing either channel removes "a > b": RE_a = RE_b = 1, shares 1/2, 1/2
    data = paths((["a", "b"], 1, 0, 1.0), (["b", "a"], 0, 1, 0.0))
    first = markov_attribution(data, order=1)
    second = build_chain(data, order=2)
    assert as_dict(first, "share") == {"a": pytest.approx(1 / 3), "b": pytest.approx(2 / 3)}
    assert as_dict(first, "removal_effect") == {"a": pytest.approx(0.5), "b": pytest.approx(1.0)}
    assert second.p_conversion == pytest.approx(0.5)
    assert as_dict(second.removal_effects, "share") == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}
    assert {"a > b", "b > a"} <= set(second.graph.nodes)


def test_collapse_repeats_changes_states_at_order_two_not_results_at_order_one():
    # At order 1 a self-loop only rescales the other outgoing probabilities of its state,
    # x_a = sum_{s != a} p_as x_s / (1 - p_aa), which is exactly the chain without it.
    data = paths((["a", "a", "b"], 3, 1, 3.0), (["a", "b", "b"], 1, 2, 1.0), (["b", "a"], 1, 1, 1.0))
    kept = build_chain(data, order=1, collapse_repeats=False)
    collapsed = build_chain(data, order=1, collapse_repeats=True)
    assert kept.graph.has_edge("a", "a") and not collapsed.graph.has_edge("a", "a")
    assert kept.p_conversion == pytest.approx(collapsed.p_conversion)
    assert as_dict(kept.removal_effects, "share") == pytest.approx(
        as_dict(collapsed.removal_effects, "share")
    )
    kept2 = build_chain(data, order=2, collapse_repeats=False)
    collapsed2 = build_chain(data, order=2, collapse_repeats=True)
    assert "a > a" in kept2.graph.nodes and "a > a" not in collapsed2.graph.nodes


def test_agrees_with_the_fundamental_matrix_on_random_paths():
    # second exact method: B = (I - Q)^-1 R with dense numpy, from the transition table
    rng = np.random.default_rng(11)
    channels = list("abcdef")
    rows = []
    for _ in range(300):
        n = int(rng.integers(1, 8))
        conv = int(rng.integers(0, 3))
        rows.append(
            (
                [channels[i] for i in rng.integers(0, 6, size=n)],
                conv,
                int(rng.integers(0 if conv else 1, 3)),
                float(conv * 10),
            )
        )
    for order in (1, 2, 3):
        chain = build_chain(paths(*rows), order=order)
        table = chain.transitions
        transient = [START, *sorted(set(table["from_state"]) - {START})]
        index = {s: i for i, s in enumerate(transient)}
        q = np.zeros((len(transient), len(transient)))
        r = np.zeros(len(transient))
        for f, t, _, p in table.iter_rows():
            if t == CONVERSION:
                r[index[f]] += p
            elif t != NULL:
                q[index[f], index[t]] += p
        fundamental = np.linalg.inv(np.eye(len(transient)) - q)
        assert chain.p_conversion == pytest.approx(float((fundamental @ r)[0]), rel=1e-10)
        assert chain.removal_effects["share"].sum() == pytest.approx(1.0)


def test_no_converting_paths_gives_zero_effects():
    result = markov_attribution(paths((["a", "b"], 0, 3, 0.0), (["b"], 0, 1, 0.0)))
    assert result["channel"].to_list() == ["a", "b"]
    assert result["removal_effect"].to_list() == [0.0, 0.0]
    assert result["share"].to_list() == [0.0, 0.0]


def test_no_null_paths_converts_with_certainty():
    # (a) conv, (a, b) conv: start->a 1; a->conv 1/2, a->b 1/2; b->conv 1. P = 1
    # without a: 0 -> RE_a = 1; without b: P = 1/2 -> RE_b = 1/2; shares 2/3, 1/3
    chain = build_chain(paths((["a"], 1, 0, 1.0), (["a", "b"], 1, 0, 1.0)))
    assert chain.p_conversion == pytest.approx(1.0)
    assert as_dict(chain.removal_effects, "share") == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}


def test_single_channel_takes_everything():
    result = markov_attribution(paths((["a"], 3, 1, 30.0), (["a", "a"], 1, 0, 10.0)))
    assert as_dict(result, "removal_effect") == {"a": pytest.approx(1.0)}
    assert as_dict(result, "attributed_value") == {"a": pytest.approx(40.0)}
    assert as_dict(result, "attributed_conversions") == {"a": pytest.approx(4.0)}


def test_channel_only_in_null_paths_has_zero_effect():
    # start->a 1/2 (-> conv), start->c 1/2 (-> null): removing c changes nothing
    result = markov_attribution(paths((["a"], 1, 0, 1.0), (["c"], 0, 1, 0.0)))
    assert as_dict(result, "removal_effect") == {"a": pytest.approx(1.0), "c": pytest.approx(0.0)}
    assert as_dict(result, "share") == {"a": pytest.approx(1.0), "c": 0.0}


def test_paths_longer_than_a_thousand_touches():
    # 1,500 alternating touches a, b, a, b, ... converting, plus (a) null.
    # a -> b 750, a -> null 1; b -> a 749, b -> conv 1; start -> a 2.
    # x_a = 750/751 x_b, x_b = 749/750 x_a + 1/750  (solved below by hand's 2x2 system)
    long_path = ["a", "b"] * 750
    chain = build_chain(paths((long_path, 1, 0, 5.0), (["a"], 0, 1, 0.0)))
    system = np.array([[1.0, -750 / 751], [-749 / 750, 1.0]])
    x_a, _ = np.linalg.solve(system, np.array([0.0, 1 / 750]))
    assert chain.p_conversion == pytest.approx(x_a, rel=1e-9)
    assert chain.removal_effects["share"].sum() == pytest.approx(1.0)


def test_empty_frame_gives_empty_result():
    empty = paths()
    result = markov_attribution(empty)
    assert result.is_empty()
    assert result.columns == [
        "channel",
        "removal_effect",
        "share",
        "attributed_conversions",
        "attributed_value",
    ]


def test_bad_order_and_missing_columns_are_clear_errors():
    with pytest.raises(ValueError, match="order"):
        markov_attribution(paths((["a"], 1, 0, 1.0)), order=5)
    with pytest.raises(ValueError, match="nulls"):
        markov_attribution(pl.DataFrame({"path": [["a"]], "conversions": [1]}))


# ---- the journey route -------------------------------------------------------------------


def journeys(rows: list[tuple[str, list[str]]], kind: str = "pipeline") -> pl.DataFrame:
    records = []
    for opportunity_id, channels in rows:
        for i, channel in enumerate(channels, start=1):
            records.append(
                (
                    kind,
                    opportunity_id,
                    f"{opportunity_id}-{i}",
                    channel,
                    i,
                    len(channels),
                    float(len(channels) - i),
                )
            )
    return pl.DataFrame(
        records,
        schema=[
            "journey_kind",
            "opportunity_id",
            "touchpoint_id",
            "channel",
            "position",
            "touch_count",
            "days_before_event",
        ],
        orient="row",
    )


def values(amounts: dict[str, float], kind: str = "pipeline") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "journey_kind": [kind] * len(amounts),
            "opportunity_id": list(amounts),
            "journey_amount": list(amounts.values()),
        }
    )


def null_paths(rows: list[list[str]], kind: str = "pipeline") -> pl.DataFrame:
    records = [(kind, f"n{j}", i, c) for j, chans in enumerate(rows) for i, c in enumerate(chans, start=1)]
    return pl.DataFrame(records, schema=["journey_kind", "path_id", "position", "channel"], orient="row")


def test_journey_credits_reach_the_canonical_conversions_when_reachable():
    touches = journeys([("o1", ["a", "b"]), ("o2", ["b", "c"]), ("o3", ["a", "c", "c"]), ("o4", ["c", "a"])])
    amounts = values({"o1": 100.0, "o2": 200.0, "o3": 50.0, "o4": 150.0})
    inputs = ModelInput(
        journey_touches=touches,
        journey_values=amounts,
        null_path_touches=null_paths([["b"], ["c", "b"], ["a"]]),
    )
    fit = markov_fit(inputs, AttributionConfig())
    credits = fit.credits.with_columns(model=pl.lit("markov"))
    assert conservation_errors(credits).is_empty()
    effects = fit.removal_effects
    # canonical conversions = share x 4 converting journeys; the per-journey fit reaches them
    for channel, canonical, fitted in effects.select(
        "channel", "canonical_conversions", "fitted_conversions"
    ).iter_rows():
        assert fitted == pytest.approx(canonical, abs=1e-6), channel
    # the credits add up to the fitted conversions, and value follows each journey's amount
    joined = credits.join(amounts, on=["journey_kind", "opportunity_id"])
    by_channel = joined.group_by("channel").agg(
        conversions=pl.col("credit").sum(), value=(pl.col("credit") * pl.col("journey_amount")).sum()
    )
    for channel, conversions, value in by_channel.iter_rows():
        assert conversions == pytest.approx(as_dict(effects, "fitted_conversions")[channel], abs=1e-6)
        assert value == pytest.approx(as_dict(effects, "fitted_value")[channel], abs=1e-6)


def test_markov_value_follows_deal_size():
    # Converting: [a] x3 worth 300 each, [a, b] worth 100; non-converting: [a] x5.
    # Transitions: start->a 9; a->conv 3, a->null 5, a->b 1; b->conv 1.
    # P = P(a) = 3/9 + 1/9 * 1 = 4/9. Without a: 0, RE_a = 1. Without b: 3/9, RE_b = 1/4.
    # Shares a = 0.8, b = 0.2: canonical conversions 3.2 and 0.8 of 4 (reachable: the [a, b]
    # journey gives a 0.2, b 0.8). Value then follows deal size: a = 900 + 20 = 920,
    # b = 80, although share x total value would give b 200, twice the 100 it ever touched.
    touches = journeys([("o1", ["a"]), ("o2", ["a"]), ("o3", ["a"]), ("o4", ["a", "b"])])
    inputs = ModelInput(
        journey_touches=touches,
        journey_values=values({"o1": 300.0, "o2": 300.0, "o3": 300.0, "o4": 100.0}),
        null_path_touches=null_paths([["a"], ["a"], ["a"], ["a"], ["a"]]),
    )
    fit = markov_fit(inputs, AttributionConfig())
    effects = fit.removal_effects
    assert as_dict(effects, "share")["b"] == pytest.approx(0.2)
    assert as_dict(effects, "canonical_value")["b"] == pytest.approx(200.0)
    assert as_dict(effects, "fitted_conversions")["a"] == pytest.approx(3.2, abs=1e-6)
    assert as_dict(effects, "fitted_value")["a"] == pytest.approx(920.0, abs=1e-4)
    assert as_dict(effects, "fitted_value")["b"] == pytest.approx(80.0, abs=1e-4)
    o4 = fit.credits.filter(pl.col("opportunity_id") == "o4")
    assert dict(zip(o4["channel"], o4["credit"], strict=False)) == pytest.approx(
        {"a": 0.2, "b": 0.8}, abs=1e-6
    )


def test_single_channel_journeys_bound_an_unreachable_total():
    # Converting: [a] x2; non-converting: [b, a] x2. start->a 2, start->b 2, b->a 2,
    # a->conv 2, a->null 2: P(a) = 1/2 = P. Without a: 0 (RE 1); without b: 2/4 * 1/2 = 1/4
    # (RE 1/2). Shares 2/3 and 1/3: canonical conversions a 4/3, b 2/3. But both converting
    # journeys are a alone: a must get both (its bound, 2), b gets 0; the gap of 2/3 is reported.
    touches = journeys([("o1", ["a"]), ("o2", ["a"])])
    inputs = ModelInput(
        journey_touches=touches,
        journey_values=values({"o1": 300.0, "o2": 500.0}),
        null_path_touches=null_paths([["b", "a"], ["b", "a"]]),
    )
    fit = markov_fit(inputs, AttributionConfig())
    effects = fit.removal_effects
    assert as_dict(effects, "canonical_conversions")["a"] == pytest.approx(4 / 3)
    assert as_dict(effects, "fitted_conversions")["a"] == pytest.approx(2.0)
    assert as_dict(effects, "fitted_conversions")["b"] == pytest.approx(0.0)
    assert as_dict(effects, "conversion_gap")["b"] == pytest.approx(-2 / 3)
    assert as_dict(effects, "fitted_value")["a"] == pytest.approx(800.0)
    credits = fit.credits.with_columns(model=pl.lit("markov"))
    assert conservation_errors(credits).is_empty()


def test_touches_of_one_channel_split_its_fraction_equally():
    touches = journeys([("o1", ["a", "b", "a"]), ("o2", ["b"])])
    inputs = ModelInput(touches, values({"o1": 10.0, "o2": 10.0}), null_paths([["a"]]))
    credits = markov_fit(inputs, AttributionConfig()).credits
    o1 = credits.filter(pl.col("opportunity_id") == "o1")
    a_credits = o1.filter(pl.col("channel") == "a")["credit"].to_list()
    assert a_credits[0] == pytest.approx(a_credits[1])
    assert o1["credit"].sum() == pytest.approx(1.0)


def test_markov_is_in_the_registry_and_conserves_with_empty_journeys():
    touches = journeys([("o1", ["a", "b"]), ("o2", ["b"])])
    inputs = ModelInput(touches, values({"o1": 10.0, "o2": 5.0, "o3": 7.0}), null_paths([["a"]]))
    credits = attribute(inputs, AttributionConfig())
    assert "markov" in set(credits["model"])
    assert conservation_errors(credits).is_empty()
    none_row = credits.filter((pl.col("model") == "markov") & (pl.col("opportunity_id") == "o3"))
    assert none_row["channel"].to_list() == ["(none)"]


def test_iterative_solver_for_large_chains_matches_the_direct_one(monkeypatch):
    # force the BiCGSTAB branch (used above DIRECT_SOLVE_MAX_STATES states) on a small chain
    import attribution.models.markov_chain as markov_module

    rng = np.random.default_rng(5)
    rows = [
        (
            [str(c) for c in rng.integers(0, 5, size=int(rng.integers(1, 9)))],
            int(k % 2),
            int((k + 1) % 2 + (k % 3 == 0)),
            1.0,
        )
        for k in range(400)
    ]
    direct = build_chain(paths(*rows), order=3)
    monkeypatch.setattr(markov_module, "DIRECT_SOLVE_MAX_STATES", 1)
    iterative = build_chain(paths(*rows), order=3)
    assert iterative.p_conversion == pytest.approx(direct.p_conversion, rel=1e-10)
    assert iterative.removal_effects["removal_effect"].to_list() == pytest.approx(
        direct.removal_effects["removal_effect"].to_list(), rel=1e-9, abs=1e-12
    )


def test_the_model_fits_its_own_chain_without_fractions():
    # the registry's function alone (no pipeline): same credits as with the fitted fractions
    touches = journeys([("o1", ["a", "b"]), ("o2", ["b", "c"]), ("o3", ["a"])])
    inputs = ModelInput(touches, values({"o1": 10.0, "o2": 5.0, "o3": 7.0}), null_paths([["a"], ["c", "b"]]))
    alone = markov(inputs, AttributionConfig()).sort("opportunity_id", "touchpoint_id")
    fitted = markov_fit(inputs, AttributionConfig()).credits.sort("opportunity_id", "touchpoint_id")
    assert alone.equals(fitted)


def test_pair_keys_are_ordered_like_from_then_to_and_decode_back():
    # Every (from, to) pair an order-3 chain over four channels can count: the steps from
    # start and from each state into each channel's shifted state, into conversion and null.
    # Their keys sort exactly as the (from, to) pairs do, and decode to the same codes.
    from attribution.models import markov_paths as chain

    base, order = 5, 3
    states = [
        s for s in range(1, base**order) if all((s // base**i) % base or s < base**i for i in range(order))
    ]
    pairs = []
    for origin in [chain.START_CODE, *states]:
        for channel in range(4):
            pairs.append((origin, (max(origin, 0) * base + channel + 1) % base**order))
        pairs += [(origin, chain.CONVERSION_CODE), (origin, chain.NULL_CODE)]
    from_code = np.array([f for f, _ in pairs])
    to_code = np.array([t for _, t in pairs])
    keys = chain.pair_keys(from_code, to_code, 4)
    assert len(set(keys.tolist())) == len(pairs)
    assert [pairs[i] for i in np.argsort(keys)] == sorted(pairs)
    decoded_from, decoded_to = chain.pair_codes(keys, 4, order)
    assert decoded_from.tolist() == from_code.tolist() and decoded_to.tolist() == to_code.tolist()


@pytest.mark.parametrize(("order", "collapse"), [(1, False), (2, False), (3, True), (4, False)])
def test_counts_are_the_same_from_strings_enums_and_integer_codes_by_table_or_by_sort(
    order, collapse, monkeypatch
):
    # The same random paths (with repeats, an empty path and a null channel) counted from
    # list[str], list[Enum] (categories in another order than the channels) and list of
    # integer codes, by the dense pair table and by the sorted route the table falls back to
    # for large state spaces: every count identical, and equal to the bootstrap's uncounted
    # rows summed by hand (an independent route through TransitionRows).
    from attribution.models import markov_paths as chain

    rng = np.random.default_rng(5)
    channels = ("a", "b", "c", "d")
    paths_list = [list(rng.choice(channels, size=int(rng.integers(1, 7)))) for _ in range(300)]
    paths_list += [[], ["a", None, "a"]]
    frame = pl.DataFrame(
        {
            "path": paths_list,
            "conversions": rng.integers(0, 4, size=len(paths_list)),
            "nulls": rng.integers(0, 4, size=len(paths_list)),
        }
    )
    as_enum = frame.with_columns(pl.col("path").cast(pl.List(pl.Enum(["d", "c", "b", "a"]))))
    as_codes = frame.with_columns(
        pl.col("path").list.eval(pl.element().replace_strict({c: i for i, c in enumerate(channels)}))
    )

    def counted(paths: pl.DataFrame) -> tuple[object, ...]:
        counts = chain.count_transitions(paths, order, collapse, channels=channels)
        return (counts.from_code.tolist(), counts.to_code.tolist(), counts.count.tolist())

    expected = counted(frame)
    assert counted(as_enum) == expected
    assert counted(as_codes) == expected
    rows = chain.transition_rows(frame, order, collapse, channels)
    both = frame["conversions"].to_numpy() + frame["nulls"].to_numpy()
    weights = np.stack([both, frame["conversions"].to_numpy(), frame["nulls"].to_numpy()])
    by_hand: dict[tuple[int, int], float] = {}
    for f, t, p, e in zip(rows.from_code, rows.to_code, rows.path_of, rows.ending, strict=True):
        by_hand[(int(f), int(t))] = by_hand.get((int(f), int(t)), 0.0) + float(weights[e, p])
    pairs = sorted(k for k, v in by_hand.items() if v > 0)
    assert expected == ([f for f, _ in pairs], [t for _, t in pairs], [by_hand[k] for k in pairs])
    monkeypatch.setattr(chain, "DENSE_PAIR_LIMIT", 0)  # every pair by sorting
    assert counted(frame) == expected
    with pytest.raises(ValueError, match="outside"):
        chain.count_transitions(as_codes.with_columns(pl.lit([9]).alias("path")), order, channels=channels)
