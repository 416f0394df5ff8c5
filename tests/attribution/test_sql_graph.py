"""The asset graph from the SQL (issue 24, its first part): each mart's Dagster deps are the
tables its SQL file reads, every table read is produced by an asset, and no hand-written list
can drift from the files."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from attribution.sql import SQL_DIR
from attribution.sql_graph import sql_files, sql_reads
from attribution.steps import MART_FILES
from dagster_defs import defs
from dagster_defs.assets.reporting import WRITTEN_BY

# the tables of the marts step: the intermediate tables of reporting and the marts
FILES = sql_files(("intermediate/reporting", "marts"))
MARTS = sorted(FILES)


def test_reads_are_parsed_from_the_sql_not_its_comments():
    # by hand from the files: CTEs and table functions are no reads; a PIVOT statement
    # (sqlglot cannot parse it) falls back to its FROM / JOIN names
    assert sql_reads("marts/mart_spend_return.sql") == {"int_spend_return_by_period"}
    assert sql_reads("marts/mart_channel_comparison_wide.sql") == {"mart_channel_comparison"}
    assert sql_reads("intermediate/reporting/int_spend_return_by_period.sql") == {
        "int_attribution_credits",
        "int_journeys",
        "stg_spend",
    }
    assert sql_reads("checks/row_accounting.sql") == {"load_audit", "quarantine"}


@pytest.mark.parametrize("mart", MARTS)
def test_each_marts_deps_are_what_its_sql_reads(mart):
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey(mart)).parent_keys}
    reads = {WRITTEN_BY.get(t, t) for t in sql_reads(FILES[mart])}
    assert reads <= parents, f"{mart} reads {sorted(reads - parents)} but does not depend on it"
    assert reads, f"{mart} reads nothing"


def test_every_table_read_is_an_asset_and_the_graph_has_no_cycle():
    graph = defs.resolve_asset_graph()
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for path in sorted(Path(SQL_DIR).rglob("*.sql")):
        relative = str(path.relative_to(SQL_DIR))
        if not relative.startswith(("marts/", "checks/", "intermediate/reporting/")):
            continue  # staging, crm, reads and the steps' intermediate read temp tables of their Python step
        reads = sql_reads(relative)
        if relative == "checks/totals_reconcile.sql":  # Python puts the mart before it as a CTE
            reads = (reads - {"reconciliation"}) | sql_reads("marts/mart_reconciliation.sql")
        missing = {WRITTEN_BY.get(t, t) for t in reads} - assets
        assert not missing, f"{relative} reads {sorted(missing)}, which no asset produces"
    assert all(not graph.get(dg.AssetKey(k)).is_external for k in assets)
    dg.Definitions.validate_loadable(defs)  # a cycle fails here


def test_the_marts_build_in_an_order_derived_from_their_reads():
    from attribution.sql_graph import build_order
    from attribution.steps import MART_TABLES

    assert (
        build_order(
            ("intermediate/reporting", "marts"), frozenset({"mart_attribution_credits", "mart_restatements"})
        )
        == MART_TABLES
    )
    built = set(MART_TABLES)
    assert built == set(MARTS) - {"mart_attribution_credits", "mart_restatements"}
    for i, mart in enumerate(MART_TABLES):
        before = set(MART_TABLES[:i])
        reads = sql_reads(MART_FILES[mart]) & built
        assert reads <= before, f"{mart} is built before {sorted(reads - before)}, which it reads"
    # by hand from the files: the wide comparison pivots the long one, the cuts check every mart
    assert MART_TABLES.index("mart_channel_comparison") < MART_TABLES.index("mart_channel_comparison_wide")
    assert MART_TABLES[-1] == "mart_reconciliation_cuts"
    # the layers by folder: no int_ file among the marts, no mart among the intermediate files
    assert all(
        path.startswith("marts/mart_") or path.startswith("intermediate/reporting/int_")
        for path in MART_FILES.values()
    )


# the order run_pipeline runs the steps after ingest in
STEP_ORDER = ("journeys", "null_paths", "markov", "shapley", "order_selection", "credits", "intervals")


def test_every_intermediate_and_model_file_is_one_steps():
    from attribution.steps import STEP_FILES

    listed = {path for paths in STEP_FILES.values() for path in paths}
    on_disk = {
        str(p.relative_to(SQL_DIR))
        for folder in ("intermediate", "reads")
        for p in (SQL_DIR / folder).glob("*.sql")
    }
    assert on_disk <= listed, f"no step runs {sorted(on_disk - listed)}"
    assert listed <= on_disk | {"marts/mart_attribution_credits.sql"}, sorted(listed - on_disk)
    assert set(STEP_FILES) == set(STEP_ORDER)


def test_each_step_reads_what_ingest_or_an_earlier_step_writes_and_its_assets_depend_on_it():
    from attribution.contracts import SOURCES
    from attribution.steps import STEP_OUTPUTS, step_reads
    from dagster_defs.assets import TABLE_ASSETS

    written = {f"stg_{source}" for source in SOURCES}
    graph = defs.resolve_asset_graph()
    for step in STEP_ORDER:
        reads = set(step_reads(step))
        assert reads <= written, f"{step} reads {sorted(reads - written)} before any step writes it"
        tables, views = STEP_OUTPUTS[step]
        # every asset of the step depends on what the step reads (through the asset writing it)
        for table in tables:
            key = dg.AssetKey(table)
            if not graph.has(key):
                continue  # a table of the step without an asset of its own (TABLE_ASSETS)
            parents = {k.to_user_string() for k in graph.get(key).parent_keys}
            needed = {TABLE_ASSETS.get(t, t) for t in reads}
            assert needed <= parents, f"{table} does not depend on {sorted(needed - parents)}"
        written |= set(tables) | set(views)
    # by hand from the files: the credit pass reads the journeys, milestones and both fits
    assert set(step_reads("credits")) >= {
        "int_journey_touches",
        "int_markov_fractions",
        "int_shapley_fractions",
    }


def test_a_mart_file_without_an_asset_declaration_gets_one_from_its_header():
    """Every mart of MART_TABLES is an asset; one no module declares takes its SQL header as
    its description (the header's first paragraph, without the table name)."""
    from attribution.sql import sql_description
    from attribution.steps import MART_TABLES

    graph = defs.resolve_asset_graph()
    assert set(MART_TABLES) <= {k.to_user_string() for k in graph.get_all_asset_keys()}
    text = sql_description("marts/mart_time_to_convert.sql")
    assert text.startswith("One row per (period_month, channel) and per month for '(all channels)'")
    assert "Reads" not in text and "mart_time_to_convert:" not in text
