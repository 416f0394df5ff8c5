"""Capture, while a DuckDB run goes, every project SQL file it runs: the file, its bound
parameters, the tables it read (as they were at that moment) and DuckDB's result. The Spark
equality tests replay each capture on Spark (attribution.engine.spark_sql)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from attribution.sql import SQL_DIR, read_sql
from attribution.sql_graph import sql_reads

_CREATE = re.compile(r'^create (?:or replace )?(?:temp )?(?:table|view) "?(\w+)"? as\n', re.IGNORECASE)


@dataclass
class Capture:
    """One run of one SQL file: its inputs and DuckDB's answer."""

    path: str
    params: dict[str, Any]
    inputs: dict[str, pa.Table]
    result: pa.Table


@dataclass
class CapturingConnection:
    """A DuckDB connection that records the first `per_file` runs of each project SQL file
    (everything else passes through)."""

    conn: duckdb.DuckDBPyConnection
    per_file: int = 1
    captures: dict[str, list[Capture]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._files = {
            read_sql(str(p.relative_to(SQL_DIR))): str(p.relative_to(SQL_DIR))
            for p in SQL_DIR.rglob("*.sql")
            if p.name != "macros.sql"
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __enter__(self) -> CapturingConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def _which(self, text: str) -> tuple[str | None, str | None]:
        """The SQL file a statement runs, and the table it creates (None for a query)."""
        match = _CREATE.match(text)
        body = text[match.end() :] if match else text
        path = self._files.get(body)
        return path, (match.group(1) if match and path else None)

    def _snapshot(self, path: str, params: Any = None) -> dict[str, pa.Table]:
        inputs: dict[str, pa.Table] = {}
        reads = set(sql_reads(path))
        if "query_table(" in read_sql(path) and params and "source" in params:
            reads.add(f"stg_{params['source']}")  # the table its $source names
        for table in sorted(reads):
            try:
                inputs[table] = self.conn.sql(f'select * from "{table}"').arrow().read_all()
            except duckdb.CatalogException:
                continue  # a name the SQL reads only in a branch that is not taken
        return inputs

    def _embedded(self, text: str, params: Any) -> None:
        """Capture the files a statement embeds as subqueries `(<file>)`, each run alone."""
        for body, path in self._files.items():
            if len(self.captures.get(path, [])) >= self.per_file or f"({body})" not in text:
                continue
            used = {k: v for k, v in (params or {}).items() if f"${k}" in body}
            inputs = self._snapshot(path)
            result = self.conn.sql(body, params=used or None).arrow().read_all()
            self.captures.setdefault(path, []).append(Capture(path, used, inputs, result))

    def _record(self, text: str, params: Any, run: Any) -> Any:
        if isinstance(params, (dict, type(None))):
            self._embedded(text, params)
        path, created = self._which(text)
        if not created and path and not re.match(r"\s*(--[^\n]*\n\s*)*(with|select)\b", text, re.I):
            return run()  # a statement with effects (insert, update) is not replayed
        if (
            path is None
            or len(self.captures.get(path, [])) >= self.per_file
            or not isinstance(params, (dict, type(None)))
        ):
            return run()
        inputs = self._snapshot(path, params)
        out = run()
        if created:
            result = self.conn.sql(f'select * from "{created}"').arrow().read_all()
        else:
            body = _CREATE.sub("", text)
            result = self.conn.sql(body, params=params or None).arrow().read_all()
        self.captures.setdefault(path, []).append(Capture(path, dict(params or {}), inputs, result))
        return out

    def sql(self, text: str, *args: Any, **kwargs: Any) -> Any:
        params = kwargs.get("params", args[0] if args else None)
        return self._record(text, params, lambda: self.conn.sql(text, *args, **kwargs))

    def execute(self, text: str, *args: Any, **kwargs: Any) -> Any:
        params = kwargs.get("parameters", args[0] if args else None)
        return self._record(text, params, lambda: self.conn.execute(text, *args, **kwargs))
