"""Reporting group: the marts (each a SQL model under sql/marts/), the side-by-side
comparison with its chart, and the exports."""

import base64
import functools
import graphlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from attribution import describe
from attribution.config import AttributionConfig
from attribution.experiments.handoff import build_lift_tests_pymc, build_lift_tests_robyn
from attribution.experiments.results import build_experiment_results, build_experiment_vs_attribution
from attribution.export import EXPORT_TABLES, ExportError, export_marts
from attribution.glossary import GLOSSARY
from attribution.html_report import write_report
from attribution.pipeline import build_mart, input_files, mirror
from attribution.report import (
    comparison_chart_png,
    comparison_table,
    headline_totals,
    interval_chart_png,
    share_intervals,
)
from attribution.restatements import build_restatements, publish_snapshot, take_snapshot
from attribution.sql import sql_description
from attribution.sql_graph import sql_reads
from attribution.steps import MART_FILES, MART_TABLES
from attribution.velocity_intervals import build_velocity_intervals
from dagster_defs.assets import DUCKDB_POOL, REPORTING_GROUP, step_on_engine
from dagster_defs.metadata import markdown_table, table_metadata
from dagster_defs.resources import AttributionSettings, ExportTarget, SourceFiles

# tables an asset writes beside its own (reads of them depend on that asset)
WRITTEN_BY: dict[str, str] = {
    "snapshot_runs": "report_snapshot",
    "snapshot_opportunities": "report_snapshot",
    "snapshot_attributed_by_month": "report_snapshot",
}


# every mart also waits for the credits' blocking checks (credit_conservation,
# totals_reconcile_across_models on mart_attribution_credits): a table read is a dep by itself,
# a check's guard is not
GUARDS: tuple[str, ...] = ("mart_attribution_credits",)


# what the guards' checks themselves read: built before them, so not guarded
# (totals_reconcile_across_models reads int_credits_by_channel)
UNGUARDED: tuple[str, ...] = ("int_credits_by_channel",)


def sql_deps(table: str, *extra: str) -> list[str]:
    """The assets `sql/marts/<table>.sql` reads, parsed from the file (attribution.sql_graph),
    plus `extra` (what an asset's metadata reads beyond its SQL) and the GUARDS."""
    reads = {WRITTEN_BY.get(name, name) for name in sql_reads(MART_FILES[table])}
    guards = set() if table in UNGUARDED else set(GUARDS)
    return sorted((reads | set(extra) | guards) - {table})


@dataclass(frozen=True)
class MartAsset:
    """One mart: the table sql/marts/<table>.sql (or `build`) writes, its description, deps
    and the metadata it adds. mart_steps makes the Dagster assets of them."""

    table: str
    description: str
    deps: tuple[str, ...]
    extra_metadata: Callable[[duckdb.DuckDBPyConnection], dict[str, Any]] | None = None
    build: Callable[[duckdb.DuckDBPyConnection, AttributionConfig], object] | None = None


def sql_model_asset(
    table: str,
    description: str,
    deps: Sequence[str] | None = None,
    extra_metadata: Callable[[duckdb.DuckDBPyConnection], dict[str, Any]] | None = None,
    build: Callable[[duckdb.DuckDBPyConnection, AttributionConfig], object] | None = None,
) -> MartAsset:
    """A mart asset that runs sql/marts/<table>.sql (or `build`) and describes the table it
    wrote; its deps are what the SQL file reads (sql_deps), unless given."""
    return MartAsset(
        table, description, tuple(sql_deps(table) if deps is None else deps), extra_metadata, build
    )


def _build_one(
    mart: MartAsset, conn: duckdb.DuckDBPyConnection, config: AttributionConfig
) -> dg.MaterializeResult[Any]:
    """Write one mart and return its materialization (table metadata and its own)."""
    if mart.build is None:
        runner = step_on_engine(conn, config)
        build_mart(runner, mart.table, config)
        mirror(runner, conn, [mart.table])
    else:
        mart.build(conn, config)
    extra = mart.extra_metadata(conn) if mart.extra_metadata else {}
    return dg.MaterializeResult(asset_key=mart.table, metadata={**table_metadata(conn, mart.table), **extra})


def mart_step(name: str, marts: Sequence[MartAsset]) -> dg.AssetsDefinition:
    """One step writing `marts` in order (each after the marts of the step it reads), one
    connection and one config for all; subsettable, so a selection in the UI writes only its
    marts."""
    specs = [
        dg.AssetSpec(
            m.table,
            group_name=REPORTING_GROUP,
            kinds={"duckdb"},
            deps=list(m.deps),
            description=m.description,
        )
        for m in marts
    ]

    @dg.multi_asset(specs=specs, name=name, pool=DUCKDB_POOL, can_subset=True)
    def _marts(
        context: dg.AssetExecutionContext,
        duckdb: DuckDBResource,
        settings: AttributionSettings,
    ) -> Iterator[dg.MaterializeResult[Any]]:
        selected = {key.to_user_string() for key in context.selected_asset_keys}
        with duckdb.get_connection() as conn:
            config = settings.to_config(context)
            for mart in marts:
                if mart.table in selected:
                    yield _build_one(mart, conn, config)

    return _marts


def mart_steps(
    marts: Sequence[MartAsset],
    others: Sequence[dg.AssetsDefinition],
    check_reads: Mapping[str, set[str]],
) -> list[dg.AssetsDefinition]:
    """The marts as a few steps instead of one each (a step costs ~0.1-0.2 s of Dagster events
    and a DuckDB connection): marts at the same level, the most steps of other assets (and
    blocking checks) on any path to them, share a step, so no path leaves a step and comes
    back (an op cycle); within a step, each mart after the marts it reads. `check_reads`:
    asset -> what its blocking checks read (what every asset downstream of it waits for)."""
    by_table = {m.table: m for m in marts}
    parents: dict[str, set[str]] = {m.table: set(m.deps) for m in marts}
    for assets in others:
        for spec in assets.specs:
            parents[spec.key.to_user_string()] = {dep.asset_key.to_user_string() for dep in spec.deps}
    for checked, reads in check_reads.items():  # a blocking check is a step in between
        for deps in list(parents.values()):
            if checked in deps:
                deps.add(f"checks of {checked}")
        parents[f"checks of {checked}"] = {checked, *reads}

    @functools.cache
    def level(key: str) -> int:
        # an edge between two marts costs nothing; any other edge is a step boundary
        return max(
            (level(p) + (0 if p in by_table and key in by_table else 1) for p in parents.get(key, ())),
            default=0,
        )

    layers: dict[int, list[str]] = {}
    for table in by_table:
        layers.setdefault(level(table), []).append(table)
    steps = []
    for n, (_, tables) in enumerate(sorted(layers.items()), start=1):
        ordered = graphlib.TopologicalSorter(
            {t: parents[t] & set(tables) for t in sorted(tables)}
        ).static_order()
        steps.append(mart_step(f"marts_{n}", [by_table[t] for t in ordered]))
    return steps


def _unreconciled(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {"unreconciled_rows": dg.MetadataValue.int(describe.unreconciled_rows(conn))}


def _segment_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    counts = describe.segment_counts(conn)
    text = (
        markdown_table(counts)
        if len(counts)
        else "no segment column set (ATTRIBUTION_SEGMENT_COLUMNS / segment_columns)"
    )
    return {"segments": dg.MetadataValue.md(text)}


int_credits_by_channel = sql_model_asset(
    "int_credits_by_channel",
    "One row per (journey_kind, opportunity, channel), wide: per model the credit of the "
    "channel's touches (credit_<model>) and the amount attributed to them in exact pico-units "
    "(picos_<model>), with the journey's month and fiscal quarter; the shared grain of the "
    "channel-level marts.",
)
mart_period_totals = sql_model_asset(
    "mart_period_totals",
    "One row per (journey_kind, month): total pipeline (created in the month) or won revenue "
    "(won in it) and the influenced part, with opportunity counts: the totals the influenced "
    f"marts sum to, one row per month. {GLOSSARY['influenced pipeline / revenue']}",
)
int_attributed_by_month = sql_model_asset(
    "int_attributed_by_month",
    "One row per (journey_kind, month, model, channel): attributed amount and opportunities "
    "credited; the one model behind both influenced marts.",
)
mart_influenced_pipeline = sql_model_asset(
    "mart_influenced_pipeline",
    "One row per (month of created_at, model, channel): attributed pipeline and opportunities "
    "credited; a month's rows of one model sum to its pipeline (the month totals are in "
    "mart_period_totals).",
)
mart_influenced_revenue = sql_model_asset(
    "mart_influenced_revenue",
    "One row per (month of closed_at, model, channel): attributed won revenue and "
    "opportunities credited; a month's rows of one model sum to its won revenue (the month "
    "totals are in mart_period_totals).",
)
mart_campaign_comparison = sql_model_asset(
    "mart_campaign_comparison",
    "One row per (journey_kind, model, channel, campaign): attributed amount, share of the "
    "model's total, opportunities credited; a touch without a campaign counts under "
    "'(no campaign)'. Per model the rows sum to the total pipeline / won revenue.",
    extra_metadata=lambda conn: {
        "top_campaigns_pipeline": dg.MetadataValue.md(markdown_table(describe.top_campaigns(conn)))
    },
)
mart_campaign_comparison_wide = sql_model_asset(
    "mart_campaign_comparison_wide",
    "One row per (journey_kind, channel, campaign), one column per model: the models side by "
    "side per campaign.",
)
mart_channel_influence = sql_model_asset(
    "mart_channel_influence",
    "One row per (journey_kind, channel): any-touch influenced pipeline / won revenue (the "
    "amounts of opportunities whose journey touched the channel at least once) and their "
    "count. Model-independent and not additive across channels: an opportunity touched by "
    f"several channels counts under each. {GLOSSARY['influenced pipeline / revenue']}",
)
mart_sourced_influenced = sql_model_asset(
    "mart_sourced_influenced",
    "One row per (journey_kind, channel) for finance: sourced amount and opportunities (the "
    "journey's first-touch channel, or the CRM lead_source: setting sourced_by; additive), "
    "any-touch influenced amount (not additive) and one column per model with the attributed "
    "amount (additive).",
)
mart_campaign_influence = sql_model_asset(
    "mart_campaign_influence",
    "One row per (journey_kind, channel, campaign): any-touch influenced pipeline / won revenue "
    "of the campaign and the opportunities it touched ('(no campaign)' for touches without "
    f"one). {GLOSSARY['any-touch influence']}",
)
mart_attributed_by_quarter = sql_model_asset(
    "mart_attributed_by_quarter",
    "One row per (journey_kind, fiscal quarter, model, channel): attributed amount, share of the "
    "quarter, opportunities credited. Period: the fiscal quarter of created_at (pipeline) or "
    f"closed_at (revenue). {GLOSSARY['fiscal quarter']}",
)
int_opportunity_segments = sql_model_asset(
    "int_opportunity_segments",
    "One row per (opportunity, segment dimension): the value of each segment column of the "
    f"settings. {GLOSSARY['segment']}",
    extra_metadata=_segment_counts,
)
mart_segment_comparison = sql_model_asset(
    "mart_segment_comparison",
    "One row per (journey_kind, model, segment dimension, segment value, channel): attributed "
    "amount, share of the segment, opportunities credited; per segment value the rows sum to "
    f"the segment's pipeline / won revenue. {GLOSSARY['segment']}",
)
int_spend_return_by_period = sql_model_asset(
    "int_spend_return_by_period",
    "One row per (period grain, period, model, channel, campaign): spend next to the pipeline and won revenue "
    "the model attributes; the base of the spend and return marts.",
)
_RETURN_TEXT = (
    "cost per attributed pipeline dollar and attributed pipeline / won revenue per dollar spent, "
    "by month, fiscal quarter and all periods (period_grain). Periods: spend date, created_at "
    f"(pipeline), closed_at (revenue). {GLOSSARY['spend']}"
)
mart_spend_return = sql_model_asset(
    "mart_spend_return",
    f"One row per (period_grain, period, model, channel): spend, attributed pipeline and revenue, {_RETURN_TEXT}",
    extra_metadata=lambda conn: {
        "return_all_periods_linear": dg.MetadataValue.md(markdown_table(describe.spend_return(conn)))
    },
)
mart_campaign_spend_return = sql_model_asset(
    "mart_campaign_spend_return",
    "One row per (period_grain, period, model, channel, campaign): spend, attributed pipeline "
    f"and revenue, {_RETURN_TEXT} A spend line without a campaign is '(channel level)'.",
)
mart_time_to_convert = sql_model_asset(
    "mart_time_to_convert",
    "One row per (month of created_at, channel) plus '(all channels)': median and p90 days from "
    "the channel's first journey touch to opportunity creation and to the won close, and "
    "touches per journey (median, p90, mean).",
)


def _agreement(conn: duckdb.DuckDBPyConnection) -> str:
    agreement = describe.self_reported_agreement(conn)
    return markdown_table(agreement) if len(agreement) else 'nobody answered "how did you hear about us"'


mart_self_reported_comparison = sql_model_asset(
    "mart_self_reported_comparison",
    "What buyers say next to what the models say: one row per (model, channel) over the pipeline "
    'journeys of the opportunities someone answered "how did you hear about us" for (the '
    "opportunity's field, its contact roles' or its account's people; mapped to channels by the "
    "channel rules): the self-reported share, the model's share, the gap, and per model the "
    "agreement rate (answers naming a channel the model credits most). Empty when nobody answered.",
    extra_metadata=lambda conn: {
        "agreement_by_model": dg.MetadataValue.md(_agreement(conn)),
    },
)
mart_reconciliation = sql_model_asset(
    "mart_reconciliation",
    "One row per (journey_kind, model): attributed total next to total pipeline / won revenue "
    "and influenced amount, to the cent; is_reconciled when they agree and influenced <= "
    "total. A blocking check on it guards the exports.",
    extra_metadata=_unreconciled,
)

mart_stage_funnel = sql_model_asset(
    "mart_stage_funnel",
    sql_description(MART_FILES["mart_stage_funnel"]),
    extra_metadata=lambda conn: {
        "funnel": dg.MetadataValue.md(markdown_table(describe.stage_funnel_chart(conn))),
        # a deal without history rows entered the first stage at its creation and, won, the
        # last at its close
        "deals_without_history": dg.MetadataValue.int(describe.deals_without_history(conn)),
    },
)
mart_lead_funnel = sql_model_asset(
    "mart_lead_funnel",
    sql_description(MART_FILES["mart_lead_funnel"]),
    extra_metadata=lambda conn: {
        "funnel": dg.MetadataValue.md(markdown_table(describe.lead_funnel_chart(conn))),
        "accounts_with_deals_and_no_lead_milestone": dg.MetadataValue.int(
            describe.accounts_without_lead_milestones(conn)
        ),
    },
)
mart_velocity_intervals = sql_model_asset(
    "mart_velocity_intervals",
    "One row per (credited_by, channel, figure) of mart_channel_velocity's win rate, average "
    "deal size, sales cycle and pipeline velocity: the interval holding the figure in the "
    "configured share of Poisson-bootstrap replicates over the pipeline's deals (the credit "
    "intervals' weights). None where the figure is undefined in every replicate.",
    deps=["int_deal_credits", "mart_channel_velocity"],
    build=build_velocity_intervals,
)
mart_experiment_results = sql_model_asset(
    "mart_experiment_results",
    "One row per (experiment, metric): units and means per arm, the lift per unit (CUPED-"
    "adjusted by the equal pre-period, its variance reduction), its interval (Welch; a "
    "bootstrap beside it) and p, the total incremental amount, the pre-registered rule's "
    "decision (scale, stop, inconclusive, no_decision) and the checks: sample-ratio p, control "
    "units touched by the tested channel or campaign, open deals, minimum detectable effect.",
    deps=["stg_experiments", "stg_experiment_assignments", "stg_opportunities", "stg_touchpoints"],
    build=build_experiment_results,
)
mart_experiment_vs_attribution = sql_model_asset(
    "mart_experiment_vs_attribution",
    "One row per (experiment, model) of its primary metric: what the model attributes to the "
    "tested channel or campaign on the treated units' deals of the window, the measured "
    "incremental total with its interval, their ratio with the interval's ratios, and "
    "is_outside_interval where the model's figure lies outside what the experiment measured.",
    deps=["mart_experiment_results", "mart_attribution_credits"],
    build=build_experiment_vs_attribution,
)
mart_lift_tests_pymc = sql_model_asset(
    "mart_lift_tests_pymc",
    "The measured lifts as PyMC-Marketing's lift-test frame (add_lift_test_measurements): per "
    "experiment with a channel, x (the channel's spend over the equal pre-period), delta_x "
    "(the window's spend minus it), delta_y (the measured incremental total) and sigma (its "
    "standard error).",
    deps=["mart_experiment_results", "stg_spend"],
    build=build_lift_tests_pymc,
)
mart_lift_tests_robyn = sql_model_asset(
    "mart_lift_tests_robyn",
    "The measured lifts as Robyn's calibration_input: channel, liftStartDate, liftEndDate, "
    "liftAbs (the measured incremental total), spend (the window's), confidence (the interval's "
    "level), metric and calibration_scope.",
    deps=["mart_experiment_results", "stg_spend"],
    build=build_lift_tests_robyn,
)
mart_reconciliation_cuts = sql_model_asset(
    "mart_reconciliation_cuts",
    "One row per (table, journey_kind, model, cut, cut value): what every additive table reports "
    "for a month, fiscal quarter, segment or the total next to what the opportunities hold "
    "there; is_reconciled to the cent. A blocking check on it guards the exports.",
    extra_metadata=lambda conn: {
        "unreconciled_rows": dg.MetadataValue.int(
            describe.unreconciled_rows(conn, "mart_reconciliation_cuts")
        ),
        "cells_by_table": dg.MetadataValue.md(markdown_table(describe.reconciled_cells(conn))),
    },
)

_COMPARISON = dg.AssetSpec(
    "mart_channel_comparison",
    group_name=REPORTING_GROUP,
    kinds={"duckdb"},
    deps=sql_deps("mart_channel_comparison", "mart_period_totals", "mart_stage_funnel"),
    description="One row per (journey_kind, model, channel): attributed amount, share of the "
    f"model's total, opportunities credited. {GLOSSARY['attributed pipeline / revenue']}",
)
_COMPARISON_WIDE = dg.AssetSpec(
    "mart_channel_comparison_wide",
    group_name=REPORTING_GROUP,
    kinds={"duckdb"},
    deps=sql_deps("mart_channel_comparison_wide"),
    description="One row per (journey_kind, channel), one column per model: the models side by side.",
)


@dg.multi_asset(specs=[_COMPARISON, _COMPARISON_WIDE], pool=DUCKDB_POOL)
def channel_comparison(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> Iterator[dg.MaterializeResult[Any]]:
    """The comparison, long and wide; the long one carries the tables, chart and totals."""
    with duckdb.get_connection() as conn:
        config = settings.to_config(context)
        runner = step_on_engine(conn, config)
        build_mart(runner, "mart_channel_comparison", config)
        build_mart(runner, "mart_channel_comparison_wide", config)
        mirror(runner, conn, ["mart_channel_comparison", "mart_channel_comparison_wide"])
        metadata: dict[str, Any] = dict(table_metadata(conn, "mart_channel_comparison"))
        tables = {kind: comparison_table(conn, kind) for kind in config.journey_kinds}
        for kind, table in tables.items():
            metadata[f"{kind}_by_channel_and_model"] = dg.MetadataValue.md(markdown_table(table))
        chart = base64.b64encode(comparison_chart_png(tables)).decode("ascii")
        metadata["chart"] = dg.MetadataValue.md(
            f"![attributed pipeline and revenue by channel and model](data:image/png;base64,{chart})"
        )
        intervals = {kind: share_intervals(conn, kind) for kind in config.journey_kinds}
        if any(not frame.is_empty() for frame in intervals.values()):
            bars = base64.b64encode(interval_chart_png(intervals)).decode("ascii")
            metadata["share_intervals_chart"] = dg.MetadataValue.md(
                f"![share of each channel by model with confidence intervals](data:image/png;base64,{bars})"
            )
        for key, value in headline_totals(conn).items():
            metadata[key] = dg.MetadataValue.float(round(value, 2))
        metadata["stage_funnel"] = dg.MetadataValue.md(markdown_table(describe.stage_funnel_chart(conn)))
        for (kind, model), amount in describe.attributed_totals(conn).items():
            metadata[f"attributed_{kind}_{model}"] = dg.MetadataValue.float(round(amount, 2))
        yield dg.MaterializeResult(asset_key="mart_channel_comparison", metadata=metadata)
        yield dg.MaterializeResult(
            asset_key="mart_channel_comparison_wide",
            metadata=table_metadata(conn, "mart_channel_comparison_wide"),
        )


@dg.asset(
    group_name=REPORTING_GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=list(MART_TABLES),
    description="The restatement history: this run's published month x model x channel figures "
    "and its journeys (stage, amount, value, touch fingerprint), appended to snapshot_runs, "
    "snapshot_attributed_by_month and snapshot_opportunities under the Dagster run id, after the "
    "reconciliation checks passed. Later runs never rewrite them; runs older than "
    "snapshot_retention_days are pruned.",
)
def report_snapshot(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: AttributionSettings,
) -> dg.MaterializeResult[Any]:
    config = settings.to_config(context)
    with duckdb.get_connection() as conn:
        runs = take_snapshot(conn, context.run.run_id, config)
        history = describe.latest_runs(conn)
    return dg.MaterializeResult(
        metadata={
            "run_id": dg.MetadataValue.text(context.run.run_id),
            "runs_in_history": dg.MetadataValue.int(runs),
            "latest_runs": dg.MetadataValue.md(markdown_table(history)),
        }
    )


def _restated_periods(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    restated = describe.restated_periods(conn)
    text = markdown_table(restated) if len(restated) else "no period restated since it was first reported"
    return {"restated_periods_linear": dg.MetadataValue.md(text)}


mart_restatements = sql_model_asset(
    "mart_restatements",
    "One row per (journey_kind, month, model, channel): the amount first reported (the earliest "
    "retained run whose snapshot has the month), the amount now, the difference, and the month's "
    "causes counted: new or removed opportunities, stage, amount and fx changes, journeys whose "
    "touches changed (late or removed touches).",
    extra_metadata=_restated_periods,
    build=lambda conn, _config: build_restatements(conn),
)


@dg.asset(
    group_name=REPORTING_GROUP,
    kinds={"parquet", "csv"},
    deps=list(EXPORT_TABLES),
    description="The marts as Parquet and CSV files under ATTRIBUTION_EXPORT_DIR (default "
    "data/exports/), each written to a temporary file and renamed, with manifest.json: as-of "
    "time, row counts, config, input file fingerprints and a SHA-256 per file.",
)
def exports(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    export_target: ExportTarget,
    source_files: SourceFiles,
    settings: AttributionSettings,
) -> dg.MaterializeResult[Any]:
    config = settings.to_config(context)
    run = source_files.spec()  # the inputs, the run file and where each came from
    with duckdb.get_connection() as conn:
        try:
            manifest = export_marts(
                conn,
                Path(export_target.path()),
                config,
                input_files(run.sources),
                run=run.describe(),
            )
        except ExportError as exc:
            raise dg.Failure(description=f"Export failed: {exc}", allow_retries=False) from exc
        publish_snapshot(conn, context.run.run_id)  # only a published run enters the history
    files = manifest["files"]
    listing = pl.DataFrame(
        {
            "file": list(files),
            "rows": [f["rows"] for f in files.values()],
            "sha256": [f["sha256"][:16] for f in files.values()],
        }
    )
    return dg.MaterializeResult(
        metadata={
            "directory": dg.MetadataValue.path(str(Path(export_target.path()).resolve())),
            "files": dg.MetadataValue.md(markdown_table(listing)),
            "file_count": dg.MetadataValue.int(len(files)),
            "as_of": dg.MetadataValue.text(manifest["as_of"]),
        }
    )


@dg.asset(
    group_name=REPORTING_GROUP,
    kinds={"html"},
    deps=["exports"],
    description="The joint marketing-sales report: one self-contained HTML file "
    "(attribution_report.html next to the exports, listed in their manifest with its checksum) "
    "that opens offline: headline figures, the model comparison with confidence intervals, where "
    "the models agree and diverge, campaigns, sourced vs influenced vs attributed, the monthly "
    "trend, segments, spend and return, time to convert, Markov removal effects and order, the "
    "largest deals touch by touch with every model's reason, what changed since first reported, "
    "data quality, the glossary and the run manifest.",
)
def joint_report(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    export_target: ExportTarget,
    settings: AttributionSettings,
) -> dg.MaterializeResult[Any]:
    with duckdb.get_connection() as conn:
        config = settings.to_config(context)
        result = write_report(conn, Path(export_target.path()), config)
        tables = {kind: comparison_table(conn, kind) for kind in config.journey_kinds}
        preview = base64.b64encode(comparison_chart_png(tables)).decode("ascii")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path.resolve())),
            "url": dg.MetadataValue.url(result.path.resolve().as_uri()),
            "bytes": dg.MetadataValue.int(result.bytes),
            "sha256": dg.MetadataValue.text(result.sha256),
            "render_seconds": dg.MetadataValue.float(round(result.seconds, 2)),
            "preview": dg.MetadataValue.md(
                f"![the report's model comparison](data:image/png;base64,{preview})"
            ),
        }
    )


def _declared() -> dict[str, MartAsset]:
    declared = [value for value in list(globals().values()) if isinstance(value, MartAsset)]
    return {mart.table: mart for mart in declared}


# every other mart of sql/marts/ is an asset as it stands: its SQL file's header is its
# description, its reads its deps (a new mart is its SQL file and a test)
MARTS: tuple[MartAsset, ...] = (
    *_declared().values(),
    *(
        sql_model_asset(table, sql_description(MART_FILES[table]))
        for table in MART_TABLES
        if table not in _declared()
        and table
        not in {
            key.to_user_string()
            for v in list(globals().values())
            if isinstance(v, dg.AssetsDefinition)
            for key in v.keys
        }
    ),
)
