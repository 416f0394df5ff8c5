"""Why each touch of one opportunity got its credit, under every model: the published credits
(mart_attribution_credits) with each model's reason (its spec's `explain`), and
`attribution-explain OPPORTUNITY_ID`, which prints them."""

from __future__ import annotations

import argparse
import sys

import duckdb
import polars as pl

from attribution.config import JOURNEY_KINDS, AttributionConfig
from attribution.contracts import UNATTRIBUTED_CHANNEL
from attribution.models import MODEL_SPECS
from attribution.sql import query_frame

__all__ = ["explain_opportunity", "format_explanation", "main"]

EMPTY_JOURNEY = "no touch in the journey window: the unattributed (none) takes the whole amount"


def _journey_touches(
    conn: duckdb.DuckDBPyConnection, opportunity_id: str, journey_kind: str | None
) -> pl.DataFrame:
    """The opportunity's converted journeys' touches (of `journey_kind` when given), each with
    the milestones it holds."""
    return query_frame(
        conn,
        """
        select t.journey_kind, t.touchpoint_id, t.position, t.touch_count, t.occurred_at,
            t.days_before_event, t.channel, t.campaign, t.touch_type,
            coalesce(list(m.milestone order by m.milestone) filter (where m.milestone is not null),
                []) as milestones
        from int_journey_touches as t
        inner join int_journeys as j using (journey_kind, opportunity_id)
        left join int_journey_milestones as m using (journey_kind, opportunity_id, touchpoint_id)
        where t.opportunity_id = ? and j.is_converted and (?::varchar is null or t.journey_kind = ?)
        group by all
        """,
        [opportunity_id, journey_kind, journey_kind],
    )


def _fitted(conn: duckdb.DuckDBPyConnection, opportunity_id: str) -> pl.DataFrame:
    """Per (journey_kind, model, channel): what the fitted models' reasons cite."""
    return query_frame(
        conn,
        """
        select f.journey_kind, 'markov' as model, f.channel, f.fraction as channel_fraction,
            f.channel_touch_count, e.removal_effect, e.share as removal_share
        from int_markov_fractions as f
        left join mart_markov_removal_effects as e using (journey_kind, channel)
        where f.opportunity_id = ?
        union all by name
        select journey_kind, 'shapley' as model, channel, fraction as channel_fraction,
            channel_touch_count
        from int_shapley_fractions
        where opportunity_id = ?
        """,
        [opportunity_id, opportunity_id],
    )


def explain_opportunity(
    conn: duckdb.DuckDBPyConnection,
    opportunity_id: str,
    config: AttributionConfig,
    journey_kind: str | None = None,
) -> pl.DataFrame:
    """One row per (journey_kind, model, touch) of the opportunity's converted journeys (of
    `journey_kind` only, when given): the published credit and attributed amount, the touch,
    and the model's reason. Empty when the opportunity has no converted journey (unknown, or a
    revenue journey of an unwon deal)."""
    credits = query_frame(
        conn,
        """
        select journey_kind, model, touchpoint_id, channel, credit, attributed_amount
        from mart_attribution_credits
        where opportunity_id = ? and (?::varchar is null or journey_kind = ?)
        """,
        [opportunity_id, journey_kind, journey_kind],
    )
    touches = _journey_touches(conn, opportunity_id, journey_kind)
    rows = credits.join(touches, on=["journey_kind", "touchpoint_id", "channel"], how="left")
    rows = rows.join(_fitted(conn, opportunity_id), on=["journey_kind", "model", "channel"], how="left")
    order = {name: spec.order for name, spec in MODEL_SPECS.items()}
    parts = []
    for (_kind, model), part in rows.group_by(["journey_kind", "model"], maintain_order=True):
        spec = MODEL_SPECS.get(str(model))
        if part["touchpoint_id"].is_null().all():
            reason: pl.Expr = pl.lit(EMPTY_JOURNEY)
        elif spec is None or spec.explain is None:
            reason = pl.lit("")
        else:
            reason = spec.explain(config)
            if spec.mergeable and spec.name in config.merged_models:
                repeat = pl.col("channel") == pl.col("channel").shift(1)
                reason = (
                    pl.when(repeat.fill_null(False))
                    .then(pl.lit("a repeat of the channel before it: its run's first touch holds the step"))
                    .otherwise(reason)
                )
        parts.append(part.sort("position", nulls_last=True).with_columns(reason=reason))
    if not parts:
        return rows.with_columns(reason=pl.lit(None, pl.String))
    explained = pl.concat(parts, how="diagonal_relaxed")
    return (
        explained.with_columns(model_order=pl.col("model").replace_strict(order, default=999))
        .sort("journey_kind", "model_order", "position", nulls_last=True)
        .drop("model_order")
    )


def format_explanation(explained: pl.DataFrame, opportunity_id: str, currency: str = "") -> str:
    """The explanation as text: per journey kind, each touch with every model's credit and reason."""
    if explained.is_empty():
        return f"{opportunity_id}: no converted journey (unknown opportunity, or not won for revenue)"
    lines = []
    for (kind,), journey in explained.group_by(["journey_kind"], maintain_order=True):
        amount = float(
            journey.group_by("model")
            .agg(pl.col("attributed_amount").sum())
            .select(pl.max("attributed_amount"))
            .item()
        )
        touches = journey.filter(pl.col("touchpoint_id").is_not_null())["touchpoint_id"].n_unique()
        lines.append(
            f"{kind} journey of {opportunity_id}: {amount:,.2f} {currency}, {touches} touch(es)".rstrip()
        )
        if touches == 0:
            lines.append(f"  {UNATTRIBUTED_CHANNEL}: {EMPTY_JOURNEY}")
            continue
        for (touch,), rows in journey.group_by(["touchpoint_id"], maintain_order=True):
            first = rows.row(0, named=True)
            campaign = f" / {first['campaign']}" if first["campaign"] else ""
            touch_type = f" ({first['touch_type']})" if first["touch_type"] else ""
            lines.append(
                f"  #{first['position']} {first['occurred_at']:%Y-%m-%d} {first['channel']}{campaign}"
                f"{touch_type}, {first['days_before_event']:.1f} days before, touch {touch}"
            )
            for row in rows.iter_rows(named=True):
                lines.append(f"      {row['model']:<15}{row['credit']:>7.1%}  {row['reason']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI: explain one opportunity's credits under every model from a DuckDB file."""
    from attribution.report import run_database
    from attribution.runfile import resolve_run

    parser = argparse.ArgumentParser(
        prog="attribution-explain",
        description="Every touch of one opportunity with its credit under each model and why.",
    )
    parser.add_argument("opportunity_id")
    parser.add_argument("--run-file", help="default: $ATTRIBUTION_RUN_FILE, else ./attribution.toml")
    parser.add_argument("--database", help="default: the run file's, else $ATTRIBUTION_DUCKDB")
    parser.add_argument("--journey-kind", choices=JOURNEY_KINDS, help="default: every kind")
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a run that is writing")
    args = parser.parse_args(argv)
    try:
        spec = resolve_run(run_file=args.run_file, overrides={"database": args.database})
    except ValueError as exc:
        sys.exit(f"run file: {exc}")
    config = spec.config()  # the run's settings: the weights and half-life the reasons cite
    with run_database(spec.database, args.wait) as (conn, _):
        explained = explain_opportunity(conn, args.opportunity_id, config, args.journey_kind)
        currency = query_frame(
            conn, "select any_value(reporting_currency) as c from stg_opportunities", []
        ).item()
    print(format_explanation(explained, args.opportunity_id, currency or ""))
    if args.csv:
        explained.with_columns(pl.col("milestones").list.join(";")).write_csv(args.csv)
    if explained.is_empty():
        sys.exit(1)


if __name__ == "__main__":
    main()
