"""The asset graph from the SQL (issue 24, its first part): each mart's Dagster deps are the
tables its SQL file reads, every table read is produced by an asset, and no hand-written list
can drift from the files."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from attribution.sql import SQL_DIR
from attribution.sql_graph import sql_reads
from dagster_defs import defs
from dagster_defs.assets.reporting import WRITTEN_BY

MARTS = sorted(p.stem for p in (SQL_DIR / "marts").glob("*.sql"))


def test_reads_are_parsed_from_the_sql_not_its_comments():
    # by hand from the files: CTEs and table functions are no reads; a PIVOT statement
    # (sqlglot cannot parse it) falls back to its FROM / JOIN names
    assert sql_reads("marts/mart_spend_return.sql") == {"int_spend_return_by_period"}
    assert sql_reads("marts/mart_channel_comparison_wide.sql") == {"mart_channel_comparison"}
    assert sql_reads("marts/int_spend_return_by_period.sql") == {
        "int_attribution_credits",
        "int_journeys",
        "stg_spend",
    }
    assert sql_reads("checks/row_accounting.sql") == {"load_audit", "quarantine"}


@pytest.mark.parametrize("mart", MARTS)
def test_each_marts_deps_are_what_its_sql_reads(mart):
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey(mart)).parent_keys}
    reads = {WRITTEN_BY.get(t, t) for t in sql_reads(f"marts/{mart}.sql")}
    assert reads <= parents, f"{mart} reads {sorted(reads - parents)} but does not depend on it"
    assert reads, f"{mart} reads nothing"


def test_every_table_read_is_an_asset_and_the_graph_has_no_cycle():
    graph = defs.resolve_asset_graph()
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for path in sorted(Path(SQL_DIR).rglob("*.sql")):
        relative = str(path.relative_to(SQL_DIR))
        if not relative.startswith(("marts/", "checks/")):
            continue  # staging, crm, models and intermediate read temp tables of their Python step
        missing = {WRITTEN_BY.get(t, t) for t in sql_reads(relative)} - assets
        assert not missing, f"{relative} reads {sorted(missing)}, which no asset produces"
    assert all(not graph.get(dg.AssetKey(k)).is_external for k in assets)
    dg.Definitions.validate_loadable(defs)  # a cycle fails here


def test_the_marts_build_in_an_order_derived_from_their_reads():
    from attribution.pipeline import MART_TABLES
    from attribution.sql_graph import build_order

    assert build_order("marts", frozenset({"mart_attribution_credits", "mart_restatements"})) == MART_TABLES
    built = set(MART_TABLES)
    assert built == set(MARTS) - {"mart_attribution_credits", "mart_restatements"}
    for i, mart in enumerate(MART_TABLES):
        before = set(MART_TABLES[:i])
        reads = sql_reads(f"marts/{mart}.sql") & built
        assert reads <= before, f"{mart} is built before {sorted(reads - before)}, which it reads"
    # by hand from the files: the wide comparison pivots the long one, the cuts check every mart
    assert MART_TABLES.index("mart_channel_comparison") < MART_TABLES.index("mart_channel_comparison_wide")
    assert MART_TABLES[-1] == "mart_reconciliation_cuts"
