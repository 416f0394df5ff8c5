"""`attribution-run`: the whole pipeline and the exports without Dagster, for scripts and cron.

It takes the DuckDB file's writer lock first, so two runs started at once serialize (the
second waits up to --wait seconds, then stops with a clear message and exit code 75).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, get_args, get_origin

import duckdb

from attribution.checks import publication_blockers
from attribution.config import AttributionConfig, setting_types
from attribution.engine import EngineUnavailableError, engine_for
from attribution.export import EXIT_EXPORT_FAILED, ExportError, export_marts
from attribution.html_report import report_available, write_report
from attribution.ingest import InputFileError
from attribution.locking import EXIT_BUSY, DatabaseBusyError, writer_lock
from attribution.models import select_models
from attribution.pipeline import ModelLimitError, input_files, run_pipeline
from attribution.restatements import build_restatements, publish_snapshot, take_snapshot
from attribution.runfile import DEFAULT_RUN_FILE, INPUTS, OUTPUTS, RUN_FILE_VARIABLE, RunSpec, resolve_run

__all__ = ["main"]

EXIT_BAD_INPUT = 65  # an input file cannot be read, or a setting, mapping or run file is wrong
EXIT_UNRECONCILED = 70  # the numbers do not reconcile: nothing published
# EXIT_BUSY = 75: another run is writing the DuckDB file (attribution.locking)
# EXIT_EXPORT_FAILED = 73: the export folder cannot be written (attribution.export)


def _plain_fields() -> dict[str, Any]:
    """The settings of a plain type (int, float, str, bool, a tuple of them given
    comma-separated, or a map given as 'name=value' entries): one option each."""
    plain: dict[str, Any] = {}
    for name, kind in setting_types().items():
        if kind in (int, float, str, bool) or get_origin(kind) in (tuple, Mapping):
            plain[name] = kind
    return plain


def _comma_separated(kind: Any) -> Any:
    """A parser of 'a,b,c' into a tuple of the tuple type's element type."""
    element = get_args(kind)[0]

    def parse(text: str) -> tuple[Any, ...]:
        return tuple(element(item.strip()) for item in text.split(",") if item.strip())

    return parse


def _config_options(parser: argparse.ArgumentParser) -> None:
    """An option per plain AttributionConfig field; unset, the run file's value, else the
    default shown (defaults in one place: AttributionConfig)."""
    defaults = AttributionConfig()
    aliases = {"time_decay_half_life_days": ["--half-life-days"]}
    for name, kind in _plain_fields().items():
        flags = [f"--{name.replace('_', '-')}", *aliases.get(name, [])]
        default = defaults.setting(name)
        if kind is bool:
            parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, default=None)
        elif get_origin(kind) is Mapping:
            shown = ",".join(f"{key}={value}" for key, value in default.items()) or "none"
            parser.add_argument(
                *flags, dest=name, default=None, help=f"name=value,...; default: the run file's, else {shown}"
            )
        elif get_origin(kind) is tuple:
            shown = ",".join(str(v) for v in default) or "all"
            parser.add_argument(
                *flags,
                dest=name,
                type=_comma_separated(kind),
                default=None,
                help=f"comma-separated; default: the run file's, else {shown}",
            )
        else:
            parser.add_argument(
                *flags, dest=name, type=kind, default=None, help=f"default: the run file's, else {default}"
            )


def _parser() -> argparse.ArgumentParser:
    """The options: the run file, each input and output, the mapping, as-of, every plain
    setting, and how to run (wait, no export, quiet)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run-file",
        help=f"the run file (TOML: inputs, mapping, outputs, settings); default ${RUN_FILE_VARIABLE}, "
        f"else ./{DEFAULT_RUN_FILE} if present",
    )
    for flag, name, variable in (
        *((f"--{n.replace('_', '-')}", n, v) for n, v in INPUTS.items()),
        ("--database", "database", OUTPUTS["database"][0]),
        ("--export-dir", "export_dir", OUTPUTS["export_dir"][0]),
        ("--column-preset", "column_preset", "ATTRIBUTION_COLUMN_PRESET"),
        ("--mapping", "mapping_file", "ATTRIBUTION_MAPPING"),
    ):
        parser.add_argument(flag, dest=name, help=f"default: ${variable}, else the run file's")
    parser.add_argument(
        "--as-of", help="ISO timestamp (UTC unless it has an offset) or a date (its end); default now"
    )
    _config_options(parser)
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another run")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no per-step progress lines")
    return parser


def _fail(message: str, code: int) -> NoReturn:
    print(f"attribution-run: {message}", file=sys.stderr)
    sys.exit(code)


def _publish(
    conn: duckdb.DuckDBPyConnection, spec: RunSpec, config: AttributionConfig, export: bool, tell: Any
) -> None:
    """Check, snapshot, export and report one run's tables; nothing is published when they do
    not reconcile (exit 70)."""
    tell("checks")
    blockers = publication_blockers(conn)
    if blockers:
        for line in blockers:
            print(f"attribution-run: not reconciled: {line}", file=sys.stderr)
        _fail("nothing was published (no snapshot, no export)", EXIT_UNRECONCILED)
    tell("snapshot")
    run_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    take_snapshot(conn, run_id, config)
    build_restatements(conn)
    if export:
        export_dir = Path(spec.export_dir)
        tell("export")
        export_marts(conn, export_dir, config, input_files(spec.sources), run=spec.describe())
        if report_available():
            tell("report")
            write_report(conn, export_dir, config)
        else:
            print(
                "attribution-run: no HTML report: it needs the report extra "
                "(pip install 'attribution-engine[report]')",
                file=sys.stderr,
            )
    publish_snapshot(conn, run_id)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments (unset ones from the run file, then the ATTRIBUTION_* environment) and run."""
    args = _parser().parse_args(argv)
    try:
        named = (*INPUTS, *OUTPUTS, "column_preset", "mapping_file", "as_of", *_plain_fields())
        spec = resolve_run(args.run_file, {name: getattr(args, name, None) for name in named})
        config = spec.config()
        select_models(config)  # an unknown model name fails here, before any work
    except ValueError as exc:  # RunFileError and MappingError are ValueErrors too
        _fail(f"bad setting: {exc}", EXIT_BAD_INPUT)
    if spec.run_file and not args.quiet:
        print(f"attribution-run: run file {spec.run_file}", flush=True)
    started = time.perf_counter()

    def tell(step: str) -> None:
        if not args.quiet:
            print(f"attribution-run: step {step} ({time.perf_counter() - started:.1f} s)", flush=True)

    try:
        with writer_lock(spec.database, args.wait):
            Path(spec.database).parent.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(spec.database) as conn:
                results = run_pipeline(
                    conn, spec.sources, config, progress=tell, engine=engine_for(config.engine)
                )
                _publish(conn, spec, config, not args.no_export, tell)
    except (EngineUnavailableError, ModelLimitError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except DatabaseBusyError as exc:
        _fail(str(exc), EXIT_BUSY)
    except InputFileError as exc:
        _fail(f"input file problem: {exc}", EXIT_BAD_INPUT)
    except ExportError as exc:
        _fail(f"export failed: {exc}", EXIT_EXPORT_FAILED)
    summary = ", ".join(
        f"{name}={value if isinstance(value, int) else value.staged_rows}" for name, value in results.items()
    )
    print(f"attribution-run: done in {time.perf_counter() - started:.1f} s: {summary}")


if __name__ == "__main__":
    main()
