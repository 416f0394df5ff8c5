"""`attribution-run`: the whole pipeline and the exports without Dagster, for scripts and cron.

It takes the DuckDB file's writer lock first, so two runs started at once serialize (the
second waits up to --wait seconds, then stops with a clear message and exit code 75).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import duckdb

from attribution.config import AttributionConfig, parse_as_of
from attribution.mapping import load_mapping
from attribution.export import export_marts
from attribution.ingest import InputFileError
from attribution.locking import DatabaseBusyError, writer_lock
from attribution.pipeline import SourcePaths, input_files, run_pipeline

__all__ = ["main"]

EXIT_BUSY = 75
EXIT_BAD_INPUT = 65


def main(argv: list[str] | None = None) -> None:
    """Parse arguments (defaults from the ATTRIBUTION_* environment) and run."""
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touchpoints", default=env.get("ATTRIBUTION_TOUCHPOINTS", "data/sample/touchpoints/*.csv"))
    parser.add_argument("--opportunities", default=env.get("ATTRIBUTION_OPPORTUNITIES", "data/sample/opportunities/*.csv"))
    parser.add_argument("--fx-rates", default=env.get("ATTRIBUTION_FX_RATES", "data/sample/fx_rates.csv"))
    parser.add_argument("--database", default=env.get("ATTRIBUTION_DUCKDB") or "data/attribution.duckdb")
    parser.add_argument("--export-dir", default=env.get("ATTRIBUTION_EXPORT_DIR") or "data/exports")
    parser.add_argument(
        "--as-of", help="ISO timestamp (UTC unless it has an offset) or a date (its end); default now"
    )
    parser.add_argument("--lookback-days", type=int, default=90)
    parser.add_argument("--half-life-days", type=float, default=7.0)
    parser.add_argument("--markov-order", type=int, default=1)
    parser.add_argument("--reporting-currency", default="USD")
    parser.add_argument("--fx-base-currency", default="USD", help="the currency fx rates convert into")
    parser.add_argument("--fx-max-age-days", type=int, default=45, help="older rates are flagged")
    parser.add_argument("--company-timezone", default="UTC", help="the day a date-only value covers")
    parser.add_argument(
        "--column-preset",
        default=env.get("ATTRIBUTION_COLUMN_PRESET") or None,
        help="source column names: salesforce, hubspot or none",
    )
    parser.add_argument(
        "--mapping", default=env.get("ATTRIBUTION_MAPPING") or None,
        help="a TOML file with column renames and stage labels (see README)",
    )
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another run")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress lines")
    args = parser.parse_args(argv)

    try:
        extra = {"as_of": parse_as_of(args.as_of)} if args.as_of else {}
        config = AttributionConfig(
            lookback_days=args.lookback_days,
            time_decay_half_life_days=args.half_life_days,
            markov_order=args.markov_order,
            reporting_currency=args.reporting_currency,
            fx_base_currency=args.fx_base_currency,
            fx_max_age_days=args.fx_max_age_days,
            company_timezone=args.company_timezone,
            mapping=load_mapping(args.mapping, args.column_preset),
            **extra,
        )
    except ValueError as exc:  # MappingError is a ValueError too
        print(f"attribution-run: bad setting: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    sources = SourcePaths(args.touchpoints, args.opportunities, args.fx_rates or None)
    started = time.perf_counter()

    def tell(step: str) -> None:
        if not args.quiet:
            print(f"attribution-run: step {step} ({time.perf_counter() - started:.1f} s)", flush=True)

    try:
        with writer_lock(args.database, args.wait):
            Path(args.database).parent.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(args.database) as conn:
                results = run_pipeline(conn, sources, config, progress=tell)
                if not args.no_export:
                    tell("export")
                    export_marts(conn, Path(args.export_dir), config, input_files(sources))
    except DatabaseBusyError as exc:
        print(f"attribution-run: {exc}", file=sys.stderr)
        sys.exit(EXIT_BUSY)
    except InputFileError as exc:
        print(f"attribution-run: input file problem: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    summary = ", ".join(
        f"{name}={value if isinstance(value, int) else value.staged_rows}" for name, value in results.items()
    )
    print(f"attribution-run: done in {time.perf_counter() - started:.1f} s: {summary}")


if __name__ == "__main__":
    main()
