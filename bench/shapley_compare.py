"""Our Shapley model vs DP6's `attribution_shapley` (marketing-attribution-models, value column
conv_rate), on the same generated paths as bench.markov_compare.

Both play, for each distinct channel set, a game whose worth is the conversion rate of each
sub-set, and split the set's conversions by the Shapley values. DP6 keeps negative values;
we count them as 0 (a credit cannot be negative), so the comparison is made both ways.
Needs the bench extra: `pip install -e '.[bench]'`.
Usage: python -m bench.shapley_compare [--journeys 1000000]
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from attribution.models.shapley import shapley_attribution
from bench.markov_compare import generate_paths


def dp6_shares(paths: pl.DataFrame) -> tuple[pl.DataFrame, float]:
    """Per-channel conversions from DP6's ShapleyModel (no truncation of long sets); seconds."""
    from mam.models.shapley import ShapleyModel

    rows = []
    for index, (path, conversions, nulls) in enumerate(
        paths.select("path", "conversions", "nulls").iter_rows()
    ):
        if conversions:
            rows.append((2 * index, path, True, conversions, 1.0))
        if nulls:
            rows.append((2 * index + 1, path, False, nulls, 0.0))
    frame = pl.DataFrame(
        rows,
        schema={
            "journey_id": pl.Int64,
            "channels": pl.List(pl.String),
            "has_conversion": pl.Boolean,
            "weight": pl.Int64,
            "conversion_value": pl.Float64,
        },
        orient="row",
    )
    model = ShapleyModel(max_size=20, value_column="conv_rate", separator=">")
    started = time.perf_counter()
    table = model._compute_shapley(frame)
    seconds = time.perf_counter() - started
    totals: dict[str, float] = {}
    for combination, values in table.select("combinations", model.model_name).iter_rows():
        for channel, value in zip(combination.split(">"), values, strict=True):
            totals[channel] = totals.get(channel, 0.0) + value
    result = pl.DataFrame({"channel": list(totals), "dp6_conversions": list(totals.values())}).sort("channel")
    return result.with_columns(dp6_share=pl.col("dp6_conversions") / pl.col("dp6_conversions").sum()), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    paths = generate_paths(args.journeys)
    print(
        f"{args.journeys:,} journeys, {len(paths):,} distinct paths, {int(paths['conversions'].sum()):,} conversions"
    )
    started = time.perf_counter()
    ours = shapley_attribution(paths)
    ours_seconds = time.perf_counter() - started
    unclipped = shapley_attribution(paths, clip_negative=False).rename({"share": "unclipped_share"})
    theirs, dp6_seconds = dp6_shares(paths)
    table = ours.join(unclipped.select("channel", "unclipped_share"), on="channel").join(theirs, on="channel")
    table = table.with_columns(
        difference_unclipped=pl.col("unclipped_share") - pl.col("dp6_share"),
        difference=pl.col("share") - pl.col("dp6_share"),
    ).sort("share", descending=True)
    with pl.Config(tbl_rows=30, float_precision=4):
        print(
            table.select(
                "channel", "share", "unclipped_share", "dp6_share", "difference_unclipped", "difference"
            )
        )
    print(
        f"worst share difference, same definition (negative values kept): {table.select(pl.col('difference_unclipped').abs().max()).item():.2e}"
    )
    print(
        f"worst share difference, ours (negative values as 0) vs DP6: {table.select(pl.col('difference').abs().max()).item():.4f}"
    )
    print(f"seconds: ours {ours_seconds:.2f}, DP6 {dp6_seconds:.2f}")


if __name__ == "__main__":
    main()
