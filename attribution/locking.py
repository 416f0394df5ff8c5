"""One writer at a time per DuckDB file: an advisory lock beside it, waited for with a limit."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

__all__ = ["EXIT_BUSY", "DatabaseBusyError", "reading", "writer_lock"]

# the exit code of a command that gave up waiting for another run (sysexits' EX_TEMPFAIL)
EXIT_BUSY = 75


class DatabaseBusyError(RuntimeError):
    """Another run holds the writer lock of the DuckDB file for longer than we may wait."""


@contextmanager
def writer_lock(database: str | Path, timeout_seconds: float = 600.0, shared: bool = False) -> Iterator[Path]:
    """Hold `<database>.lock` exclusively (a writer) or `shared` (a reader: it waits for the
    writer, and writers wait for it); wait up to `timeout_seconds`, then raise a clear
    DatabaseBusyError. In-memory databases need no lock."""
    if str(database) in ("", ":memory:") or str(database).startswith(":memory:"):
        yield Path(os.devnull)
        return
    lock_path = Path(f"{database}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    deadline = time.monotonic() + timeout_seconds
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"another run is writing {database} (lock {lock_path} held for over "
                        f"{timeout_seconds:.0f} s); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        if not shared:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
        yield lock_path
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


@contextmanager
def reading(database: str | Path, timeout_seconds: float = 120.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `database` once no run is writing it (waiting up to
    `timeout_seconds` for the writer lock, and for a writer that holds DuckDB's own file lock
    without ours: an analyst's session); DatabaseBusyError with one clear line otherwise."""
    deadline = time.monotonic() + timeout_seconds
    with writer_lock(database, timeout_seconds, shared=True):
        while True:
            try:
                conn = duckdb.connect(str(database), read_only=True)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"{database} is open for writing in another process (waited "
                        f"{timeout_seconds:.0f} s); try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            yield conn
        finally:
            conn.close()
