"""`python -m dagster_defs.cli partition-range`: the full touch-date range as START...END,
for `dagster asset materialize --partition-range` (the first full load in one run)."""

from __future__ import annotations

import sys

from dagster_defs.partitions import full_partition_range


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args != ["partition-range"]:
        sys.exit("usage: python -m dagster_defs.cli partition-range")
    print(full_partition_range())


if __name__ == "__main__":
    main()
