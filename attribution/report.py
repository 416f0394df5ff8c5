"""The channel x model comparison, as a frame and as a readable terminal table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.locking import EXIT_BUSY, DatabaseBusyError, reading
from attribution.sql import table_exists

__all__ = [
    "comparison_chart_png",
    "comparison_table",
    "format_comparison",
    "headline_totals",
    "interval_chart_png",
    "interval_text",
    "main",
    "model_order",
    "run_database",
    "share_intervals",
    "trust_lines",
]


def model_order(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The models of the comparison in the registry's order (unknown names last, sorted)."""
    from attribution.models import MODELS

    present = {r[0] for r in conn.sql("select distinct model from mart_channel_comparison").fetchall()}
    return [m for m in MODELS if m in present] + sorted(present - set(MODELS))


def comparison_table(conn: duckdb.DuckDBPyConnection, journey_kind: str) -> pl.DataFrame:
    """One row per channel (largest first, `(none)` last, then a TOTAL row), one column per
    model: `mart_channel_comparison_wide` in the registry's model order."""
    models = model_order(conn)
    wide: pl.DataFrame = conn.sql(
        "select * exclude (journey_kind) from mart_channel_comparison_wide where journey_kind = ?",
        params=[journey_kind],
    ).pl()
    if wide.is_empty():
        return pl.DataFrame(schema={"channel": pl.String, **{m: pl.Float64 for m in models}})
    wide = wide.select(
        "channel", *[pl.col(m).fill_null(0.0) if m in wide.columns else pl.lit(0.0).alias(m) for m in models]
    )
    wide = wide.sort(
        by=[pl.col("channel") == UNATTRIBUTED_CHANNEL, pl.mean_horizontal(models), "channel"],
        descending=[False, True, False],
    )
    total = wide.select(pl.lit("TOTAL").alias("channel"), *[pl.col(m).sum() for m in models])
    return pl.concat([wide, total])


def headline_totals(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Total and influenced pipeline, qualified pipeline and won revenue (reporting currency)
    and opportunity counts, from `mart_period_totals` (qualified: 0 without the kind)."""
    row = conn.sql(
        """
        select
            coalesce(sum(total_amount) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(influenced_amount) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(total_amount) filter (where journey_kind = 'revenue'), 0),
            coalesce(sum(influenced_amount) filter (where journey_kind = 'revenue'), 0),
            coalesce(sum(opportunities) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(opportunities) filter (where journey_kind = 'revenue'), 0),
            coalesce(sum(total_amount) filter (where journey_kind = 'qualified'), 0),
            coalesce(sum(influenced_amount) filter (where journey_kind = 'qualified'), 0),
            coalesce(sum(opportunities) filter (where journey_kind = 'qualified'), 0)
        from mart_period_totals
        """
    ).fetchall()[0]
    keys = (
        "pipeline",
        "influenced_pipeline",
        "won_revenue",
        "influenced_revenue",
        "opportunities",
        "won_opportunities",
        "qualified_pipeline",
        "influenced_qualified_pipeline",
        "qualified_opportunities",
    )
    return {k: float(v) for k, v in zip(keys, row, strict=True)}


# the last charts drawn, by their tables' content: a run draws the same comparison for the
# comparison mart and for the report's preview (half a second each with matplotlib)
_CHARTS: dict[bytes, bytes] = {}


def comparison_chart_png(tables: dict[str, pl.DataFrame], currency: str = "USD") -> bytes:
    """A heatmap per journey kind: channels down, models across, each cell the channel's share
    of the model's total (annotated in %), as PNG bytes. A heatmap stays readable with ten
    models where grouped bars do not; the amounts are in the tables beside it. The same
    tables give the same bytes, drawn once (the last few are kept)."""
    key = currency.encode() + b"".join(
        kind.encode() + b"\0" + table.write_ipc(None).getvalue() for kind, table in tables.items()
    )
    if key not in _CHARTS:
        if len(_CHARTS) >= 4:
            _CHARTS.pop(next(iter(_CHARTS)))
        _CHARTS[key] = _draw_comparison_chart(tables, currency)
    return _CHARTS[key]


def _panel_layout(
    panels: int, width: float, height: float, left: float, right: float, bottom: float, top: float
) -> list[tuple[float, float, float, float]]:
    """Axes rectangles (figure fractions) of `panels` side by side, each `width` x `height`
    inches with these margins in inches: a layout computed once rather than by drawing the
    figure (tight_layout drew the heatmap twice, 0.3 s)."""
    total = width * panels
    return [
        (
            (i * width + left) / total,
            bottom / height,
            (width - left - right) / total,
            (height - bottom - top) / height,
        )
        for i in range(panels)
    ]


def _label_inches(labels: Sequence[str], fontsize: float = 9.0) -> float:
    """About how wide the longest label draws (0.6 em a character)."""
    return max((len(label) for label in labels), default=0) * fontsize * 0.6 / 72


def _label_margin(labels: Sequence[str]) -> float:
    """The left margin (inches) the channel labels need, between 0.8 and 3 inches."""
    return min(max(0.3 + _label_inches(labels), 0.8), 3.0)


def _png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_comparison_chart(tables: dict[str, pl.DataFrame], currency: str) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    kinds = [k for k, t in tables.items() if not t.is_empty()]
    panels = max(len(kinds), 1)
    frames = {kind: tables[kind].filter(pl.col("channel") != "TOTAL") for kind in kinds}
    channels = [c for frame in frames.values() for c in frame["channel"].to_list()]
    model_labels = [c for frame in frames.values() for c in frame.columns if c != "channel"]
    left = _label_margin(channels)
    bottom = min(max(0.35 + _label_inches(model_labels) * 0.6, 0.8), 2.5)  # labels at 35 degrees
    width, height = 7.5, 6.0
    fig = Figure(figsize=(width * panels, height), dpi=80)
    boxes = _panel_layout(panels, width, height, left, 1.05, bottom, 0.45)
    for (x, y, w, h), kind in zip(boxes, kinds, strict=False):
        ax = fig.add_axes((x, y, w, h))
        table = frames[kind]
        models = [c for c in table.columns if c != "channel"]
        amounts = table.select(models).to_numpy().astype(float)
        totals = amounts.sum(axis=0)
        shares = amounts / [t if t else 1.0 for t in totals]
        image = ax.imshow(shares, cmap="Blues", aspect="auto", vmin=0)
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models, rotation=35, ha="right", fontsize=9)
        ax.set_yticks(range(len(table)))
        ax.set_yticklabels(table["channel"].to_list(), fontsize=9)
        threshold = shares.max() * 0.6 if shares.size else 0
        for row in range(shares.shape[0]):
            for col in range(shares.shape[1]):
                ax.text(
                    col,
                    row,
                    f"{shares[row, col]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if shares[row, col] > threshold else "black",
                )
        ax.set_title(f"Share of attributed {kind} by channel and model ({currency})")
        bar = fig.add_axes((x + w + 0.2 / (width * panels), y, 0.18 / (width * panels), h))
        fig.colorbar(image, cax=bar, format=PercentFormatter(1.0))
    return _png(fig)


def share_intervals(conn: duckdb.DuckDBPyConnection, journey_kind: str) -> pl.DataFrame:
    """One row per (channel, model): share of the model's total and its confidence interval
    (mart_channel_comparison); empty when intervals are off."""
    frame: pl.DataFrame = conn.sql(
        "select channel, model, share_of_total, share_low, share_high, confidence_level "
        "from mart_channel_comparison where journey_kind = ? and share_low is not null "
        "order by channel, model",
        params=[journey_kind],
    ).pl()
    return frame


def interval_text(conn: duckdb.DuckDBPyConnection, journey_kind: str, title: str) -> str:
    """Channels down, models across, each cell the share's interval in percent ('15.3-17.2'),
    channels in the order of the comparison table."""
    intervals = share_intervals(conn, journey_kind)
    if intervals.is_empty():
        return f"{title}: no confidence intervals (interval_replicates = 0 or nothing attributed)."
    models = [m for m in model_order(conn) if m in set(intervals["model"].to_list())]
    order = [c for c in comparison_table(conn, journey_kind)["channel"].to_list() if c != "TOTAL"]
    cells = intervals.with_columns(
        cell=pl.format("{}-{}", (pl.col("share_low") * 100).round(1), (pl.col("share_high") * 100).round(1))
    )
    lookup = {(c, m): v for c, m, v in cells.select("channel", "model", "cell").iter_rows()}
    rows = [[channel, *(lookup.get((channel, m), "") for m in models)] for channel in order]
    columns = ["channel", *models]
    widths = [max(len(columns[i]), *(len(r[i]) for r in rows)) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    level = float(intervals["confidence_level"][0])
    return "\n".join(
        [
            f"{title}: {level:.0%} interval of the share, % of the total",
            line(columns),
            "  ".join("-" * w for w in widths),
        ]
        + [line(r) for r in rows]
    )


def interval_chart_png(frames: dict[str, pl.DataFrame]) -> bytes:
    """Per journey kind, each channel's share under each model as a point with its confidence
    interval as an error bar (models side by side within a channel's row), as PNG bytes."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    kinds = [k for k, f in frames.items() if not f.is_empty()]
    panels = max(len(kinds), 1)
    labels = [c for kind in kinds for c in frames[kind]["channel"].to_list()]
    width, height = 7.5, 7.0
    fig = Figure(figsize=(width * panels, height), dpi=80)
    boxes = _panel_layout(panels, width, height, _label_margin(labels), 0.2, 0.5, 0.45)
    colors = colormaps["tab10"]
    ax = None
    for (x, y, w, h), kind in zip(boxes, kinds, strict=False):
        ax = fig.add_axes((x, y, w, h))
        frame = frames[kind]
        channels = sorted(set(frame["channel"].to_list()))
        models = sorted(set(frame["model"].to_list()))
        step = 0.8 / max(len(models), 1)
        for m, model in enumerate(models):
            rows = frame.filter(pl.col("model") == model)
            y_values = [channels.index(c) - 0.4 + step * (m + 0.5) for c in rows["channel"].to_list()]
            share = rows["share_of_total"].to_numpy()
            low = share - rows["share_low"].to_numpy()
            high = rows["share_high"].to_numpy() - share
            ax.errorbar(
                share,
                y_values,
                xerr=[low.clip(0), high.clip(0)],
                fmt="o",
                markersize=3,
                capsize=2,
                color=colors(m % 10),
                label=model,
                linewidth=1,
            )
        ax.set_yticks(range(len(channels)))
        ax.set_yticklabels(channels, fontsize=9)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        level = float(frame["confidence_level"][0])
        ax.set_title(f"Share of attributed {kind}, {level:.0%} intervals")
        ax.grid(axis="x", alpha=0.3)
    if ax is not None:
        ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def format_comparison(table: pl.DataFrame, title: str, currency: str = "USD", total_row: bool = True) -> str:
    """A fixed-width text table with thousands separators, for the terminal (a rule above the
    last row when it is a TOTAL row)."""
    columns = table.columns
    cells = [
        [str(v) if c == columns[0] else f"{v:,.0f}" for c, v in zip(columns, row, strict=True)]
        for row in table.iter_rows()
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in cells]
    if total_row and len(body) > 1:
        body.insert(len(body) - 1, rule)
    return "\n".join([f"{title} ({currency})", line(columns), rule, *body])


def top_campaigns_text(conn: duckdb.DuckDBPyConnection, currency: str, limit: int = 10) -> str:
    """The campaigns with the most attributed pipeline under the linear model (or the first
    model run), with their channel and the amount under every model."""
    models = model_order(conn)
    if not models:
        return "No campaign: no model ran."
    lead = "linear" if "linear" in models else models[0]
    wide: pl.DataFrame = conn.sql(
        "select * exclude (journey_kind) from mart_campaign_comparison_wide "
        "where journey_kind = 'pipeline' and channel <> '(none)'"
    ).pl()
    top = wide.sort([lead, "channel", "campaign"], descending=[True, False, False], nulls_last=True).head(
        limit
    )
    if top.is_empty():
        return "No campaign with attributed pipeline."
    table = top.select(
        pl.format("{} / {}", "campaign", "channel").alias("campaign / channel"),
        *[pl.col(m).fill_null(0.0) for m in models if m in top.columns],
    )
    return format_comparison(
        table, f"Top {len(top)} campaigns by attributed pipeline ({lead})", currency, total_row=False
    )


def trust_lines(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The Markov order recommended next to the configured one, and what moved since each
    month was first reported (when those tables exist)."""
    lines = []
    if table_exists(conn, "mart_markov_order_selection"):
        rows = conn.sql(
            "select journey_kind, max(markov_order) filter (where is_recommended), "
            "max(markov_order) filter (where is_configured) from mart_markov_order_selection group by 1 order by 1"
        ).fetchall()
        if rows:
            lines.append(
                "Markov order: configured "
                + ", ".join(f"{configured} ({kind})" for kind, _, configured in rows)
                + "; held-out data recommends "
                + ", ".join(f"{recommended or 'none'} ({kind})" for kind, recommended, _ in rows)
                + "."
            )
    if table_exists(conn, "mart_restatements"):
        runs, moved, periods = conn.sql(
            "select (select count(*) from snapshot_runs), count(*) filter (where abs(difference) >= 0.005), "
            "count(distinct (journey_kind, period_month)) filter (where abs(difference) >= 0.005) "
            "from mart_restatements"
        ).fetchall()[0]
        lines.append(
            f"Restatements: {runs} run(s) in the history; {moved} month x model x channel figure(s) in "
            f"{periods} month(s) moved since first reported (mart_restatements)."
        )
    return lines


@contextmanager
def run_database(
    database: str | None, wait: float, export_dir: str | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """For the report commands: a read-only connection to the run's DuckDB file (the flag's,
    else the run file's, else $ATTRIBUTION_DUCKDB) once no run is writing it, and the run's
    export folder; a one-line exit when the run file is wrong, the file is missing (1) or a
    run keeps writing (75)."""
    from attribution.runfile import resolve_run  # the run file's modules only for these CLIs

    try:
        spec = resolve_run(overrides={"database": database, "export_dir": export_dir})
    except ValueError as exc:
        sys.exit(f"run file: {exc}")
    if not os.path.exists(spec.database):
        sys.exit(f"{spec.database}: no such DuckDB file; run the pipeline first (make run)")
    try:
        with reading(spec.database, wait) as conn:
            yield conn, Path(spec.export_dir)
    except DatabaseBusyError as exc:
        print(exc, file=sys.stderr)
        sys.exit(EXIT_BUSY)


def main(argv: list[str] | None = None) -> None:
    """CLI: print the pipeline and revenue comparison from a DuckDB file."""
    parser = argparse.ArgumentParser(description="Print the channel x model comparison.")
    parser.add_argument("--database", help="default: the run file's, else $ATTRIBUTION_DUCKDB")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a run that is writing")
    args = parser.parse_args(argv)
    with run_database(args.database, args.wait) as (conn, _):
        print_report(conn)


def print_report(conn: duckdb.DuckDBPyConnection) -> None:
    """Print the comparison, intervals, campaigns, totals and trust lines of a DuckDB file."""
    currency_rows = conn.sql("select distinct reporting_currency from stg_opportunities").fetchall()
    currency = currency_rows[0][0] if currency_rows else "USD"
    totals = headline_totals(conn)
    for kind, title in (("pipeline", "Attributed pipeline"), ("revenue", "Attributed won revenue")):
        print(format_comparison(comparison_table(conn, kind), f"{title} by channel and model", currency))
        print()
    print(interval_text(conn, "pipeline", "Attributed pipeline share by channel and model"))
    print()
    print(top_campaigns_text(conn, currency))
    print()
    share_p = totals["influenced_pipeline"] / totals["pipeline"] if totals["pipeline"] else 0.0
    share_r = totals["influenced_revenue"] / totals["won_revenue"] if totals["won_revenue"] else 0.0
    print(
        f"Pipeline {totals['pipeline']:,.0f} {currency} from {totals['opportunities']:,.0f} "
        f"opportunities; influenced {totals['influenced_pipeline']:,.0f} ({share_p:.1%})."
    )
    if totals["qualified_opportunities"]:
        share_q = totals["influenced_qualified_pipeline"] / totals["qualified_pipeline"]
        print(
            f"Qualified pipeline {totals['qualified_pipeline']:,.0f} {currency} from "
            f"{totals['qualified_opportunities']:,.0f} qualified opportunities; influenced "
            f"{totals['influenced_qualified_pipeline']:,.0f} ({share_q:.1%})."
        )
    print(
        f"Won revenue {totals['won_revenue']:,.0f} {currency} from "
        f"{totals['won_opportunities']:,.0f} won opportunities; influenced "
        f"{totals['influenced_revenue']:,.0f} ({share_r:.1%})."
    )
    for line in trust_lines(conn):
        print(line)


if __name__ == "__main__":
    main()
