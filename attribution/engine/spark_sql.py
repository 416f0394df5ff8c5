"""The project's DuckDB SQL as Spark SQL: one source, transpiled by a pinned sqlglot plus the
rules of attribution.engine.spark_rules (each a rewrite of one DuckDB construct into what
Spark 4 computes the same way), DuckDB's COLUMNS(...) and PIVOT expanded against the session,
with the shared macros of sql/macros.sql inlined. Parameters stay bound (`$name` becomes
Spark's named marker `:name`), never spliced text."""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Protocol

import sqlglot
from sqlglot import exp

from attribution.engine.spark_rules import RULES, SparkSqlError
from attribution.sql import read_sql

__all__ = ["ENGINE_KEYS", "Resolver", "SparkSqlError", "macros", "needs_session", "spark_sql", "to_spark"]


# columns whose values are engine-specific keys (distinct per row, valid within one statement
# or run, never stored or compared): row ids and arbitrary row numbers
ENGINE_KEYS: frozenset[str] = frozenset({"touch_row", "journey_key"})


_MACRO = re.compile(
    r"create\s+or\s+replace\s+macro\s+(\w+)\s*\(([^)]*)\)\s+as\s+(.*?);\s*$",
    re.IGNORECASE | re.DOTALL | re.MULTILINE,
)
_COMMENT = re.compile(r"--[^\n]*")


@cache
def macros() -> dict[str, tuple[tuple[str, ...], exp.Expr]]:
    """The macros of sql/macros.sql: name -> (parameter names, body parsed as DuckDB)."""
    code = _COMMENT.sub("", read_sql("macros.sql"))
    found: dict[str, tuple[tuple[str, ...], exp.Expr]] = {}
    for match in _MACRO.finditer(code):
        name, params, body = match.groups()
        names = tuple(p.strip().lower() for p in params.split(",") if p.strip())
        found[name.lower()] = (names, sqlglot.parse_one(body, read="duckdb"))
    return found


# macros whose DuckDB body has no Spark translation: their Spark body (Spark SQL)
SPARK_MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    # the hexadecimal digits of the md5 as an integer: conv() where DuckDB casts '0x...'
    "md5_bucket": (("t", "n"), "cast(conv(left(md5(t), 15), 16, 10) as bigint) % n"),
}


@cache
def _spark_macros() -> dict[str, tuple[tuple[str, ...], exp.Expr]]:
    return {
        name: (params, sqlglot.parse_one(body, read="spark")) for name, (params, body) in SPARK_MACROS.items()
    }


def _function_name(node: exp.Expr) -> str | None:
    """The name a call is written with (sqlglot knows some macros' names as functions)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def _inline_macros(tree: exp.Expr) -> exp.Expr:
    """Replace every call of a shared macro by its body with the arguments substituted
    (macros calling macros are inlined until none is left)."""
    known = {**macros(), **_spark_macros()}

    def inline(node: exp.Expr) -> exp.Expr:
        name = _function_name(node)
        if name not in known:
            return node
        params, body = known[name]
        args = node.expressions if isinstance(node, exp.Anonymous) else list(node.iter_expressions())
        if len(args) != len(params):
            raise SparkSqlError(f"macro {name} takes {len(params)} arguments, got {len(args)}")
        bound = dict(zip(params, args, strict=True))

        def substitute(inner: exp.Expr) -> exp.Expr:
            if isinstance(inner, exp.Column) and not inner.table and inner.name.lower() in bound:
                return exp.paren(bound[inner.name.lower()].copy(), copy=False)
            return inner

        return _inline_macros(body.copy().transform(substitute))

    return tree.transform(inline)


class Resolver(Protocol):
    """What the Spark engine answers about relations at run time: the column names of a
    query (an analysis, no job), and the sorted distinct values of one column."""

    def columns(self, spark_query: str) -> list[str]: ...

    def distinct(self, spark_query: str, column: str) -> list[str]: ...


def _is_star_except(node: exp.Expr) -> bool:
    star = node.this if isinstance(node, exp.Column) else node
    return isinstance(star, exp.Star) and bool(star.args.get("except_"))


def _needs_columns(select: exp.Expr) -> bool:
    return any(True for _ in select.find_all(exp.Columns)) or any(
        _is_star_except(n) for n in select.find_all(exp.Star, exp.Column)
    )


def _probe(select: exp.Select, prefix: list[exp.CTE], star: exp.Expr) -> str:
    """Spark SQL for `select <star>` over `select`'s FROM and joins (pivots left out), under
    the CTEs before it."""
    source = select.args["from_"].this.copy()
    source.set("pivots", None)
    probe = exp.Select(expressions=[star]).from_(source, copy=False)
    for join in select.args.get("joins") or []:
        probe = probe.join(join.copy(), copy=False)
    if prefix:
        probe.set("with_", exp.With(expressions=[c.copy() for c in prefix]))
    return probe.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _matching(
    columns_node: exp.Columns, names: list[str], params: dict[str, Any]
) -> list[tuple[str, list[str]]]:
    """The columns a DuckDB COLUMNS(...) selects, each with its regular-expression groups
    (group 0: the name) for the \\N of an alias."""
    pattern = columns_node.this
    if isinstance(pattern, exp.Column) and isinstance(pattern.this, exp.Star):
        pattern = pattern.this
    if isinstance(pattern, exp.Star):
        excluded = {e.name.lower() for e in pattern.args.get("except_") or []}
        return [(n, [n]) for n in names if n.lower() not in excluded]
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        found = [(n, re.search(pattern.this, n)) for n in names]
        return [(n, [m.group(0), *m.groups()]) for n, m in found if m]
    if isinstance(pattern, exp.Lambda):
        body = pattern.this
        if isinstance(body, exp.ArrayContains) and isinstance(body.this, exp.Placeholder):
            wanted = set(params[body.this.name])
            return [(n, [n]) for n in names if n in wanted]
    raise SparkSqlError(f"COLUMNS({pattern.sql('duckdb')}) is not translated")


def _alias_for(template: str, groups: list[str]) -> str:
    return re.sub(r"\\(\d)", lambda m: groups[int(m.group(1))], template)


def _expand_select(
    select: exp.Select, prefix: list[exp.CTE], resolver: Resolver, params: dict[str, Any]
) -> None:
    """Expand DuckDB's COLUMNS(...) and `* exclude (...)` of one SELECT into explicit columns,
    asking Spark for the columns of its FROM."""
    names_of: dict[str, list[str]] = {}

    def names(qualifier: str | None) -> list[str]:
        key = qualifier or ""
        if key not in names_of:
            star: exp.Expr = (
                exp.Column(this=exp.Star(), table=exp.to_identifier(qualifier)) if qualifier else exp.Star()
            )
            names_of[key] = resolver.columns(_probe(select, prefix, star))
        return names_of[key]

    items: list[exp.Expr] = []
    for item in select.expressions:
        target = item.this if isinstance(item, exp.Alias) else item
        if _is_star_except(target) and not isinstance(target, exp.Columns):
            star = target.this if isinstance(target, exp.Column) else target
            qualifier = target.table if isinstance(target, exp.Column) else None
            excluded = {e.name.lower() for e in star.args.get("except_") or []}
            items.extend(
                exp.column(n, table=qualifier or None, quoted=True)
                for n in names(qualifier)
                if n.lower() not in excluded
            )
            continue
        columns_nodes = list(item.find_all(exp.Columns))
        if not columns_nodes:
            items.append(item)
            continue
        if len(columns_nodes) > 1:
            raise SparkSqlError("one COLUMNS(...) per select item is translated")
        template = item.alias if isinstance(item, exp.Alias) else None
        pattern = columns_nodes[0].this
        qualifier = pattern.table if isinstance(pattern, exp.Column) and pattern.table else None
        for name, groups in _matching(columns_nodes[0], names(qualifier), params):
            copy = item.copy()
            node = next(copy.find_all(exp.Columns))
            node.replace(exp.column(name, table=qualifier, quoted=True))
            alias = _alias_for(template, groups) if template else name
            items.append(exp.alias_(copy.this if isinstance(copy, exp.Alias) else copy, alias, quoted=True))
    select.set("expressions", items)
    source = select.args["from_"].this
    for pivot in source.args.get("pivots") or []:
        for field in pivot.args.get("fields") or []:
            listed: list[exp.Expr] = []
            for value in field.expressions:
                if isinstance(value, exp.Columns):
                    listed.extend(
                        exp.column(n, quoted=True) for n, _ in _matching(value, names(None), params)
                    )
                else:
                    listed.append(value)
            field.set("expressions", listed)


def _expand_columns(tree: exp.Expr, resolver: Resolver | None, params: dict[str, Any]) -> exp.Expr:
    """Every COLUMNS(...) and `* exclude` of a statement as explicit column lists, CTE by CTE
    (each probe sees only the CTEs before it, already expanded)."""
    with_ = tree.args.get("with_")
    ctes: list[exp.CTE] = list(with_.expressions) if with_ else []
    scopes = [(cte.this, ctes[:i]) for i, cte in enumerate(ctes)] + [(tree, ctes)]
    # a scope's subqueries first (the deepest first): their columns feed the scope's FROM
    selects = [
        (select, prefix)
        for scope, prefix in scopes
        for select in reversed(
            [s for s in scope.find_all(exp.Select) if s is scope or not isinstance(s.parent, exp.CTE)]
        )
    ]
    for select, prefix in selects:
        if not isinstance(select, exp.Select) or not _needs_columns(select):
            continue
        if resolver is None:
            raise SparkSqlError("COLUMNS(...) and * exclude need the Spark session's column names")
        _expand_select(select, prefix, resolver, params)
    return tree


_PIVOT = re.compile(
    r"^\s*pivot\s*\((?P<inner>.*)\)\s*on\s+(?P<column>\w+)\s+using\s+(?P<agg>.+?)\s+"
    r"group\s+by\s+(?P<groups>.+?)(?:\s+order\s+by\s+(?P<order>.+?))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _pivot_statement(sql: str, resolver: Resolver | None, params: dict[str, Any]) -> str | None:
    """DuckDB's PIVOT statement (`pivot (q) on c using agg group by g order by o`) as Spark's
    PIVOT clause over the sorted distinct values of c (what DuckDB itself reads first)."""
    match = _PIVOT.match(_COMMENT.sub("", sql))
    if not match:
        return None
    if resolver is None:
        raise SparkSqlError("a PIVOT statement needs the Spark session's values of its column")
    inner = to_spark(match["inner"], resolver, params)
    column = match["column"]
    values = resolver.distinct(inner, column)
    agg = sqlglot.parse_one(match["agg"], read="duckdb")
    used = sorted({c.name for c in agg.find_all(exp.Column)})
    groups = [g.strip() for g in match["groups"].split(",")]
    listed = ", ".join(f"{exp.Literal.string(v).sql('spark')} AS `{v}`" for v in values)
    query = (
        f"SELECT * FROM (SELECT {', '.join([*groups, column, *used])} FROM ({inner})) "
        f"PIVOT ({agg.sql('spark')} FOR {column} IN ({listed}))"
    )
    if match["order"]:
        query += f" ORDER BY {match['order']}"
    return query


def to_spark(sql: str, resolver: Resolver | None = None, params: dict[str, Any] | None = None) -> str:
    """One DuckDB statement as Spark SQL (macros inlined, the project's rules applied; with a
    resolver, COLUMNS(...), `* exclude` and PIVOT expanded against the session's tables)."""
    params = params or {}
    pivot = _pivot_statement(sql, resolver, params)
    if pivot is not None:
        return pivot
    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise SparkSqlError(f"expected one statement, found {len(trees)}")
    tree = _inline_macros(trees[0])
    for rule in RULES:
        # a rule's output is not visited in the same pass (nested calls): apply until stable
        for _ in range(8):
            before = tree.sql(dialect="duckdb")
            tree = tree.transform(rule)
            if tree.sql(dialect="duckdb") == before:
                break
    tree = _expand_columns(tree, resolver, params)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


@cache
def _transpiled(relative_path: str) -> str:
    return to_spark(read_sql(relative_path))


@cache
def needs_session(relative_path: str) -> bool:
    """Whether `sql/<relative_path>` selects columns by pattern (COLUMNS, `* exclude`) or
    pivots: its Spark SQL depends on the session's tables (the models run)."""
    text = read_sql(relative_path)
    if _PIVOT.match(_COMMENT.sub("", text)):
        return True
    return any(_needs_columns(tree) for tree in sqlglot.parse(text, read="duckdb") if tree is not None)


def spark_sql(
    relative_path: str, resolver: Resolver | None = None, params: dict[str, Any] | None = None
) -> str:
    """`sql/<relative_path>` as Spark SQL: transpiled once per process, or, for a file that
    selects columns by pattern or pivots, expanded against the session each time."""
    if needs_session(relative_path):
        return to_spark(read_sql(relative_path), resolver, params)
    return _transpiled(relative_path)
