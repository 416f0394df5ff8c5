"""One writer at a time per DuckDB file: an advisory lock beside it, waited for with a limit."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DatabaseBusyError", "writer_lock"]


class DatabaseBusyError(RuntimeError):
    """Another run holds the writer lock of the DuckDB file for longer than we may wait."""


@contextmanager
def writer_lock(database: str | Path, timeout_seconds: float = 600.0) -> Iterator[Path]:
    """Hold `<database>.lock` exclusively; wait up to `timeout_seconds`, then raise a clear
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
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"another run is writing {database} (lock {lock_path} held for over "
                        f"{timeout_seconds:.0f} s); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield lock_path
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
