"""Deterministic synthetic B2B world: accounts, touches, opportunities, fx rates, milestones
and spend (`attribution-sample`, `python -m attribution.sample_data`).

Channels differ in how likely a touch is to create an opportunity, so the models have
something real to find.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from attribution.sample_data.deals import generate_chunks
from attribution.sample_data.experiment import experiment_row, plant_experiment
from attribution.sample_data.extras import fx_rates, milestones, opportunity_history, spend, touch_counts
from attribution.sample_data.world import CHANNELS, TOUCH_TYPES, SampleSpec

__all__ = ["CHANNELS", "TOUCH_TYPES", "SampleSpec", "generate_chunks", "main", "write_sample"]


def _write(frame: pl.DataFrame, path: Path, file_format: str) -> int:
    """Write one frame as CSV or Parquet (`path` without its suffix); its row count."""
    if file_format == "parquet":
        frame.write_parquet(path.with_suffix(".parquet"))
    else:
        frame.write_csv(path.with_suffix(".csv"))
    return len(frame)


def write_sample(out_dir: Path, spec: SampleSpec, file_format: str = "csv") -> dict[str, int]:
    """Write touchpoints/, opportunities/ part files, fx_rates, milestones, spend, the
    opportunity history and the holdout experiment with its assignments under out_dir;
    return row counts."""
    counts = {"touchpoints": 0, "opportunities": 0, "fx_rates": 0, "milestones": 0, "spend": 0}
    milestone_frames = []
    history_frames = []
    touch_months = []
    for sub in ("touchpoints", "opportunities"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
        for old in (out_dir / sub).glob("part-*"):
            old.unlink()
    assignment_frames = []
    for i, (base_touches, base_opps) in enumerate(generate_chunks(spec)):
        touches, opps, assignments = plant_experiment(base_touches, base_opps, spec, i)
        assignment_frames.append(assignments)
        for name, frame in (("touchpoints", touches), ("opportunities", opps)):
            counts[name] += _write(frame, out_dir / name / f"part-{i:05d}", file_format)
        milestone_frames.append(milestones(touches, spec, i))
        history_frames.append(opportunity_history(opps, spec, i))
        touch_months.append(touch_counts(touches))
    counts["fx_rates"] = _write(fx_rates(spec), out_dir / "fx_rates", file_format)
    counts["milestones"] = _write(pl.concat(milestone_frames), out_dir / "milestones", file_format)
    counts["spend"] = _write(spend(pl.concat(touch_months)), out_dir / "spend", file_format)
    counts["opportunity_history"] = _write(
        pl.concat(history_frames), out_dir / "opportunity_history", file_format
    )
    counts["experiments"] = _write(experiment_row(spec), out_dir / "experiments", file_format)
    counts["experiment_assignments"] = _write(
        pl.concat(assignment_frames).sort("unit_id"), out_dir / "experiment_assignments", file_format
    )
    return counts


def main(argv: list[str] | None = None) -> None:
    """CLI: write a deterministic sample world (`attribution-sample --scale 1 --out data/sample`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = ~50k touches")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--experiment-effect",
        type=float,
        default=SampleSpec.experiment_deals_per_account,
        help="extra deals per treated account the paid social holdout plants (0: none)",
    )
    parser.add_argument(
        "--objects",
        choices=("salesforce", "hubspot"),
        help="also write the world as that CRM's object export, under OUT/<crm>_objects/",
    )
    args = parser.parse_args(argv)
    spec = SampleSpec(scale=args.scale, seed=args.seed, experiment_deals_per_account=args.experiment_effect)
    counts = write_sample(args.out, spec, args.format)
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    if args.objects:
        from attribution.crm.sample_objects import write_objects

        folder = args.out / f"{args.objects}_objects"
        objects = write_objects(args.out, folder, args.objects)
        print(f"wrote {folder}: " + ", ".join(f"{k}={v:,}" for k, v in objects.items()))
