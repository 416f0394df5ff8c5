"""Materialize the whole asset graph on a generated sample into a DuckDB file under tmp_path."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from attribution.checks import credit_conservation_violations, total_reconciliation_violations
from attribution.models import MODELS
from dagster_defs.definitions import build_defs
from dagster_defs.resources import AttributionDuckDB, AttributionSettings, ExportTarget, SourceFiles
from tests.conftest import AS_OF, materialize_all


def sample_defs(sample_dir: Path, database: Path, export_dir: Path) -> dg.Definitions:
    """The code location bound to the generated sample, a DuckDB file and an export folder."""
    return build_defs(
        AttributionDuckDB(database=str(database)),
        SourceFiles(
            touchpoints=str(sample_dir / "touchpoints" / "*.csv"),
            opportunities=str(sample_dir / "opportunities" / "*.csv"),
            fx_rates=str(sample_dir / "fx_rates.csv"),
            milestones=str(sample_dir / "milestones.csv"),
            spend=str(sample_dir / "spend.csv"),
        ),
        AttributionSettings(as_of=AS_OF.isoformat(), segment_columns=["segment", "region", "type"]),
        ExportTarget(directory=str(export_dir)),
    )


def core_defs(
    sample_dir: Path, tmp_path: Path, database: str, settings: AttributionSettings, **inputs: str
) -> tuple[dg.Definitions, Path]:
    """The code location over the sample's touchpoints, opportunities and fx rates, plus
    `inputs` (input -> its file in the sample), with these settings; and its DuckDB file."""
    path = tmp_path / database
    sources = SourceFiles(
        touchpoints=str(sample_dir / "touchpoints" / "*.csv"),
        opportunities=str(sample_dir / "opportunities" / "*.csv"),
        fx_rates=str(sample_dir / "fx_rates.csv"),
        **{name: str(sample_dir / file) for name, file in inputs.items()},
    )
    defs = build_defs(
        AttributionDuckDB(database=str(path)),
        sources,
        settings,
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    return defs, path


@pytest.fixture(scope="module")
def materialized(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("e2e")
    database = workdir / "attribution.duckdb"
    defs = sample_defs(sample_dir, database, workdir / "exports")
    result = materialize_all(defs)
    assert all(r.success for r in result)
    checks = [c for r in result for c in r.get_asset_check_evaluations()]
    assert checks, "asset checks ran"
    failed = [c.check_name for c in checks if not c.passed]
    assert failed == []
    return database


def test_every_asset_materialized(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        tables = {r[0] for r in conn.sql("select table_name from information_schema.tables").fetchall()}
    assert {
        "stg_touchpoints",
        "stg_opportunities",
        "stg_fx_rates",
        "quarantine",
        "int_journeys",
        "int_journey_touches",
        "mart_attribution_credits",
        "mart_channel_comparison",
        "mart_channel_comparison_wide",
        "mart_influenced_pipeline",
        "mart_influenced_revenue",
        "int_null_path_touches",
        "int_markov_paths",
        "mart_markov_removal_effects",
        "markov_transitions",
    } <= tables


def test_conservation_for_every_model_and_journey_kind(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        assert credit_conservation_violations(conn).is_empty()
        kinds_models = conn.sql(
            "select distinct journey_kind, model from mart_attribution_credits order by all"
        ).fetchall()
    assert kinds_models == sorted((k, m) for k in ("pipeline", "revenue") for m in MODELS)


def test_totals_agree_across_models_and_with_the_opportunities(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        assert total_reconciliation_violations(conn).is_empty()
        # independent total: straight from the staged opportunities
        pipeline, revenue = conn.sql(
            "select sum(pipeline_amount), sum(revenue_amount) filter (where stage = 'closed_won') "
            "from stg_opportunities"
        ).fetchall()[0]
        by_model = dict(
            conn.sql(
                "select journey_kind || '/' || model, sum(attributed_amount) "
                "from mart_channel_comparison group by all"
            ).fetchall()
        )
    for model in MODELS:
        assert by_model[f"pipeline/{model}"] == pytest.approx(pipeline, abs=0.01)
        assert by_model[f"revenue/{model}"] == pytest.approx(revenue, abs=0.01)


def test_comparison_tables_have_one_row_per_channel(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        channels = {
            r[0]
            for r in conn.sql(
                "select distinct channel from mart_attribution_credits where journey_kind = 'pipeline'"
            ).fetchall()
        }
        wide = conn.sql(
            "select channel from mart_channel_comparison_wide where journey_kind = 'pipeline'"
        ).fetchall()
        long_counts = conn.sql(
            "select model, count(*), count(distinct channel) from mart_channel_comparison "
            "where journey_kind = 'pipeline' group by model"
        ).fetchall()
        columns = conn.sql("select * from mart_channel_comparison_wide limit 0").columns
    assert sorted(r[0] for r in wide) == sorted(channels)
    assert all(n == d == len(channels) for _, n, d in long_counts)
    assert set(MODELS) <= set(columns)


def test_influenced_marts_match_the_yes_no_definition(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        # independent: opportunities with any touch of their account inside the window
        influenced = conn.sql(
            """
            select coalesce(sum(o.pipeline_amount), 0) from stg_opportunities o
            where exists (
                select 1 from stg_touchpoints t where t.account_id = o.account_id
                and t.occurred_at between o.created_at - interval 90 day and o.created_at)
            """
        ).fetchall()[0][0]
        from_mart = conn.sql(
            "select sum(influenced_amount) from mart_period_totals where journey_kind = 'pipeline'"
        ).fetchall()[0][0]
        # Regression (issue 9, defect 10): one grain per table. Summing the influenced mart
        # over channels and models gives models x pipeline, never a month total repeated
        # per row; and per (month, model) it sums to the month's total in mart_period_totals.
        columns = conn.sql("select * from mart_influenced_pipeline limit 0").columns
        off_by_month = conn.sql(
            """
            select count(*) from (
                select period_month, model, sum(attributed_amount) as attributed
                from mart_influenced_pipeline group by all
            ) m
            join mart_period_totals t on t.journey_kind = 'pipeline' and t.period_month = m.period_month
            where abs(m.attributed - t.total_amount) > 0.01
            """
        ).fetchall()[0][0]
    assert from_mart == pytest.approx(influenced, abs=0.01)
    assert not [c for c in columns if c.startswith("period_") and c != "period_month"]
    assert off_by_month == 0


def test_markov_tables_are_consistent(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        shares = conn.sql(
            "select journey_kind, sum(share), min(p_conversion), max(p_conversion) "
            "from mart_markov_removal_effects group by 1 order by 1"
        ).fetchall()
        # outgoing probabilities of every transient state sum to 1
        out_sums = conn.sql(
            "select max(abs(s - 1)) from (select journey_kind, from_state, sum(probability) s "
            "from markov_transitions group by all)"
        ).fetchall()[0][0]
        # the markov column of the comparison mart equals the fitted values
        gap = conn.sql(
            """
            select max(abs(c.attributed_amount - m.fitted_value))
            from mart_channel_comparison c
            join mart_markov_removal_effects m using (journey_kind, channel)
            where c.model = 'markov'
            """
        ).fetchall()[0][0]
    assert [k for k, *_ in shares] == ["pipeline", "revenue"]
    for _, share_sum, p_min, p_max in shares:
        assert share_sum == pytest.approx(1.0)
        assert 0 < p_min == p_max < 1
    assert out_sums < 1e-12
    assert gap < 0.01


def test_a_second_run_changes_nothing(materialized, sample_dir):
    # every run reloads the inputs in full; the inputs did not change, so every table and
    # every credit must be exactly as before
    tables = ("stg_touchpoints", "stg_opportunities", "quarantine", "mart_channel_comparison")
    with duckdb.connect(str(materialized), read_only=True) as conn:
        before = {t: conn.sql(f"select * from {t} order by all").fetchall() for t in tables}
    defs = sample_defs(sample_dir, materialized, materialized.parent / "exports")
    assert all(r.success for r in materialize_all(defs))
    with duckdb.connect(str(materialized), read_only=True) as conn:
        after = {t: conn.sql(f"select * from {t} order by all").fetchall() for t in tables}
        audit = conn.sql(
            "select raw_rows, staged_rows, quarantined_rows, after_as_of_rows from load_audit "
            "where source = 'touchpoints'"
        ).fetchall()[0]
        runs = conn.sql("select run_id from snapshot_runs order by taken_at").fetchall()
        restated = conn.sql(
            "select count(*), count(*) filter (where difference <> 0), count(distinct first_run_id), "
            "count(distinct current_run_id) from mart_restatements"
        ).fetchall()[0]
    assert after == before
    assert audit[0] == audit[1] + audit[2] + audit[3] and audit[3] > 0  # the sample runs past as-of
    # the second run is in the history next to the first; nothing it reports moved, and every
    # period was first reported by the first run
    assert len(runs) >= 2 and len({r for (r,) in runs}) == len(runs)
    assert restated[0] > 0 and restated[1] == 0
    assert restated[2] == 1 and restated[3] == 1


def test_exports_and_manifest(materialized):
    import json

    from attribution.export import EXPORT_TABLES, file_sha256

    export_dir = materialized.parent / "exports"
    manifest = json.loads((export_dir / "manifest.json").read_text())
    tables = {f"{t}.{s}" for t in EXPORT_TABLES for s in ("parquet", "csv")}
    assert set(manifest["files"]) == tables | {"attribution_report.html"}  # the joint report too
    assert manifest["config"]["lookback_days"] == 90
    assert manifest["config"]["reporting_currency"] == "USD"
    assert manifest["as_of"] == AS_OF.isoformat()
    assert {Path(i["path"]).name for i in manifest["inputs"]} == {
        "part-00000.csv",
        "fx_rates.csv",
        "milestones.csv",
        "spend.csv",
    }
    assert manifest["config"]["segment_columns"] == ["segment", "region", "type"]
    with duckdb.connect(str(materialized), read_only=True) as conn:
        for name, entry in manifest["files"].items():
            path = export_dir / name
            assert file_sha256(path) == entry["sha256"], name
            if entry["table"] is None:  # the report: no table behind it
                continue
            rows = conn.sql(f'select count(*) from "{entry["table"]}"').fetchall()[0][0]
            assert entry["rows"] == rows
        # the Parquet export holds the same numbers as the table
        exported = conn.sql(
            "select round(sum(attributed_amount), 2) from read_parquet(?)",
            params=[str(export_dir / "mart_attribution_credits.parquet")],
        ).fetchall()[0][0]
        table = conn.sql("select round(sum(attributed_amount), 2) from mart_attribution_credits").fetchall()[
            0
        ][0]
    assert exported == table
    assert not [p for p in export_dir.iterdir() if p.name.startswith(".")], "no temporary files left"


def test_reconciliation_table_reconciles_every_model(materialized):
    with duckdb.connect(str(materialized), read_only=True) as conn:
        rows = conn.sql(
            "select journey_kind, model, is_reconciled, difference from mart_reconciliation"
        ).fetchall()
    assert len(rows) == 2 * len(MODELS)
    assert all(ok and abs(diff) < 0.005 for _, _, ok, diff in rows)


def test_every_cut_is_exported_and_reconciles(materialized):
    # the exported cut reconciliation covers every additive table, each model and segment
    # value, and every cell agrees; its totals are recomputed here from the exported credits
    import polars as pl

    export_dir = materialized.parent / "exports"
    cuts = pl.read_parquet(export_dir / "mart_reconciliation_cuts.parquet")
    assert cuts["is_reconciled"].all()
    assert set(cuts["table_name"]) == {
        "int_attributed_by_month",
        "mart_attributed_by_quarter",
        "mart_channel_comparison",
        "mart_campaign_comparison",
        "mart_segment_comparison",
        "mart_spend_return",
        "mart_campaign_spend_return",
        "mart_sourced_influenced",
        "mart_period_totals",
    }
    assert set(cuts.filter(pl.col("table_name") == "mart_segment_comparison")["cut"]) == {
        "segment:segment",
        "segment:region",
        "segment:type",
        "segment:deal_motion",  # always: new business, expansion, renewal
    }
    credits = pl.read_parquet(export_dir / "mart_attribution_credits.parquet")
    by_model = credits.group_by("journey_kind", "model").agg(pl.col("attributed_amount").sum())
    segments = pl.read_parquet(export_dir / "mart_segment_comparison.parquet")
    for dimension in ("segment", "region", "type"):
        per_model = (
            segments.filter(pl.col("dimension") == dimension)
            .group_by("journey_kind", "model")
            .agg(pl.col("attributed_amount").sum().alias("segments_total"))
            .join(by_model, on=["journey_kind", "model"])
        )
        assert len(per_model) == 2 * len(MODELS)
        assert (per_model["segments_total"] - per_model["attributed_amount"]).abs().max() < 0.01
    spend = pl.read_parquet(export_dir / "mart_spend_return.parquet")
    assert (
        spend.filter(pl.col("period_grain") == "all", pl.col("model") == "linear")["spend_amount"].sum() > 0
    )
    for table in ("mart_time_to_convert", "mart_campaign_influence", "mart_attributed_by_quarter"):
        assert pl.read_parquet(export_dir / f"{table}.parquet").height > 0, table


def test_failing_reconciliation_stops_the_export(materialized, sample_dir, tmp_path):
    import shutil

    database = tmp_path / "tampered.duckdb"
    shutil.copy(materialized, database)
    export_dir = tmp_path / "exports"
    shutil.copytree(materialized.parent / "exports", export_dir)
    published = {p.name: p.read_bytes() for p in export_dir.iterdir()}
    # lose one row of the credits the reconciliation reads: no model adds up any more
    with duckdb.connect(str(database)) as conn:
        conn.sql(
            "delete from int_credits_by_channel where rowid = (select min(rowid) "
            "from int_credits_by_channel where journey_kind = 'pipeline' and picos_linear > 0)"
        )
    defs = sample_defs(sample_dir, database, export_dir)
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[dg.AssetKey("mart_reconciliation"), dg.AssetKey("exports")], raise_on_error=False
    )
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["reconciled"] is False
    materialized_keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized_keys == {"mart_reconciliation"}
    assert {p.name: p.read_bytes() for p in export_dir.iterdir()} == published


def test_a_two_year_salesforce_export_end_to_end(tmp_path):
    # Regression (issue 9, defect 1): the history starts in November 2024, long before the old
    # partition start (2025-10-01); one run stages every row, every check passes, and the
    # pipeline total equals the sum of every opportunity's amount in every model.
    crm = Path(__file__).resolve().parent.parent / "fixtures" / "crm"
    database = tmp_path / "attribution.duckdb"
    defs = build_defs(
        AttributionDuckDB(database=str(database)),
        SourceFiles(
            touchpoints=str(crm / "touchpoints.csv"),
            opportunities=str(crm / "salesforce" / "opportunities.csv"),
            fx_rates=str(crm / "fx_rates.csv"),
        ),
        AttributionSettings(as_of="2026-11-20", column_preset="salesforce"),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    (result,) = materialize_all(defs)
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    labels = events["stg_opportunities"].materialization.metadata["stage_labels"].value
    assert "Negotiation/Review" in labels and "Closed Won" in labels
    with duckdb.connect(str(database), read_only=True) as conn:
        first_touch = conn.sql("select min(occurred_at) from stg_touchpoints").fetchall()[0][0]
        quarantined = conn.sql("select count(*) from quarantine").fetchall()[0][0]
        staged = conn.sql("select count(*) from stg_opportunities").fetchall()[0][0]
        totals = conn.sql(
            "select model, sum(attributed_amount) from mart_channel_comparison where journey_kind = 'pipeline' group by 1"
        ).fetchall()
        pipeline = conn.sql("select sum(pipeline_amount) from stg_opportunities").fetchall()[0][0]
    rows = (crm / "salesforce" / "opportunities.csv").read_text().strip().count("\n")
    assert first_touch.year == 2024 and quarantined == 0 and staged == rows
    assert len(totals) == len(MODELS)
    assert all(total == pytest.approx(pipeline, abs=0.01) for _, total in totals)
    assert (tmp_path / "exports" / "manifest.json").exists()


def test_a_subset_of_models_end_to_end(sample_dir, tmp_path):
    # the models setting selects what runs; comparison, reconciliation and exports follow it
    defs, database = core_defs(
        sample_dir,
        tmp_path,
        "subset.duckdb",
        AttributionSettings(as_of=AS_OF.isoformat(), models=["position_based", "linear"]),
    )
    (result,) = materialize_all(defs)
    assert result.success
    with duckdb.connect(str(database), read_only=True) as conn:
        models = {r[0] for r in conn.sql("select distinct model from mart_attribution_credits").fetchall()}
        reconciled = conn.sql(
            "select model, bool_and(is_reconciled) from mart_reconciliation group by 1"
        ).fetchall()
        columns = conn.sql("select * from mart_channel_comparison_wide limit 0").columns
    assert models == {"position_based", "linear"}
    assert dict(reconciled) == {"position_based": True, "linear": True}
    assert set(columns) == {"journey_kind", "channel", "position_based", "linear"}


def test_a_cut_that_does_not_add_up_stops_the_export(materialized, sample_dir, tmp_path):
    import shutil

    database = tmp_path / "tampered.duckdb"
    shutil.copy(materialized, database)
    export_dir = tmp_path / "exports"
    shutil.copytree(materialized.parent / "exports", export_dir)
    published = {p.name: p.read_bytes() for p in export_dir.iterdir()}
    with duckdb.connect(str(database)) as conn:  # one segment row loses a dollar
        conn.sql(
            "update mart_segment_comparison set attributed_amount = attributed_amount - 1 where rowid = "
            "(select min(rowid) from mart_segment_comparison where model = 'markov')"
        )
    defs = sample_defs(sample_dir, database, export_dir)
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[dg.AssetKey("mart_reconciliation_cuts"), dg.AssetKey("exports")],
        raise_on_error=False,
    )
    evaluations = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert evaluations["cuts_reconcile"].passed is False
    assert evaluations["cuts_reconcile"].metadata["violations"].value == 1
    materialized_keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized_keys == {"mart_reconciliation_cuts"}
    assert {p.name: p.read_bytes() for p in export_dir.iterdir()} == published


def test_one_run_has_one_as_of_when_none_is_set(tmp_path):
    # issue 25, defect 1: with as_of unset every step took its own "now"; now the run's
    # creation time is the as-of of every step (ingest, the null paths' censoring, the snapshot)
    from attribution.sample_data import SampleSpec, write_sample

    sample = tmp_path / "sample"
    write_sample(sample, SampleSpec(scale=0.02, seed=3))
    database = tmp_path / "attribution.duckdb"
    defs = build_defs(
        AttributionDuckDB(database=str(database)),
        SourceFiles(
            touchpoints=str(sample / "touchpoints" / "*.csv"),
            opportunities=str(sample / "opportunities" / "*.csv"),
            fx_rates=str(sample / "fx_rates.csv"),
        ),
        AttributionSettings(interval_replicates=0),
        ExportTarget(directory=str(tmp_path / "exports")),
    )
    (result,) = materialize_all(defs)
    assert result.success
    instance_run = result.dagster_run
    with duckdb.connect(str(database), read_only=True) as conn:
        as_ofs = {
            "ingest": {r[0] for r in conn.sql("select distinct as_of from load_audit").fetchall()},
            "null paths": {r[0] for r in conn.sql("select as_of from int_null_path_settings").fetchall()},
            "snapshot": {
                r[0]
                for r in conn.sql(
                    "select as_of from snapshot_runs where run_id = ?", params=[instance_run.run_id]
                ).fetchall()
            },
        }
    assert all(len(v) == 1 for v in as_ofs.values()), as_ofs
    assert len(set().union(*as_ofs.values())) == 1, as_ofs


def test_a_calibrated_model_end_to_end(sample_dir, tmp_path):
    # the sample plants a paid-social holdout: calibrated_linear scales linear's paid-social
    # credit by what it measured, and every check (conservation, reconciliation) holds
    settings = AttributionSettings(
        as_of=AS_OF.isoformat(), models=["linear", "last_touch"], calibrated_models=["linear"]
    )
    defs, database = core_defs(
        sample_dir,
        tmp_path,
        "calibrated.duckdb",
        settings,
        experiments="experiments.csv",
        experiment_assignments="experiment_assignments.csv",
    )
    (result,) = materialize_all(defs)
    assert result.success
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed == []
    credits = next(
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "mart_attribution_credits"
    )
    assert "calibration_ratios" in credits.materialization.metadata
    with duckdb.connect(str(database), read_only=True) as conn:
        reconciled = dict(
            conn.sql("select model, bool_and(is_reconciled) from mart_reconciliation group by 1").fetchall()
        )
        ratio, attributed, measured = conn.sql(
            "select ratio, attributed, measured_incremental from mart_experiment_vs_attribution "
            "where model = 'linear'"
        ).fetchall()[0]
        calibrated = conn.sql(
            "select attributed from mart_experiment_vs_attribution where model = 'calibrated_linear'"
        ).fetchall()[0][0]
        baseline = conn.sql(
            "select coalesce(sum(attributed_amount), 0) from mart_attribution_credits "
            "where model = 'calibrated_linear' and channel = '(baseline)'"
        ).fetchall()[0][0]
    assert reconciled == {"linear": True, "last_touch": True, "calibrated_linear": True}
    assert ratio == pytest.approx(measured / attributed)
    if ratio < 1:  # only paid social's credit shrinks: calibrated attributes what was measured
        assert calibrated == pytest.approx(measured)
        assert baseline > 0
    else:  # paid social takes from the other touches, never more than the deals
        assert attributed < calibrated and baseline == 0
