"""Milestone models (w_shaped, full_path, custom) on hand-built journeys, Marketo Measure's
rules each with a worked example; the lead-creation touch from milestones and from touch
types; the milestones input validated and accounted."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from attribution.config import AttributionConfig, ModelWeights
from attribution.models import ModelInput, attribute, conservation_errors
from attribution.models.milestones import custom, full_path, w_shaped
from tests.attribution.models.test_heuristics import journey
from tests.conftest import write_csv


def held(kind: str, opportunity: str, **milestones: str) -> pl.DataFrame:
    rows = [(kind, opportunity, m, t) for m, t in milestones.items()]
    return pl.DataFrame(
        rows, schema=["journey_kind", "opportunity_id", "milestone", "touchpoint_id"], orient="row"
    )


def credits_of(model, touches, milestones, config=None) -> list[float]:
    result = model(ModelInput(touches, milestone_touches=milestones), config or AttributionConfig())
    assert conservation_errors(result.with_columns(model=pl.lit("m"))).is_empty()
    return result["credit"].to_list()


FIVE = journey("o", [(f"t{i}", "email", 5.0 - i) for i in range(1, 6)])


def test_w_shaped_three_milestones_and_a_middle():
    # t1 first, t3 lead, t5 opportunity: 30% each; t2 and t4 share 10%: 5% each
    got = credits_of(
        w_shaped, FIVE, held("pipeline", "o", first_touch="t1", lead_created="t3", opportunity_created="t5")
    )
    assert got == pytest.approx([0.3, 0.05, 0.3, 0.05, 0.3])


def test_w_shaped_coinciding_milestones_take_each_weight():
    # t1 is first touch and lead creation: 30% + 30% = 60%; t5 30%; t2..t4 share 10%
    got = credits_of(
        w_shaped, FIVE, held("pipeline", "o", first_touch="t1", lead_created="t1", opportunity_created="t5")
    )
    assert got == pytest.approx([0.6, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.3])


def test_w_shaped_without_a_middle_gives_it_to_the_milestones():
    # three touches, each a milestone: no touch between, the 10% goes to the milestones in
    # proportion to their weights (30 : 30 : 30): a third each
    three = journey("o", [("a", "email", 2.0), ("b", "webinar", 1.0), ("c", "event", 0.0)])
    got = credits_of(
        w_shaped, three, held("pipeline", "o", first_touch="a", lead_created="b", opportunity_created="c")
    )
    assert got == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_w_shaped_without_a_lead_creation_touch():
    # the lead's 30% goes to first (30) and opportunity (30) in proportion: 0.9 * 30/60 = 45%
    # each; the 10% still goes to the three touches between (t2..t4)
    got = credits_of(w_shaped, FIVE, held("pipeline", "o", first_touch="t1", opportunity_created="t5"))
    assert got == pytest.approx([0.45, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.45])


def test_one_touch_takes_everything_and_two_touches_split_by_weight():
    one = journey("o", [("only", "email", 0.0)])
    assert credits_of(
        w_shaped, one, held("pipeline", "o", first_touch="only", opportunity_created="only")
    ) == [1.0]
    two = journey("o", [("a", "email", 1.0), ("b", "event", 0.0)])
    # a: first + lead (30 + 30), b: opportunity (30); no middle: 60/90 and 30/90
    got = credits_of(
        w_shaped, two, held("pipeline", "o", first_touch="a", lead_created="a", opportunity_created="b")
    )
    assert got == pytest.approx([2 / 3, 1 / 3])


def test_full_path_on_a_won_revenue_journey():
    six = journey("o", [(f"t{i}", "email", 6.0 - i) for i in range(1, 7)], journey_kind="revenue")
    # t1 first, t2 lead, t4 opportunity, t6 closed won: 22.5% each; t3 and t5 share 10%
    milestones = held(
        "revenue", "o", first_touch="t1", lead_created="t2", opportunity_created="t4", closed_won="t6"
    )
    assert credits_of(full_path, six, milestones) == pytest.approx([0.225, 0.225, 0.05, 0.225, 0.05, 0.225])


def test_full_path_on_a_pipeline_journey_is_w_shaped():
    # no closed-won touch: its 22.5% goes to the three held milestones: 22.5 * 4/3 = 30% each
    milestones = held("pipeline", "o", first_touch="t1", lead_created="t3", opportunity_created="t5")
    assert credits_of(full_path, FIVE, milestones) == pytest.approx(credits_of(w_shaped, FIVE, milestones))


def test_custom_weights_with_a_further_milestone():
    weights = {
        "first_touch": 0.2,
        "lead_created": 0.2,
        "mql": 0.2,
        "opportunity_created": 0.3,
        "between": 0.1,
    }
    config = AttributionConfig(weights=ModelWeights(custom=weights))
    # t1 first (20), t2 lead (20), t3 mql (20), t5 opportunity (30); t4 alone between: 10%
    milestones = held(
        "pipeline", "o", first_touch="t1", lead_created="t2", mql="t3", opportunity_created="t5"
    )
    assert credits_of(custom, FIVE, milestones, config) == pytest.approx([0.2, 0.2, 0.2, 0.1, 0.3])


@pytest.mark.parametrize(
    "weights",
    [
        {"first_touch": 0.5, "between": 0.6},  # sums to 1.1
        {"first_touch": -0.1, "between": 1.1},  # a negative weight
        ("first_touch", "between=1"),  # an entry of earlier versions without its weight
        ("a=0.5", "a=0.5"),  # a position twice
    ],
)
def test_custom_weights_are_validated(weights):
    with pytest.raises(ValueError, match="custom_weights"):
        ModelWeights(custom=weights)


def test_an_empty_journey_goes_to_none_in_every_milestone_model():
    inputs = ModelInput(
        FIVE,
        pl.DataFrame(
            {
                "journey_kind": ["pipeline", "pipeline"],
                "opportunity_id": ["o", "empty"],
                "journey_amount": [1.0, 2.0],
            }
        ),
    )
    credits = attribute(inputs, AttributionConfig())
    for model in ("w_shaped", "full_path", "custom"):
        rows = credits.filter((pl.col("model") == model) & (pl.col("opportunity_id") == "empty"))
        assert rows["channel"].to_list() == ["(none)"] and rows["credit"].to_list() == [1.0]


def test_lead_creation_touch_from_milestones_then_touch_types(conn, tmp_path):
    # account a: lead_created at 03-10 12:00: the last touch at or before it is 'visit2' (03-10
    # 09:00), not the form fill after it. account b: no milestone: its first form_fill is the
    # lead-creation touch. account c: neither: no lead-creation row.
    from attribution.journeys import build_journeys
    from attribution.pipeline import SourcePaths, run_pipeline

    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel", "touch_type"],
        [
            ["visit1", "2026-03-01T09:00:00Z", "a", "organic", "visit"],
            ["visit2", "2026-03-10T09:00:00Z", "a", "paid_search", "click"],
            ["form_a", "2026-03-11T09:00:00Z", "a", "webinar", "form_fill"],
            ["b_visit", "2026-03-01T09:00:00Z", "b", "email", "email_click"],
            ["b_form", "2026-03-05T09:00:00Z", "b", "content", "form_fill"],
            ["b_form2", "2026-03-06T09:00:00Z", "b", "content", "form_fill"],
            ["c_visit", "2026-03-05T09:00:00Z", "c", "direct", "visit"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [
            ["oa", "a", "2026-03-20", "open", "1"],
            ["ob", "b", "2026-03-20", "open", "1"],
            ["oc", "c", "2026-03-20", "open", "1"],
        ],
    )
    milestones = write_csv(
        tmp_path / "m.csv",
        ["account_id", "milestone", "occurred_at"],
        [["a", "Lead Created", "2026-03-10T12:00:00Z"], ["a", "lead_created", "2026-03-12T12:00:00Z"]],
    )
    config = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1))
    run_pipeline(conn, SourcePaths(touches, opportunities, None, milestones), config)
    build_journeys(conn, config)
    lead = conn.sql(
        "select opportunity_id, touchpoint_id, held_by from int_journey_milestones "
        "where journey_kind = 'pipeline' and milestone = 'lead_created' order by 1"
    ).fetchall()
    assert lead == [("oa", "visit2", "milestones"), ("ob", "b_form", "touch_type")]


def test_milestones_input_is_validated_and_accounted(conn, tmp_path):
    from attribution.ingest import load_source

    path = write_csv(
        tmp_path / "m.csv",
        ["account_id", "contact_id", "milestone", "occurred_at"],
        [
            ["a", "c1", "Lead Created", "2026-01-01"],  # staged: milestone lead_created
            ["a", "c1", "lead_created", "2026-01-01"],  # the same milestone again: duplicate_id
            ["", "c2", "mql", "2026-01-02"],  # missing_required
            ["b", "", "mql", "soon"],  # bad_timestamp
            ["b", "", "sql", "2099-01-01"],  # future_timestamp
            ["b", "", "sql", "2026-07-01"],  # after as-of: counted
        ],
    )
    result = load_source(
        conn,
        "milestones",
        path,
        AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 11, 25)),
    )
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows, result.after_as_of_rows) == (
        6,
        1,
        4,
        1,
    )
    assert conn.sql("select milestone from stg_milestones").fetchall() == [("lead_created",)]
    assert dict(conn.sql("select source_row, reason from quarantine").fetchall()) == {
        2: "duplicate_id",
        3: "missing_required",
        4: "bad_timestamp",
        5: "future_timestamp",
    }


def test_ties_in_time_are_ordered_by_touchpoint_id(conn, tmp_path):
    # t_b and t_a at the same instant: t_a is first (touchpoint_id order), t_b is the middle
    from attribution.pipeline import SourcePaths, run_pipeline

    touches = write_csv(
        tmp_path / "t.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel"],
        [
            ["t_b", "2026-03-01T09:00:00Z", "a", "email"],
            ["t_a", "2026-03-01T09:00:00Z", "a", "event"],
            ["t_c", "2026-03-05T09:00:00Z", "a", "webinar"],
        ],
    )
    opportunities = write_csv(
        tmp_path / "o.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount"],
        [["o", "a", "2026-03-10", "open", "100"]],
    )
    config = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1))
    run_pipeline(conn, SourcePaths(touches, opportunities), config)
    credits = dict(
        ((m, t), c)
        for m, t, c in conn.sql(
            "select model, touchpoint_id, credit from mart_attribution_credits where journey_kind = 'pipeline'"
        ).fetchall()
    )
    # position_based 40 / 20 / 40; w_shaped: t_a first (30), t_c opportunity (30), no lead
    # touch: its 30 goes to them equally (45 each), t_b alone between: 10
    assert (
        credits["position_based", "t_a"],
        credits["position_based", "t_b"],
        credits["position_based", "t_c"],
    ) == pytest.approx((0.4, 0.2, 0.4))
    assert (
        credits["w_shaped", "t_a"],
        credits["w_shaped", "t_b"],
        credits["w_shaped", "t_c"],
    ) == pytest.approx((0.45, 0.1, 0.45))
