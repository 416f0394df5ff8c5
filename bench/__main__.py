"""Benchmark the whole pipeline at scale tiers: `python -m bench --tier L`.

For each tier it generates synthetic Parquet inputs with the project's own generator (cached
under bench/out/<tier>/), measures a floor (DuckDB reading the touch files and sorting them
by account and time, no attribution), then runs ingest -> journeys -> every model for
pipeline and revenue -> Markov order selection -> confidence intervals -> marts -> exports,
printing wall time and peak RSS per stage and in total, touches per second, and the pipeline
time (every stage but the intervals and the per-touch credit export, which are measured on
their own) as a multiple of the floor. DuckDB runs under the tier's memory limit (3 GB up to
L, 8 GB at XL) unless --memory-limit says otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig
from attribution.contracts import SourcePaths
from attribution.engine import Engine, engine_for
from attribution.export import EXPORT_TABLES, export_marts
from attribution.pipeline import run_pipeline
from attribution.runfile import SAMPLE_SETTINGS
from attribution.sample_data import SampleSpec, write_sample

OUT = Path(__file__).resolve().parent / "out"
# the generator's one-file inputs (touchpoints/ and opportunities/ are folders of parts)
SINGLE_FILE_INPUTS = (
    "fx_rates",
    "milestones",
    "spend",
    "opportunity_history",
    "experiments",
    "experiment_assignments",
)
# the pipeline's progress steps (attribution.pipeline.run_pipeline) that fit the models, and
# the ones that bootstrap confidence intervals (measured apart from the pipeline)
MODEL_STAGES = ("markov", "shapley", "models")
INTERVAL_STAGES = ("intervals", "velocity_intervals")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Tier:
    """A scale tier: accounts x touches per account, tuned to the opportunity counts wanted,
    and the DuckDB memory limit it runs under (DuckDB spills beyond it)."""

    name: str
    accounts: int
    touches_per_account: float
    spark_scale: float
    memory_limit: str = "3GB"

    def spec(self) -> SampleSpec:
        return SampleSpec(
            scale=self.accounts / 3000,
            touches_per_account=self.touches_per_account,
            spark_scale=self.spark_scale,
            accounts_per_chunk=50_000,
        )


TIERS = {
    "S": Tier("S", 3_000, 17.0, 1.0),  # ~51k touches, ~1.5k opportunities
    "M": Tier("M", 20_000, 50.0, 0.35),  # ~1M touches, ~10k opportunities
    "L": Tier("L", 200_000, 50.0, 0.35),  # ~10M touches, ~100k opportunities, 200k accounts
    "XL": Tier("XL", 2_000_000, 50.0, 0.35, "8GB"),  # ~100M touches, ~1M opportunities
}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class PeakRss:
    """Samples this process's resident set every 20 ms; `peak` is the largest seen."""

    def __init__(self) -> None:
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    def take_peak(self) -> int:
        """The peak since the last call (or the start), the count restarted from now."""
        peak, self.peak = max(self.peak, _rss_bytes()), _rss_bytes()
        return peak


def _record(rows: list[tuple[str, float, float]], stage: str, seconds: float, peak_bytes: int) -> None:
    """Append a stage's (name, seconds, peak MiB) and print its line."""
    rows.append((stage, seconds, peak_bytes / 2**20))
    print(f"  {stage:<30}{seconds:9.2f} s{peak_bytes / 2**20:10.0f} MiB", flush=True)


@contextmanager
def measured(rows: list[tuple[str, float, float]], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    with PeakRss() as rss:
        yield
    _record(rows, stage, time.perf_counter() - started, rss.peak)


class StageClock:
    """Times the stages a progress callback names: `tell(name)` ends the stage running (its
    seconds and peak RSS appended to `rows`, one line printed) and starts `name`."""

    def __init__(self, rows: list[tuple[str, float, float]]) -> None:
        self.rows = rows
        self.stage: str | None = None
        self.started = 0.0
        self.rss = PeakRss()

    def tell(self, stage: str) -> None:
        now = time.perf_counter()
        if self.stage is not None:
            _record(self.rows, self.stage, now - self.started, self.rss.take_peak())
        self.stage, self.started = stage, time.perf_counter()

    def __enter__(self) -> StageClock:
        self.rss.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        self.tell("(end)")
        self.rss.__exit__()


def ensure_inputs(tier: Tier) -> Path:
    folder = OUT / tier.name / "inputs"
    if not (folder / "experiment_assignments.parquet").exists():  # written last
        started = time.perf_counter()
        counts = write_sample(folder, tier.spec(), "parquet")
        print(
            f"generated {tier.name}: "
            + ", ".join(f"{k}={v:,}" for k, v in counts.items())
            + f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return folder


def connect(path: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    temp = path.parent / "duckdb_tmp"
    temp.mkdir(exist_ok=True)
    # settings go in the connect config: no value is spliced into SQL
    return duckdb.connect(
        str(path),
        config={
            "memory_limit": memory_limit,
            "temp_directory": str(temp),
            "preserve_insertion_order": False,
        },
    )


def floor_seconds(inputs: Path, workdir: Path, memory_limit: str) -> float:
    """DuckDB reads the touch files and sorts them by account and time into a table."""
    database = workdir / "floor.duckdb"
    database.unlink(missing_ok=True)
    with connect(database, memory_limit) as conn:
        started = time.perf_counter()
        conn.sql(
            "create table sorted_touches as select * from read_parquet(?) order by account_id, occurred_at",
            params=[str(inputs / "touchpoints" / "*.parquet")],
        )
        seconds = time.perf_counter() - started
    database.unlink(missing_ok=True)
    return seconds


# every exported table but the per-touch credits (measured apart) and the run history
_MART_EXPORTS = tuple(t for t in EXPORT_TABLES if t not in ("mart_attribution_credits", "mart_restatements"))


def run_tier(
    tier: Tier,
    memory_limit: str | None,
    keep: bool,
    models: tuple[str, ...] = (),
    export_credits: bool = False,
    engine: str = "duckdb",
) -> dict[str, float]:
    memory_limit = memory_limit or tier.memory_limit
    inputs = ensure_inputs(tier)
    workdir = OUT / tier.name / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    touches = duckdb.execute(
        "select count(*) from read_parquet(?)", [str(inputs / "touchpoints" / "*.parquet")]
    ).fetchall()[0][0]
    floor = floor_seconds(inputs, workdir, memory_limit)
    print(
        f"tier {tier.name}: {touches:,} touches; floor (read + sort by account, time) {floor:.2f} s",
        flush=True,
    )
    # what make run enables on the sample: its journey kinds (pipeline, revenue, qualified,
    # mql) and segment cuts, the stage funnel, spend, the holdout experiment and calibration
    config = AttributionConfig.from_settings(SAMPLE_SETTINGS, models=models, engine=engine)
    rows: list[tuple[str, float, float]] = []
    on_spark = engine == "spark"
    spark: Engine | None = None
    if on_spark:  # the session's start-up is measured apart: a cluster pays it once
        with measured(rows, "spark session start"):
            spark = engine_for("spark")
        assert spark is not None
        fixed = []
        for _ in range(10):
            began = time.perf_counter()
            spark.frame("select 1 as one")
            fixed.append(time.perf_counter() - began)
        print(f"  spark per-query fixed cost (select 1, median of 10): {sorted(fixed)[5] * 1000:.0f} ms")
    sources = SourcePaths(
        touchpoints=inputs / "touchpoints" / "*.parquet",
        opportunities=inputs / "opportunities" / "*.parquet",
        **{name: inputs / f"{name}.parquet" for name in SINGLE_FILE_INPUTS},
    )
    started = time.perf_counter()
    with PeakRss() as total_rss, connect(workdir / "attribution.duckdb", memory_limit) as conn:
        with StageClock(rows) as clock:
            run_pipeline(conn, sources, config, progress=clock.tell, engine=spark)
            clock.tell("exports (marts)")
            export_marts(conn, workdir / "exports", config, tables=_MART_EXPORTS)
            if export_credits:  # the per-touch credits: 37M rows at L, measured apart
                clock.tell("export of the credits")
                export_marts(conn, workdir / "credit_export", config, tables=("mart_attribution_credits",))
        total = time.perf_counter() - started
        journeys = conn.sql("select count(*) from int_journeys where is_converted").fetchall()[0][0]
    seconds = {name: s for name, s, _ in rows}
    model_seconds = sum(seconds.get(name, 0.0) for name in MODEL_STAGES)
    interval_seconds = sum(seconds.get(name, 0.0) for name in INTERVAL_STAGES)
    apart = (*INTERVAL_STAGES, "export of the credits", "spark session start")  # on their own
    pipeline = sum(s for name, s, _ in rows if name not in apart)
    pipeline_peak = max(peak for name, _, peak in rows if name not in apart)
    print(f"  {'total':<30}{total:9.2f} s{total_rss.peak / 2**20:10.0f} MiB")
    print(
        f"  pipeline (every stage but the intervals and the credit export): {pipeline:.2f} s = "
        f"{pipeline / floor:.1f} x floor, peak {pipeline_peak / 1024:.2f} GiB "
        f"(DuckDB memory_limit {memory_limit}); {touches / pipeline:,.0f} touches per second"
        + (" [engine spark local: peak RSS is the Python driver's, the JVM's is apart]" if on_spark else "")
    )
    print(f"  journey kinds {', '.join(config.journey_kinds)}: {journeys:,} converted journeys")
    print(
        f"  confidence intervals ({config.intervals.replicates} replicates, attribution and "
        f"velocity): {interval_seconds:.2f} s = {interval_seconds / pipeline:.2f} x the pipeline, "
        f"{interval_seconds / model_seconds:.2f} x the models ({model_seconds:.2f} s)"
    )
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    peaks = {name: peak / 1024 for name, _, peak in rows}
    GROWTH.append((tier.name, engine, touches, {**seconds, "pipeline": pipeline, "floor": floor}, peaks))
    return {**seconds, "pipeline": pipeline, "intervals": interval_seconds, "floor": floor}


# (tier, engine, touches, seconds by stage, peak GiB by stage) of every tier run, in order
GROWTH: list[tuple[str, str, int, dict[str, float], dict[str, float]]] = []


def _cell(run: tuple[str, str, int, dict[str, float], dict[str, float]], stage: str) -> str:
    """'12.34 s 1.23 G' of one stage in one tier's run ('' when it did not run there)."""
    if stage not in run[3]:
        return ""
    peak = run[4].get(stage)
    return f"{run[3][stage]:.2f} s" + (f" {peak:.2f} G" if peak is not None else "")


def growth_table(runs: list[tuple[str, str, int, dict[str, float], dict[str, float]]]) -> str:
    """Seconds and peak GiB per stage and tier, and per stage the exponent of time against
    touches between the two largest tiers (log(t2 / t1) / log(n2 / n1): 1 is linear; '*'
    above 1.1)."""
    if len(runs) < 2:
        return ""
    (_, _, n1, t1, _), (_, _, n2, t2, _) = sorted(runs, key=lambda run: run[2])[-2:]
    stages = list(dict.fromkeys(stage for run in runs for stage in run[3]))
    header = f"  {'stage':<30}" + "".join(f"{f'{run[0]} ({run[1]})':>18}" for run in runs)
    lines = [header + f"{'exponent':>10}"]
    for stage in stages:
        cells = "".join(f"{_cell(run, stage):>18}" for run in runs)
        exponent = ""
        if t1.get(stage, 0) > 0 and t2.get(stage, 0) > 0 and n2 > n1:
            value = math.log(t2[stage] / t1[stage]) / math.log(n2 / n1)
            exponent = f"{value:9.2f}" + ("*" if value > 1.1 else " ")
        lines.append(f"  {stage:<30}{cells}{exponent:>10}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", action="append", choices=list(TIERS), help="repeatable; default S")
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB memory_limit (spills beyond); default: the tier's"
    )
    parser.add_argument(
        "--export-credits", action="store_true", help="also export the per-touch credits (measured apart)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB file of the run")
    parser.add_argument("--markov", action="store_true", help="also run bench.markov_compare (1M journeys)")
    parser.add_argument("--models", default="", help="comma-separated models to run (default: all)")
    parser.add_argument(
        "--engine",
        action="append",
        choices=("duckdb", "spark"),
        help="repeatable (both: figures side by side); spark: local[2] or ATTRIBUTION_SPARK_*",
    )
    args = parser.parse_args(argv)
    print(
        f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30:.0f} GiB, "
        f"Python {sys.version.split()[0]}, duckdb {duckdb.__version__}"
    )
    engines = args.engine or ["duckdb"]
    for name in args.tier or ["S"]:
        figures = {
            engine: run_tier(
                TIERS[name],
                args.memory_limit,
                args.keep,
                tuple(m for m in args.models.split(",") if m),
                args.export_credits,
                engine,
            )
            for engine in engines
        }
        if len(figures) > 1:
            stages = list(dict.fromkeys(stage for f in figures.values() for stage in f))
            print(f"tier {name}, seconds by engine:")
            print(f"  {'stage':<28}" + "".join(f"{e:>10}" for e in figures))
            for stage in stages:
                print(
                    f"  {stage:<28}"
                    + "".join(f"{f.get(stage, float('nan')):10.2f}" for f in figures.values())
                )
    duckdb_runs = [run for run in GROWTH if run[1] == "duckdb"]
    if len(duckdb_runs) > 1:
        print(
            "growth: seconds and peak GiB per stage and tier; exponent of time vs touches between the two largest"
        )
        print(growth_table(duckdb_runs))
    if args.markov:
        from bench.markov_compare import main as markov_main

        markov_main([])


if __name__ == "__main__":
    main()
