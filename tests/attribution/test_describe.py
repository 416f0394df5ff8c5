"""The metadata figures the assets show, as plain values from the library, checked against the
tables they summarize (an independent count each)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from attribution import describe


def test_describe_figures_add_up_to_their_tables(published_sample):
    with duckdb.connect(str(published_sample.parent / "run.duckdb"), read_only=True) as conn:

        def count(sql: str) -> int:
            return int(conn.sql(sql).fetchall()[0][0])

        labels = describe.stage_labels(conn)
        assert labels["opportunities"].sum() == count("select count(*) from stg_opportunities")
        counts = describe.opportunity_counts(conn)
        assert counts["with_expected_close_date"] == count(
            "select count(*) from stg_opportunities where expected_close_at is not null"
        )
        assert set(counts) == {
            "closed_after_as_of_open_at_it",
            "with_expected_close_date",
            "with_date_only_dates",
            "converted_with_stale_fx_rate",
        }
        by_source = describe.quarantine_by_source(conn)
        assert by_source["row_count"].sum() == count("select count(*) from quarantine")
        null_paths = describe.null_paths_by_kind(conn)
        assert sum(null_paths.values()) == count(
            "select count(*) from int_markov_paths where not is_converted"
        )
        paths = describe.markov_path_counts(conn)
        assert paths["paths"].sum() == count("select count(*) from int_markov_paths")
        effects = describe.removal_effects(conn)
        shares = effects.group_by("journey_kind").agg(pl.col("share").sum())["share"].to_list()
        assert shares and shares == pytest.approx([1.0] * len(shares))
        assert all(0 < p <= 1 for p in describe.p_conversion_by_kind(conn).values())
        assert set(describe.recommended_orders(conn).values()) <= {1, 2, 3, 4}
        widest = describe.widest_intervals(conn, limit=3)
        assert widest.height == 3 and widest["width"].is_sorted(descending=True)


def test_describe_reporting_figures(published_sample):
    with duckdb.connect(str(published_sample.parent / "run.duckdb"), read_only=True) as conn:
        assert describe.unreconciled_rows(conn) == 0
        assert describe.unreconciled_rows(conn, "mart_reconciliation_cuts") == 0
        with pytest.raises(ValueError, match="not a reconciliation table"):
            describe.unreconciled_rows(conn, "stg_touchpoints")
        cells = describe.reconciled_cells(conn)
        assert (cells["cells"] == cells["reconciled"]).all()
        # the comparison's totals are the reconciliation's attributed totals, model by model
        expected = {
            (kind, model): amount
            for kind, model, amount in conn.sql(
                "select journey_kind, model, attributed_amount from mart_reconciliation"
            ).fetchall()
        }
        totals = describe.attributed_totals(conn)
        assert set(totals) == set(expected)
        assert all(abs(totals[key] - expected[key]) < 0.01 for key in expected)
        top = describe.top_campaigns(conn, limit=5)
        assert top.height == 5 and top["attributed_amount"].is_sorted(descending=True)
        assert describe.latest_runs(conn)["run_id"].to_list() == ["run-1"]
        assert describe.segment_counts(conn)["opportunities"].sum() == int(
            conn.sql("select count(*) from int_opportunity_segments").fetchall()[0][0]
        )
