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
