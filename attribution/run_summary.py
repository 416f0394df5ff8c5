"""`python -m attribution.run_summary`: say what a run will read and write (make run prints it):
the run file, whether the sample runs, each input with where its value came from, the
database and the export folder; with --write-sample, the sample is written first when it is what
runs and is not there yet."""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from attribution.runfile import SAMPLE_INPUTS, resolve_run

__all__ = ["main"]

SAMPLE_DIR = Path("data/sample")  # where SAMPLE_INPUTS point (the working directory's data/)


def main(argv: list[str] | None = None) -> None:
    """`python -m attribution.run_summary`: say what a run will read and write (make run prints it);
    --is-sample: exit 0 when the sample runs, 1 otherwise; --report-path: where the report goes;
    --write-sample: write the sample (data/sample) when it runs and a file of it is missing."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--run-file")
    parser.add_argument("--is-sample", action="store_true")
    parser.add_argument("--report-path", action="store_true")
    parser.add_argument("--write-sample", action="store_true")
    args = parser.parse_args(argv)
    try:
        spec = resolve_run(args.run_file)
    except ValueError as exc:
        print(f"run file: {exc}", file=sys.stderr)
        sys.exit(65 if not args.is_sample else 2)
    if args.is_sample:
        sys.exit(0 if spec.is_sample else 1)
    if args.write_sample and spec.is_sample:
        _write_missing_sample()
    if args.report_path:
        print(f"report: {Path(spec.export_dir) / 'attribution_report.html'} (open it in a browser)")
        return
    where = f"run file {spec.run_file}" if spec.run_file else "no run file"
    print(f"{where}; {'the bundled sample' if spec.is_sample else 'your inputs'}:")
    print(f"  format        {spec.settings.get('source_format', 'contract')}")
    for name, paths in spec.describe()["inputs"].items():
        print(f"  {name:<13} {paths or '(none)'}  [{spec.origins.get(name, 'not given')}]")
    print(f"  database      {spec.database}\n  exports       {spec.export_dir}")


def _write_missing_sample() -> None:
    """Write the bundled sample (the default seed and scale) when one of its inputs is missing."""
    if all(glob.glob(pattern) for pattern in SAMPLE_INPUTS.values()):
        return
    from attribution.sample_data import SampleSpec, write_sample

    counts = write_sample(SAMPLE_DIR, SampleSpec(), "csv")
    print(f"wrote {SAMPLE_DIR}: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
