"""Journey windows in SQL: boundaries, touches after the event, other accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from attribution.config import AttributionConfig
from attribution.ingest import load_opportunities, load_touchpoints
from attribution.journeys import build_journeys
from tests.conftest import write_csv

TOUCH_HEADER = ["touchpoint_id", "occurred_at", "account_id", "channel"]
OPP_HEADER = ["opportunity_id", "account_id", "created_at", "closed_at", "stage", "amount", "currency"]


@pytest.fixture
def journeys(conn, tmp_path):
    # lookback 30 days; opportunity created 2026-03-31 12:00, closed 2026-04-10 12:00
    # window start = 2026-03-01 12:00:00
    touches = [
        ["on_boundary", "2026-03-01T12:00:00Z", "acme", "email"],  # exactly window start: in
        ["one_second_out", "2026-03-01T11:59:59Z", "acme", "email"],  # 1 s before: out
        ["middle", "2026-03-15T00:00:00Z", "acme", "webinar"],
        ["at_created", "2026-03-31T12:00:00Z", "acme", "event"],  # at created_at: in both
        ["after_created", "2026-04-05T00:00:00Z", "acme", "sdr_outreach"],  # revenue only
        ["at_closed", "2026-04-10T12:00:00Z", "acme", "referral"],  # at closed_at: revenue only
        ["after_closed", "2026-04-10T12:00:01Z", "acme", "direct"],  # after close: out
        ["other_account", "2026-03-20T00:00:00Z", "globex", "email"],  # another account: out
        ["b_same_time", "2026-03-15T00:00:00Z", "acme", "paid_search"],  # ties with 'middle'
    ]
    opps = [
        ["won", "acme", "2026-03-31T12:00:00Z", "2026-04-10T12:00:00Z", "closed_won", "1000", "USD"],
        ["quiet", "initech", "2026-03-31T12:00:00Z", "", "open", "10", "USD"],
    ]
    config = AttributionConfig(lookback_days=30, as_of=datetime(2026, 6, 1))
    load_touchpoints(conn, write_csv(tmp_path / "t.csv", TOUCH_HEADER, touches), config)
    load_opportunities(conn, write_csv(tmp_path / "o.csv", OPP_HEADER, opps), config)
    build_journeys(conn, config)
    return conn


def _touches(conn, kind: str, opportunity_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.sql(
            "select touchpoint_id from int_journey_touches where journey_kind = ? "
            "and opportunity_id = ? order by position",
            params=[kind, opportunity_id],
        ).fetchall()
    ]


def test_pipeline_window_includes_boundary_and_event_excludes_outside(journeys):
    # 'b_same_time' and 'middle' share a timestamp: ordered by touchpoint_id
    assert _touches(journeys, "pipeline", "won") == ["on_boundary", "b_same_time", "middle", "at_created"]


def test_revenue_window_runs_to_closed_at(journeys):
    assert _touches(journeys, "revenue", "won") == [
        "on_boundary",
        "b_same_time",
        "middle",
        "at_created",
        "after_created",
        "at_closed",
    ]


def test_positions_counts_and_days_before_event(journeys):
    rows = journeys.sql(
        "select touchpoint_id, position, touch_count, days_before_event from int_journey_touches "
        "where journey_kind = 'pipeline' and opportunity_id = 'won' order by position"
    ).fetchall()
    assert [r[1] for r in rows] == [1, 2, 3, 4]
    assert {r[2] for r in rows} == {4}
    # on_boundary is exactly 30 days before created_at; at_created is 0 days before
    assert rows[0][3] == pytest.approx(30.0)
    assert rows[-1][3] == pytest.approx(0.0)


def test_journeys_table_has_empty_journeys_and_revenue_only_for_closed(journeys):
    rows = journeys.sql(
        "select journey_kind, opportunity_id, touch_count, is_converted, journey_amount "
        "from int_journeys order by all"
    ).fetchall()
    assert rows == [
        ("pipeline", "quiet", 0, True, 10.0),
        ("pipeline", "won", 4, True, 1000.0),
        ("revenue", "won", 6, True, 1000.0),
    ]


def test_lookback_is_config(conn, tmp_path):
    touches = [["t", "2026-03-21T12:00:00Z", "acme", "email"]]  # 10 days before created
    opps = [["o", "acme", "2026-03-31T12:00:00Z", "", "open", "1", "USD"]]
    load_touchpoints(
        conn,
        write_csv(tmp_path / "t.csv", TOUCH_HEADER, touches),
        AttributionConfig(as_of=datetime(2026, 6, 1)),
    )
    load_opportunities(
        conn, write_csv(tmp_path / "o.csv", OPP_HEADER, opps), AttributionConfig(as_of=datetime(2026, 6, 1))
    )
    for lookback, expected in ((10, 1), (9, 0)):
        build_journeys(conn, AttributionConfig(lookback_days=lookback, as_of=datetime(2026, 6, 1)))
        assert conn.sql("select touch_count from int_journeys").fetchall() == [(expected,)]


def test_pipeline_null_paths_are_cut_into_lookback_chunks():
    import polars as pl

    from attribution.journeys import pipeline_null_paths

    # lookback 10 days; account x touches on days 0, 5, 10 (chunk 1: up to day 10 inclusive),
    # 11, 20 (chunk 2 starts at day 11, runs to day 21), 22 (chunk 3); account y: one touch.
    day = lambda d: datetime(2026, 1, 1) + (datetime(2026, 1, 2) - datetime(2026, 1, 1)) * d  # noqa: E731
    touches = pl.DataFrame(
        {
            "account_id": ["x"] * 6 + ["y"],
            "touchpoint_id": ["t0", "t5", "t10", "t11", "t20", "t22", "y0"],
            "occurred_at": [day(0), day(5), day(10), day(11), day(20), day(22), day(3)],
            "channel": ["a", "b", "c", "a", "b", "c", "a"],
        }
    )
    chunks = pipeline_null_paths(touches, lookback_days=10)
    grouped = {
        path_id: ids
        for path_id, ids in chunks.sort("path_id", "position")
        .group_by("path_id", maintain_order=True)
        .agg(pl.col("touchpoint_id"))
        .iter_rows()
    }
    assert grouped == {
        "x#0": ["t0", "t5", "t10"],
        "x#1": ["t11", "t20"],
        "x#2": ["t22"],
        "y#0": ["y0"],
    }


def test_null_path_chunks_by_search_equal_the_chunk_by_chunk_loop():
    # The vectorized route (one searchsorted per chunk over the accounts still open) against
    # the independent chunk-by-chunk loop, on random histories with ties in time, touches
    # exactly one lookback apart and multi-year spans; then the loop route forced by a span
    # too wide for one integer key.
    import numpy as np
    import polars as pl

    from attribution import journeys as journeys_module

    rng = np.random.default_rng(11)
    rows = 4_000
    days = rng.integers(0, 900, size=rows).astype(float)
    days[::7] = np.floor(days[::7] / 10) * 10  # whole multiples of the lookback: boundary ties
    touches = pl.DataFrame(
        {
            "account_id": [f"a{int(i)}" for i in rng.integers(0, 150, size=rows)],
            "touchpoint_id": [f"t{i:05d}" for i in range(rows)],
            "occurred_at": [datetime(2024, 1, 1) + timedelta(days=float(d)) for d in days],
            "channel": rng.choice(["a", "b", "c"], size=rows).tolist(),
        }
    )
    key = ["path_id", "position"]
    searched = journeys_module.pipeline_null_paths(touches, lookback_days=10).sort(key)
    ordered = touches.sort("account_id", "occurred_at", "touchpoint_id")
    looped = journeys_module._null_paths_by_loop(ordered, 10).select(searched.columns).sort(key)
    assert searched.equals(looped)
    assert searched["path_id"].n_unique() > 150 * 10  # many chunks per account
    assert journeys_module._chunk_starts(np.array([True, True]), np.array([0, 2**61]), 1) is None

    # one row per path, grouped by an integer chunk (the pipeline's route), equals the
    # touches grouped by path_id; and on the loop route (a span too wide) too
    def grouped(cut: pl.DataFrame) -> pl.DataFrame:
        return (
            cut.sort(key)
            .group_by("path_id", maintain_order=True)
            .agg(
                pl.col("account_id").first(),
                touch_count=pl.len().cast(pl.Int64),
                path=pl.col("channel"),
                first_touch_at=pl.col("occurred_at").first(),
                last_touch_at=pl.col("occurred_at").last(),
            )
            .sort("path_id")
        )

    rows_by_path = journeys_module.pipeline_null_path_rows(touches, lookback_days=10).sort("path_id")
    assert rows_by_path.equals(grouped(searched))
    wide = touches.with_columns(
        pl.when(pl.col("touchpoint_id") == "t00000")
        .then(datetime(1, 1, 1))
        .otherwise(pl.col("occurred_at"))
        .alias("occurred_at")
    )
    wide_rows = journeys_module.pipeline_null_path_rows(wide, lookback_days=10).sort("path_id")
    assert wide_rows.equals(grouped(journeys_module.pipeline_null_paths(wide, lookback_days=10)))
    assert wide_rows["touch_count"].sum() == rows


def test_null_path_table_takes_lost_revenue_journeys_and_touches_outside_journeys(journeys):
    from attribution.journeys import build_null_paths

    build_null_paths(journeys, AttributionConfig(lookback_days=30, as_of=datetime(2026, 6, 1)))
    pipeline = journeys.sql(
        "select touchpoint_id from int_null_path_touches where journey_kind = 'pipeline' order by all"
    ).fetchall()
    # Regression (issue 9, defect 8): touches outside the pipeline journey of 'won', minus
    # those inside its sales cycle (after_created, at_closed: created 03-31 12:00 to closed
    # 04-10 12:00), which are not failures; as-of 06-01 minus 30 days censors nothing here.
    assert [r[0] for r in pipeline] == ["after_closed", "one_second_out", "other_account"]
    roles = dict(journeys.sql("select role, touch_count from int_null_path_exclusions").fetchall())
    assert roles == {"in_pipeline_journey": 4, "in_sales_cycle": 2, "null_path": 3}
    # 'won' is won: no revenue null paths
    assert journeys.sql(
        "select count(*) from int_null_path_touches where journey_kind = 'revenue'"
    ).fetchall() == [(0,)]
    # int_markov_paths, by hand: 'won' converts in both kinds (its pipeline journey above,
    # its revenue journey adds after_created and at_closed), 'quiet' has no touch, so no
    # path; acme's two null-path touches are 40 days apart, more than the 30-day lookback:
    # two chunks; globex one.
    paths = journeys.sql(
        "select journey_kind, path_id, account_id, is_converted, conversion_value, touch_count, path "
        "from int_markov_paths order by all"
    ).fetchall()
    assert paths == [
        ("pipeline", "acme#0", "acme", False, 0.0, 1, ["email"]),
        ("pipeline", "acme#1", "acme", False, 0.0, 1, ["direct"]),
        ("pipeline", "globex#0", "globex", False, 0.0, 1, ["email"]),
        ("pipeline", "won", "acme", True, 1000.0, 4, ["email", "paid_search", "webinar", "event"]),
        (
            "revenue",
            "won",
            "acme",
            True,
            1000.0,
            6,
            ["email", "paid_search", "webinar", "event", "sdr_outreach", "referral"],
        ),
    ]


def test_null_paths_leave_out_the_censored_last_lookback_before_as_of(journeys):
    from attribution.journeys import build_null_paths

    # as-of 2026-04-20, lookback 30: touches after 2026-03-21 may still convert; of the three
    # null-path touches above, after_closed (04-10) is now censored; other_account (03-20)
    # and one_second_out (03-01) stay.
    build_null_paths(journeys, AttributionConfig(lookback_days=30, as_of=datetime(2026, 4, 20)))
    pipeline = journeys.sql(
        "select touchpoint_id from int_null_path_touches where journey_kind = 'pipeline' order by all"
    ).fetchall()
    assert [r[0] for r in pipeline] == ["one_second_out", "other_account"]
    roles = dict(journeys.sql("select role, touch_count from int_null_path_exclusions").fetchall())
    assert roles == {"in_pipeline_journey": 4, "in_sales_cycle": 2, "censored": 1, "null_path": 2}


def test_touch_rules_leave_touch_types_and_channels_out_of_journeys(conn, tmp_path):
    from attribution.journeys import build_null_paths

    touches = [
        ["open1", "2026-03-20T00:00:00Z", "acme", "email", "email_open"],
        ["ad1", "2026-03-21T00:00:00Z", "acme", "display", "impression"],
        ["click1", "2026-03-22T00:00:00Z", "acme", "email", "email_click"],
        ["old_open", "2025-06-01T00:00:00Z", "acme", "email", "email_open"],
    ]
    opps = [["o", "acme", "2026-03-31T12:00:00Z", "", "open", "1", "USD"]]
    config = AttributionConfig(
        as_of=datetime(2026, 6, 1), excluded_touch_types=("email_open",), excluded_channels=("Display",)
    )
    load_touchpoints(conn, write_csv(tmp_path / "t.csv", [*TOUCH_HEADER, "touch_type"], touches), config)
    load_opportunities(conn, write_csv(tmp_path / "o.csv", OPP_HEADER, opps), config)
    build_journeys(conn, config)
    build_null_paths(conn, config)
    assert _touches(conn, "pipeline", "o") == ["click1"]
    # the excluded old email open is not a null path either
    assert conn.sql("select count(*) from int_null_path_touches").fetchall() == [(0,)]
    assert conn.sql("select rule, value from int_touch_rules order by all").fetchall() == [
        ("excluded_channel", "display"),
        ("excluded_touch_type", "email_open"),
    ]
    # what the rules leave out, by (touch_type, channel): the two email opens and the
    # display impression; the click stays in
    from attribution.journeys import touches_left_out

    assert touches_left_out(conn).rows() == [("email_open", "email", 2), ("impression", "display", 1)]
