"""The rewrite rules of the Spark translation (attribution.engine.spark_sql): each turns one
DuckDB construct into what Spark 4 computes the same way (ordered lists, integer types,
functions, list comprehensions, rowid, unordered row numbers, ASOF joins, named windows,
list lengths, materialized CTEs)."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp

__all__ = ["RULES", "Rule", "SparkSqlError"]


class SparkSqlError(ValueError):
    """A SQL file uses a construct the Spark rules do not translate (the message names it)."""


Rule = Callable[[exp.Expr], exp.Expr]


def _call(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _spark(sql: str, **bound: exp.Expr) -> exp.Expr:
    """A Spark expression with `__name__` columns replaced by the given expressions."""

    def put(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name.startswith("__") and node.name.strip("_") in bound:
            return exp.paren(bound[node.name.strip("_")].copy(), copy=False)
        return node

    return sqlglot.parse_one(sql, read="spark").transform(put)


def _ordered_list(node: exp.Expr) -> exp.Expr:
    """`list(x order by k)` keeps its order: Spark's collect_list does not, so sort structs
    of (k, x) and take x (sqlglot alone drops the order: a silent hazard on shuffled data)."""
    if not isinstance(node, exp.ArrayAgg) or not isinstance(node.this, exp.Order):
        return node
    order = node.this
    if any(k.args.get("desc") for k in order.expressions):
        raise SparkSqlError("list(... order by ... desc) is not translated: order ascending")
    fields = [exp.alias_(k.this.copy(), f"k{i}") for i, k in enumerate(order.expressions)]
    fields.append(exp.alias_(order.this.copy(), "v"))
    collected = _call("collect_list", _call("struct", *fields))
    return _spark("transform(array_sort(__c__), s -> s.v)", c=collected)


# DuckDB integer types Spark lacks, as the Spark type that holds every value
_TYPES = {
    "INT128": exp.DataType.build("decimal(38, 0)"),
    "UINT128": exp.DataType.build("decimal(38, 0)"),
    "UBIGINT": exp.DataType.build("decimal(20, 0)"),
    "UINT": exp.DataType.build("bigint"),
    "USMALLINT": exp.DataType.build("int"),
    "UTINYINT": exp.DataType.build("smallint"),
    # DuckDB's TIMESTAMP is an instant in UTC here (ingest sets the session time zone): Spark's
    # TIMESTAMP under a UTC session, so every timestamp of a run is one type
    "TIMESTAMPNTZ": exp.DataType.build("timestamptz"),
    "TIMESTAMP": exp.DataType.build("timestamptz"),
}


def _types(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.DataType) and getattr(node.this, "name", None) in _TYPES:
        return _TYPES[node.this.name].copy()
    return node


def _functions(node: exp.Expr) -> exp.Expr:
    """DuckDB functions as the Spark expressions that compute the same value."""
    if isinstance(node, exp.RegexpFullMatch):
        return _spark("__t__ rlike concat('^(?:', __p__, ')$')", t=node.this, p=node.expression)
    if isinstance(node, exp.ToDays):
        return _spark("make_dt_interval(__n__)", n=node.this)
    if isinstance(node, exp.IsInf):
        return _spark("abs(__x__) = double('infinity')", x=node.this)
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Sub):
        # epoch(a - b): the seconds between two instants
        return _spark(
            "(unix_micros(__a__) - unix_micros(__b__)) / 1e6", a=node.this.this, b=node.this.expression
        )
    if isinstance(node, exp.PercentileCont):
        return _call("percentile", node.this.copy(), node.expression.copy())
    name = str(node.this).lower() if isinstance(node, exp.Anonymous) else None
    args = node.expressions if isinstance(node, exp.Anonymous) else []
    if name == "query_table":
        return _call("identifier", args[0].copy())
    if name == "to_months":
        return _spark("make_ym_interval(0, __n__)", n=args[0])
    if name == "epoch_us":
        return _call("unix_micros", args[0].copy())
    if name == "list_position":
        return _spark("nullif(array_position(__l__, __x__), 0)", l=args[0], x=args[1])
    if name == "list_sum":
        return _spark("aggregate(__l__, cast(0 as bigint), (acc, x) -> acc + x)", l=args[0])
    if name == "timezone" and len(args) == 2:
        inner = args[1]
        if (
            isinstance(inner, exp.Anonymous)
            and str(inner.this).lower() == "timezone"
            and isinstance(args[0], exp.Literal)
            and args[0].this.upper() == "UTC"
        ):
            # timezone('UTC', timezone(tz, local)): the local time of zone tz as a UTC instant
            return _call("to_utc_timestamp", inner.expressions[1].copy(), inner.expressions[0].copy())
        if (
            isinstance(inner, exp.Anonymous)
            and str(inner.this).lower() == "timezone"
            and isinstance(inner.expressions[0], exp.Literal)
            and inner.expressions[0].this.upper() == "UTC"
        ):
            # timezone(tz, timezone('UTC', instant)): the instant's local time in zone tz
            return _call("from_utc_timestamp", inner.expressions[1].copy(), args[0].copy())
        raise SparkSqlError("timezone() is translated only as timezone('UTC', timezone(tz, local))")
    return node


def _comprehension(node: exp.Expr) -> exp.Expr:
    """`[f(i) for i in range(n)]` as transform(sequence(0, n - 1), i -> f(i))."""
    if not isinstance(node, exp.Array) or len(node.expressions) != 1:
        return node
    inner = node.expressions[0]
    if not isinstance(inner, exp.Comprehension):
        return node
    variable = inner.expression
    return exp.Transform(
        this=inner.args["iterator"].copy(),
        expression=exp.Lambda(this=inner.this.copy(), expressions=[variable.copy()]),
    )


def _rowid(node: exp.Expr) -> exp.Expr:
    """`touchpoints.rowid`, a key of stg_touchpoints within one statement: Spark has no row
    id, and touchpoint_id is that table's key (a repeated id is quarantined)."""
    if isinstance(node, exp.Column) and node.name.lower() == "rowid":
        return exp.column("touchpoint_id", table=node.table or None)
    return node


def _row_number_unordered(node: exp.Expr) -> exp.Expr:
    """`row_number() over ()`, an arbitrary distinct integer per row: Spark refuses a
    row_number without order; monotonically_increasing_id() is distinct without a sort."""
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.RowNumber)
        and not node.args.get("partition_by")
        and not node.args.get("order")
        and not node.args.get("alias")
    ):
        return _call("monotonically_increasing_id")
    return node


def _asof_join(node: exp.Expr) -> exp.Expr:
    """`asof left join r as a on <equalities> and x >= a.d`: each row joins the r row with the
    greatest d <= x. Spark has no ASOF join: a left join on the equalities and the interval
    [d, the next d of the same equality keys), the next d taken by lead() over r."""
    if not isinstance(node, exp.Join) or str(node.args.get("method") or "").upper() != "ASOF":
        return node
    if str(node.args.get("side") or "").upper() != "LEFT":
        raise SparkSqlError("only ASOF LEFT JOIN is translated")
    table = node.this
    alias = table.alias_or_name
    conditions = (
        list(node.args["on"].flatten()) if isinstance(node.args["on"], exp.And) else [node.args["on"]]
    )
    inequalities = [c for c in conditions if isinstance(c, exp.GTE)]
    equalities = [c for c in conditions if isinstance(c, exp.EQ)]
    if len(inequalities) != 1 or len(equalities) + 1 != len(conditions):
        raise SparkSqlError("ASOF LEFT JOIN is translated with equalities and one x >= r.d")
    bound, start = inequalities[0].this, inequalities[0].expression
    if start.table != alias:
        raise SparkSqlError("ASOF LEFT JOIN: write the condition as x >= joined.d")
    keys = [e.expression if e.expression.table == alias else e.this for e in equalities]
    inner = table.copy()
    inner.set("alias", None)
    source: exp.Expr = inner.this if isinstance(inner, exp.Subquery) else inner
    partition = ", ".join(k.name for k in keys)
    window = f"partition by {partition} order by {start.name}" if keys else f"order by {start.name}"
    lead = sqlglot.parse_one(f"lead({start.name}) over ({window})", read="spark")
    with_next = exp.select(exp.Star(), exp.alias_(lead, "_asof_next_")).from_(
        exp.Subquery(this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("_asof_")))
        if isinstance(inner, exp.Subquery)
        else source.copy()
    )
    upper = _spark(f"{alias}._asof_next_ is null or __x__ < {alias}._asof_next_", x=bound)
    on = exp.and_(*[e.copy() for e in equalities], inequalities[0].copy(), exp.paren(upper, copy=False))
    return exp.Join(
        this=exp.Subquery(this=with_next, alias=exp.TableAlias(this=exp.to_identifier(alias))),
        side="LEFT",
        on=on,
    )


def _named_windows(node: exp.Expr) -> exp.Expr:
    """`over (w rows between ...)`, a named window extended by a frame: Spark refuses it, so
    the named windows are written out where they are used."""
    if not isinstance(node, exp.Select) or not node.args.get("windows"):
        return node
    named = {w.this.name.lower(): w for w in node.args["windows"]}
    for window in node.find_all(exp.Window):
        alias = window.args.get("alias")
        if window.parent is node.args.get("windows") or alias is None or alias.name.lower() not in named:
            continue
        definition = named[alias.name.lower()]
        window.set("partition_by", [p.copy() for p in definition.args.get("partition_by") or []])
        if definition.args.get("order"):
            window.set("order", definition.args["order"].copy())
        window.set("alias", None)
    node.set("windows", None)
    return node


def _list_length(node: exp.Expr) -> exp.Expr:
    """len(list) (DuckDB's length of a list) as Spark's size()."""
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Cast) and node.this.to.is_type("array"):
        return exp.ArraySize(this=node.this.copy())
    return node


def _not_materialized(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


RULES: tuple[Rule, ...] = (
    _named_windows,  # first: a window that names its definition is not unordered
    _ordered_list,
    _types,
    _functions,
    _comprehension,
    _rowid,
    _asof_join,
    _row_number_unordered,
    _list_length,
    _not_materialized,
)
