"""Degenerate worlds complete (issue 9, defect 5): named edge cases, then property-based
worlds from hypothesis; each runs the whole library pipeline and must reconcile."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.checks import (
    credit_conservation_violations,
    markov_violations,
    markov_warnings,
    row_accounting_violations,
    total_reconciliation_violations,
)
from attribution.config import AttributionConfig
from attribution.models import MODELS
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import write_csv

CONFIG = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 2))
TOUCH_HEADER = ["touchpoint_id", "occurred_at", "account_id", "channel"]
OPP_HEADER = ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount"]


def _run(folder: Path, touches: list[list[str]], opportunities: list[list[str]]) -> duckdb.DuckDBPyConnection:
    write_csv(folder / "t.csv", TOUCH_HEADER, touches)
    write_csv(folder / "o.csv", OPP_HEADER, opportunities)
    conn = duckdb.connect()
    run_pipeline(conn, SourcePaths(folder / "t.csv", folder / "o.csv"), CONFIG)
    return conn


def _assert_sound(conn: duckdb.DuckDBPyConnection, touches: int, opportunities: int) -> None:
    """Every row accounted, credits conserve, totals reconcile in every model."""
    for source, rows in (("touchpoints", touches), ("opportunities", opportunities)):
        assert row_accounting_violations(conn, source).is_empty(), source
        assert conn.sql("select raw_rows from load_audit where source = ?", params=[source]).fetchall() == [
            (rows,)
        ]
    assert credit_conservation_violations(conn).is_empty()
    assert total_reconciliation_violations(conn).is_empty()
    assert markov_violations(conn).is_empty()
    reconciliation = conn.sql("select journey_kind, model, is_reconciled from mart_reconciliation").fetchall()
    assert all(ok for *_, ok in reconciliation)
    for kind in {k for k, *_ in reconciliation}:
        assert {m for k, m, _ in reconciliation if k == kind} == set(MODELS)


WON = ["won", "acme", "2026-03-01T00:00:00Z", "2026-03-20T00:00:00Z", "Closed Won", "100"]
LOST = ["lost", "acme", "2026-04-01T00:00:00Z", "2026-04-20T00:00:00Z", "Closed Lost", "50"]
OPEN = ["open", "globex", "2026-05-01T00:00:00Z", "2026-07-01", "Prospecting", "70"]


@pytest.mark.parametrize(
    ("name", "touches", "opportunities", "warning"),
    [
        ("no touches", [], [WON, LOST, OPEN], "no converting journey with a touch"),
        (
            "no opportunity has a touch",
            [["t1", "2025-01-01T00:00:00Z", "initech", "email"]],
            [WON, LOST, OPEN],
            "no converting journey with a touch",
        ),
        (
            "no lost deal",
            [
                ["t1", "2026-02-20T00:00:00Z", "acme", "email"],
                ["t2", "2026-02-25T00:00:00Z", "acme", "event"],
            ],
            [WON],
            "P(conversion) = 1",
        ),
        (
            "no converting revenue journey",
            [["t1", "2026-03-25T00:00:00Z", "acme", "email"]],
            [LOST],
            "revenue: no converting journey",
        ),
        (
            "one channel",
            [
                ["t1", "2026-02-20T00:00:00Z", "acme", "email"],
                ["t2", "2025-06-01T00:00:00Z", "acme", "email"],
            ],
            [WON, LOST],
            "one channel only",
        ),
        ("one opportunity, no touch", [], [OPEN], "pipeline: no converting journey"),
        ("nothing at all", [], [], "pipeline: no converting journey"),
        (
            "every row quarantined",
            [["", "2026-01-01", "acme", "email"], ["t2", "not a date", "acme", "email"]],
            [["x", "", "2026-01-01", "", "open", "1"], ["y", "acme", "2026-01-01", "", "open", "-1"]],
            "pipeline: no converting journey",
        ),
    ],
)
def test_a_degenerate_world_completes_and_says_what_was_degenerate(
    tmp_path, name, touches, opportunities, warning
):
    conn = _run(tmp_path, touches, opportunities)
    _assert_sound(conn, len(touches), len(opportunities))
    assert any(warning in w for w in markov_warnings(conn)), (name, markov_warnings(conn))
    for table in (
        "mart_channel_comparison",
        "mart_channel_comparison_wide",
        "mart_period_totals",
        "mart_markov_removal_effects",
    ):
        conn.sql(f"select * from {table}").fetchall()  # exists, even when empty


# --- property-based worlds ----------------------------------------------------------------
_DAY = timedelta(days=1)
_ORIGIN = datetime(2025, 1, 1)
stamps = st.integers(min_value=0, max_value=600).map(lambda d: _ORIGIN + d * _DAY)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    """A few accounts, touches over 20 months (some date-only, some bad), and opportunities with
    CRM labels, open / won / lost, some closed after as-of, some malformed."""
    accounts = [f"a{i}" for i in range(draw(st.integers(1, 4)))]
    channels = draw(
        st.lists(
            st.sampled_from(["email", "Paid Search", "webinar", "event"]), min_size=1, max_size=3, unique=True
        )
    )
    touches = []
    for i in range(draw(st.integers(0, 14))):
        moment = draw(stamps) + timedelta(hours=draw(st.integers(0, 23)))
        text = draw(
            st.sampled_from([moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.date().isoformat(), "garbage"])
        )
        touches.append([f"t{i}", text, draw(st.sampled_from(accounts)), draw(st.sampled_from(channels))])
    opportunities = []
    for i in range(draw(st.integers(0, 6))):
        created = draw(stamps)
        closed = created + draw(st.integers(-5, 200)) * _DAY
        label = draw(
            st.sampled_from(["Closed Won", "closedlost", "Prospecting", "open", "closed_won", "Closed Lost"])
        )
        closed_text = draw(
            st.sampled_from([closed.date().isoformat(), closed.strftime("%Y-%m-%dT%H:%M:%SZ"), ""])
        )
        amount = draw(st.sampled_from(["100", "2500.50", "0", "-3", "abc", "99999.99"]))
        opportunities.append(
            [f"o{i % 5}", draw(st.sampled_from(accounts)), created.isoformat(), closed_text, label, amount]
        )
    return touches, opportunities


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_any_small_world_is_accounted_conserved_and_reconciled(world):
    touches, opportunities = world
    with tempfile.TemporaryDirectory() as folder:
        conn = _run(Path(folder), touches, opportunities)
        _assert_sound(conn, len(touches), len(opportunities))
        # the pipeline total is the staged opportunities' amounts, in every model
        expected = conn.sql("select coalesce(sum(pipeline_amount), 0) from stg_opportunities").fetchall()[0][
            0
        ]
        for model, total in conn.sql(
            "select model, sum(attributed_amount) from mart_attribution_credits where journey_kind = 'pipeline' group by 1"
        ).fetchall():
            assert total == pytest.approx(expected, abs=0.01), model
        conn.close()
