"""attribution-assign: draw an experiment's seeded, stratified holdout from a list of target
units and write the assignments file a marketing team hands to its ad platforms."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from attribution.experiments.assign import assign_units, read_targets

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Write <out> (experiment_id, unit_id, arm, stratum), print the arms' sizes per stratum."""
    parser = argparse.ArgumentParser(prog="attribution-assign", description=__doc__)
    parser.add_argument("--experiment", required=True, help="the experiment's id (seeds the draw)")
    parser.add_argument("--targets", required=True, type=Path, help="CSV of the target units")
    parser.add_argument("--unit-column", default="account_id", help="its unit column (default account_id)")
    parser.add_argument("--stratum-column", help="a column to stratify by (segment, region, ...)")
    parser.add_argument("--control-share", type=float, default=0.2, help="share held out (default 0.2)")
    parser.add_argument("--out", required=True, type=Path, help="the assignments CSV to write")
    args = parser.parse_args(argv)
    try:
        targets = read_targets(args.targets, args.unit_column, args.stratum_column)
        arms = assign_units(targets, args.experiment, args.control_share)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise SystemExit(f"{args.targets}: {exc}") from exc
    args.out.parent.mkdir(parents=True, exist_ok=True)
    arms.write_csv(args.out)
    sizes = arms.group_by("stratum", "arm").len().sort("stratum", "arm")
    for stratum, arm, units in sizes.iter_rows():
        print(f"{stratum}: {arm} {units}")
    print(f"wrote {arms.height} assignments to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
