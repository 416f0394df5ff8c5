"""Exact Markov solver vs ChannelAttribution's simulation, on the same generated paths.

Prints, per channel, both shares and their difference (agreement), and the time of each on
one million journeys at order 1 (and at order 3): ours from channel paths as an Enum (integer
state codes end to end, as the pipeline feeds them from DuckDB) and as strings (our encoding
timed too); ChannelAttribution's from its own " > "-joined path strings. Needs the bench extra:
`pip install -e '.[bench]'`. Usage: python -m bench.markov_compare [--journeys 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import polars as pl

from attribution.models.markov import markov_attribution

CHANNELS = [
    "paid_search",
    "organic_search",
    "paid_social",
    "email",
    "webinar",
    "event",
    "content_syndication",
    "referral",
    "direct",
    "sdr_outreach",
]


def generate_paths(journeys: int, seed: int = 1) -> pl.DataFrame:
    """Aggregated paths from `journeys` synthetic journeys: channels drawn per step, conversion
    probability rising with the channels' (unequal) effects."""
    rng = np.random.default_rng(seed)
    mix = np.array([16, 14, 12, 18, 6, 4, 8, 3, 12, 7], dtype=float)
    effect = np.array([0.30, 0.25, 0.05, 0.10, 0.60, 0.70, 0.15, 0.90, 0.20, 0.65])
    lengths = np.minimum(rng.geometric(0.35, size=journeys), 30)
    total = int(lengths.sum())
    journey = np.repeat(np.arange(journeys), lengths)
    channel = rng.choice(len(CHANNELS), size=total, p=mix / mix.sum())
    score = np.bincount(journey, weights=effect[channel], minlength=journeys)
    converted = rng.random(journeys) < 1 - np.exp(-0.35 * score)
    long = pl.DataFrame({"journey": journey, "channel": np.array(CHANNELS)[channel]})
    per_journey = long.group_by("journey", maintain_order=True).agg(path=pl.col("channel"))
    per_journey = per_journey.with_columns(converted=pl.Series(converted)[per_journey["journey"]])
    return (
        per_journey.with_columns(key=pl.col("path").list.join(">"))
        .group_by("key")
        .agg(
            pl.col("path").first(),
            conversions=pl.col("converted").sum().cast(pl.Int64),
            nulls=(~pl.col("converted")).sum().cast(pl.Int64),
        )
        .with_columns(value=pl.col("conversions") * 100.0)
        .drop("key")
        .sort("conversions", "nulls", descending=True)
    )


def channelattribution_shares(
    paths: pl.DataFrame, order: int, seeds: list[int], nsim: float
) -> tuple[pl.DataFrame, float]:
    """Mean share per channel over `seeds` runs of ChannelAttribution's markov_model; seconds of one run."""
    import ChannelAttribution as ca
    import pandas as pd  # noqa: F401  (ChannelAttribution takes pandas frames)

    frame = paths.select(
        path=pl.col("path").list.join(" > "),
        total_conversions="conversions",
        total_null="nulls",
        total_conversion_value="value",
    ).to_pandas()
    max_step = paths.select(pl.col("path").list.len().max()).item() * 10 + 10
    shares = []
    seconds = []
    for seed in seeds:
        started = time.perf_counter()
        out = ca.markov_model(
            frame,
            var_path="path",
            var_conv="total_conversions",
            var_null="total_null",
            order=order,
            nsim_start=nsim,
            max_step=max_step,
            seed=seed,
            verbose=False,
            flg_pro=False,
        )
        seconds.append(time.perf_counter() - started)
        result = pl.from_pandas(out if not isinstance(out, dict) else out["result"])
        conv = result["total_conversions"].to_numpy()
        shares.append(pl.DataFrame({"channel": result["channel_name"], f"s{seed}": conv / conv.sum()}))
    merged = shares[0]
    for extra in shares[1:]:
        merged = merged.join(extra, on="channel")
    cols = [c for c in merged.columns if c != "channel"]
    return merged.select(
        "channel", ca_share=pl.mean_horizontal(cols), ca_spread=pl.concat_list(cols).list.std()
    ), float(np.median(seconds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--nsim", type=float, default=1e6)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    paths = generate_paths(args.journeys)
    print(
        f"{args.journeys:,} journeys -> {len(paths):,} distinct paths, "
        f"{int(paths['conversions'].sum()):,} conversions ({time.perf_counter() - started:.1f} s to generate)"
    )

    # the same paths with channels as an Enum: integer state codes end to end (what the
    # pipeline feeds the chain from DuckDB); the string paths time our encoding as well
    coded = paths.with_columns(pl.col("path").cast(pl.List(pl.Enum(sorted(CHANNELS)))))
    timings: dict[str, float] = {}
    for order in (1, 3):
        for label, frame in (("string paths", paths), ("Enum paths", coded)):
            markov_attribution(frame, order=order)  # warm
            started = time.perf_counter()
            ours = markov_attribution(frame, order=order)
            timings[f"exact order {order}, {label}"] = time.perf_counter() - started
            if order == 1 and label == "string paths":
                exact = ours
    assert markov_attribution(coded, order=1).equals(exact)  # the same result from either input
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    os.dup2(devnull, 1)  # ChannelAttribution prints banners from C++; keep the table readable
    try:
        import ChannelAttribution  # noqa: F401

        available = True
    except ImportError:
        available = False
    finally:
        os.dup2(saved, 1)
    if not available:
        print("ChannelAttribution is not installed (pip install -e '.[bench]'): exact timings only")
        for name, seconds in timings.items():
            print(f"{name:>24}: {seconds:8.2f} s")
        sys.exit(0)

    os.dup2(devnull, 1)
    try:
        reference, ca_seconds = channelattribution_shares(paths, 1, list(range(1, args.seeds + 1)), args.nsim)
        _, ca_default_seconds = channelattribution_shares(paths, 1, [0], 1e5)
        _, ca3_seconds = channelattribution_shares(paths, 3, [0], 1e5)
    finally:
        os.dup2(saved, 1)
    timings[f"ChannelAttribution order 1 (nsim={args.nsim:.0e})"] = ca_seconds
    timings["ChannelAttribution order 1 (defaults)"] = ca_default_seconds
    timings["ChannelAttribution order 3 (defaults)"] = ca3_seconds

    table = (
        exact.select("channel", exact_share="share")
        .join(reference, on="channel")
        .with_columns(difference=pl.col("ca_share") - pl.col("exact_share"))
        .sort("exact_share", descending=True)
    )
    print(
        f"\nshares at order 1: exact vs mean of {args.seeds} ChannelAttribution runs (nsim={args.nsim:.0e})"
    )
    print(f"{'channel':<22}{'exact':>10}{'CA mean':>10}{'CA sd':>10}{'diff':>10}")
    for channel, e, c, sd, d in table.iter_rows():
        print(f"{channel:<22}{e:10.4f}{c:10.4f}{sd:10.4f}{d:+10.4f}")
    worst = table.select(pl.col("difference").abs().max()).item()
    print(f"worst absolute share difference: {worst:.4f}")
    print("\ntimings on the same aggregated paths:")
    for name, seconds in timings.items():
        print(f"{name:>46}: {seconds:8.2f} s")
    for label in ("Enum paths", "string paths"):
        print(
            f"speed-up at order 1 vs ChannelAttribution defaults, {label}: "
            f"{ca_default_seconds / timings[f'exact order 1, {label}']:.1f}x"
        )


if __name__ == "__main__":
    main()
