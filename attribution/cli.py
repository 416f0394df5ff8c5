"""`attribution-run`: the whole pipeline and the exports without Dagster, for scripts and cron.

It takes the DuckDB file's writer lock first, so two runs started at once serialize (the
second waits up to --wait seconds, then stops with a clear message and exit code 75).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import duckdb

from attribution.config import ENV_DEFAULTS, AttributionConfig, env_setting, parse_as_of, split_names
from attribution.export import export_marts
from attribution.html_report import write_report
from attribution.ingest import InputFileError
from attribution.locking import DatabaseBusyError, writer_lock
from attribution.mapping import load_mapping
from attribution.models import select_models
from attribution.pipeline import SourcePaths, input_files, run_pipeline
from attribution.restatements import build_restatements, take_snapshot

__all__ = ["main"]

EXIT_BUSY = 75
EXIT_BAD_INPUT = 65


def _plain_fields() -> dict[str, Any]:
    """AttributionConfig's fields of a plain type (int, float, str, bool, or a tuple of
    them given comma-separated): one option each."""
    hints = get_type_hints(AttributionConfig)
    plain: dict[str, Any] = {}
    for f in fields(AttributionConfig):
        kind = hints[f.name]
        if kind in (int, float, str, bool) or get_origin(kind) is tuple:
            plain[f.name] = kind
    return plain


def _comma_separated(kind: Any) -> Any:
    """A parser of 'a,b,c' into a tuple of the tuple type's element type."""
    element = get_args(kind)[0]

    def parse(text: str) -> tuple[Any, ...]:
        return tuple(element(item.strip()) for item in text.split(",") if item.strip())

    return parse


def _config_options(parser: argparse.ArgumentParser) -> None:
    """An option per plain AttributionConfig field, with its default (defaults in one place)."""
    defaults = AttributionConfig()
    aliases = {"time_decay_half_life_days": ["--half-life-days"]}
    for name, kind in _plain_fields().items():
        flags = [f"--{name.replace('_', '-')}", *aliases.get(name, [])]
        default = getattr(defaults, name)
        if name == "segment_columns":  # like the paths, from the environment when set
            default = split_names(env_setting("ATTRIBUTION_SEGMENT_COLUMNS"))
        if kind is bool:
            parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, default=default)
        elif get_origin(kind) is tuple:
            shown = ",".join(str(v) for v in default) or "all"
            parser.add_argument(
                *flags,
                dest=name,
                type=_comma_separated(kind),
                default=default,
                help=f"comma-separated; default {shown}",
            )
        else:
            parser.add_argument(*flags, dest=name, type=kind, default=default, help=f"default {default}")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments (defaults from the ATTRIBUTION_* environment) and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, variable in (
        ("--touchpoints", "ATTRIBUTION_TOUCHPOINTS"),
        ("--opportunities", "ATTRIBUTION_OPPORTUNITIES"),
        ("--fx-rates", "ATTRIBUTION_FX_RATES"),
        ("--milestones", "ATTRIBUTION_MILESTONES"),
        ("--spend", "ATTRIBUTION_SPEND"),
        ("--database", "ATTRIBUTION_DUCKDB"),
        ("--export-dir", "ATTRIBUTION_EXPORT_DIR"),
        ("--column-preset", "ATTRIBUTION_COLUMN_PRESET"),
        ("--mapping", "ATTRIBUTION_MAPPING"),
    ):
        parser.add_argument(
            flag, default=env_setting(variable), help=f"default ${variable} or {ENV_DEFAULTS[variable]!r}"
        )
    parser.add_argument(
        "--as-of", help="ISO timestamp (UTC unless it has an offset) or a date (its end); default now"
    )
    _config_options(parser)
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another run")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress lines")
    args = parser.parse_args(argv)

    try:
        settings: dict[str, Any] = {name: getattr(args, name) for name in _plain_fields()}
        if args.as_of:
            settings["as_of"] = parse_as_of(args.as_of)
        settings["mapping"] = load_mapping(args.mapping or None, args.column_preset or None)
        config = AttributionConfig(**settings)
        select_models(config)  # an unknown model name fails here, before any work
    except ValueError as exc:  # MappingError is a ValueError too
        print(f"attribution-run: bad setting: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    sources = SourcePaths(
        args.touchpoints,
        args.opportunities,
        args.fx_rates or None,
        args.milestones or None,
        args.spend or None,
    )
    started = time.perf_counter()

    def tell(step: str) -> None:
        if not args.quiet:
            print(f"attribution-run: step {step} ({time.perf_counter() - started:.1f} s)", flush=True)

    try:
        with writer_lock(args.database, args.wait):
            Path(args.database).parent.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(args.database) as conn:
                results = run_pipeline(conn, sources, config, progress=tell)
                tell("snapshot")
                run_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
                take_snapshot(conn, run_id, config)
                build_restatements(conn)
                if not args.no_export:
                    tell("export")
                    export_marts(conn, Path(args.export_dir), config, input_files(sources))
                    tell("report")
                    write_report(conn, Path(args.export_dir))
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
