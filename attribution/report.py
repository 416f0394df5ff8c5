"""The channel x model comparison, as a frame and as a readable terminal table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import duckdb
import polars as pl

from attribution.contracts import UNATTRIBUTED_CHANNEL

__all__ = ["comparison_chart_png", "comparison_table", "format_comparison", "headline_totals", "main"]


def _model_order(conn: duckdb.DuckDBPyConnection) -> list[str]:
    from attribution.models import MODELS

    present = {r[0] for r in conn.sql("select distinct model from mart_channel_comparison").fetchall()}
    return [m for m in MODELS if m in present] + sorted(present - set(MODELS))


def comparison_table(conn: duckdb.DuckDBPyConnection, journey_kind: str) -> pl.DataFrame:
    """One row per channel (largest first, `(none)` last, then a TOTAL row), one column per
    model: `mart_channel_comparison_wide` in the registry's model order."""
    models = _model_order(conn)
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
    """Total and influenced pipeline and won revenue (reporting currency) and opportunity
    counts, from `mart_period_totals`."""
    row = conn.sql(
        """
        select
            coalesce(sum(total_amount) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(influenced_amount) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(total_amount) filter (where journey_kind = 'revenue'), 0),
            coalesce(sum(influenced_amount) filter (where journey_kind = 'revenue'), 0),
            coalesce(sum(opportunities) filter (where journey_kind = 'pipeline'), 0),
            coalesce(sum(opportunities) filter (where journey_kind = 'revenue'), 0)
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
    )
    return {k: float(v) for k, v in zip(keys, row, strict=True)}


def comparison_chart_png(tables: dict[str, pl.DataFrame], currency: str = "USD") -> bytes:
    """A heatmap per journey kind: channels down, models across, each cell the channel's share
    of the model's total (annotated in %), as PNG bytes. A heatmap stays readable with ten
    models where grouped bars do not; the amounts are in the tables beside it."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k, t in tables.items() if not t.is_empty()]
    panels = max(len(kinds), 1)
    fig, axes = plt.subplots(1, panels, figsize=(7.5 * panels, 6), dpi=80, squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=False):
        table = tables[kind].filter(pl.col("channel") != "TOTAL")
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
        fig.colorbar(image, ax=ax, fraction=0.04, format=matplotlib.ticker.PercentFormatter(1.0))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


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
    models = _model_order(conn)
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


def main(argv: list[str] | None = None) -> None:
    """CLI: print the pipeline and revenue comparison from a DuckDB file."""
    parser = argparse.ArgumentParser(description="Print the channel x model comparison.")
    parser.add_argument(
        "--database", default=os.environ.get("ATTRIBUTION_DUCKDB") or "data/attribution.duckdb"
    )
    args = parser.parse_args(argv)
    if not os.path.exists(args.database):
        sys.exit(f"{args.database}: no such DuckDB file; run the pipeline first (make run)")
    with duckdb.connect(args.database, read_only=True) as conn:
        currency_rows = conn.sql("select distinct reporting_currency from stg_opportunities").fetchall()
        currency = currency_rows[0][0] if currency_rows else "USD"
        totals = headline_totals(conn)
        for kind, title in (("pipeline", "Attributed pipeline"), ("revenue", "Attributed won revenue")):
            print(format_comparison(comparison_table(conn, kind), f"{title} by channel and model", currency))
            print()
        print(top_campaigns_text(conn, currency))
        print()
        share_p = totals["influenced_pipeline"] / totals["pipeline"] if totals["pipeline"] else 0.0
        share_r = totals["influenced_revenue"] / totals["won_revenue"] if totals["won_revenue"] else 0.0
        print(
            f"Pipeline {totals['pipeline']:,.0f} {currency} from {totals['opportunities']:,.0f} "
            f"opportunities; influenced {totals['influenced_pipeline']:,.0f} ({share_p:.1%})."
        )
        print(
            f"Won revenue {totals['won_revenue']:,.0f} {currency} from "
            f"{totals['won_opportunities']:,.0f} won opportunities; influenced "
            f"{totals['influenced_revenue']:,.0f} ({share_r:.1%})."
        )


if __name__ == "__main__":
    main()
