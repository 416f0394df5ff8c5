"""`python -m dagster_defs.run` (make run): every asset and check of the code location
materialized in this process, the run recorded in $DAGSTER_HOME so the UI shows it, Dagster's
log written to a file; then the comparison printed and where the report is.

One process instead of the CLI and two report commands: each start-up of a process that loads
the pipeline costs 0.3-0.9 s on the sample."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from attribution.html_report import REPORT_FILE
from attribution.report import print_report, run_database

__all__ = ["main"]

LOG_FILE = "last_run.log"  # in $DAGSTER_HOME


def main(argv: list[str] | None = None, defs: dg.Definitions | None = None) -> int:
    """Materialize every asset and check of `defs` (default: the code location's); 0 when
    the run succeeded (the comparison printed), 1 with the first failed step's message and
    the log's path when it did not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help=f"Dagster's log (default: $DAGSTER_HOME/{LOG_FILE})")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait to read the result")
    args = parser.parse_args(argv)
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("DAGSTER_HOME is not set: make run sets it to .dagster/", file=sys.stderr)
        return 2
    log = args.log or Path(home) / LOG_FILE
    try:
        with _output_to(log):
            if defs is None:
                from dagster_defs.definitions import defs as location  # resolves the run file

                defs = location
            job = defs.resolve_implicit_global_asset_job_def()
            with dg.DagsterInstance.get() as instance:
                result = job.execute_in_process(instance=instance, raise_on_error=False)
    except Exception as exc:  # before any step: the instance ($DAGSTER_HOME), the log's folder
        with contextlib.suppress(OSError), log.open("a") as out:
            traceback.print_exc(file=out)
        print(f"the run could not start: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
        print(f"run failed: see {log}")
        return 1
    if not result.success:
        print(_failure_message(result) or _tail(log, 40))
        print(f"run failed: see {log}")
        return 1
    steps = sum(1 for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_SUCCESS)
    print(f"{steps} steps succeeded (assets and checks)")
    resources = defs.resources or {}
    database, export_dir = resources["duckdb"].database, resources["export_target"].directory
    with run_database(database, args.wait, export_dir) as (conn, exports):
        print_report(conn)
    print(f"report: {exports / REPORT_FILE} (open it in a browser)")
    return 0


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """This process's stdout and stderr into `log` for the block: the file descriptors (what
    DuckDB or a subprocess writes) and Python's streams (Dagster's loggers write to
    `sys.stderr`, which a caller may have pointed elsewhere)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds, saved_streams = [os.dup(1), os.dup(2)], (sys.stdout, sys.stderr)
    with log.open("wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        stream = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stdout = sys.stderr = stream
        try:
            yield
        finally:
            stream.flush()
            sys.stdout, sys.stderr = saved_streams
            stream.close()
            for fd, saved in zip((1, 2), saved_fds, strict=True):
                os.dup2(saved, fd)
                os.close(saved)


def _failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    """The first failed step and its error: a `dg.Failure`'s description as the asset wrote
    it, else the exception's one-line message."""
    for event in result.all_events:
        if event.event_type != dg.DagsterEventType.STEP_FAILURE or event.step_failure_data is None:
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and error.cls_name != "Failure":
            error = error.cause
        if error is None:
            return f"{event.step_key} failed"
        message = error.message.strip()
        if error.cls_name == "Failure":
            message = message.split(": ", 1)[-1]
        return f"{event.step_key}: {message}"
    return None


def _tail(path: Path, lines: int) -> str:
    """The last lines of a text file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
