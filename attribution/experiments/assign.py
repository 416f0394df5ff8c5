"""A seeded, stratified holdout assignment: which target units (accounts or geos) of an
experiment are held out as control, reproducibly from the experiment id and the unit alone."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

__all__ = ["ASSIGNMENT_SCHEMA", "assign_units", "read_targets", "unit_draw"]

ASSIGNMENT_SCHEMA: dict[str, type[pl.DataType]] = {
    "experiment_id": pl.String,
    "unit_id": pl.String,
    "arm": pl.String,
    "stratum": pl.String,
}


def unit_draw(experiment_id: str, unit_id: str) -> float:
    """A uniform number in [0, 1) from sha256 of the experiment id and the unit: the same unit
    of the same experiment draws the same number on every machine and in any order."""
    digest = hashlib.sha256(f"{experiment_id}\x1f{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_units(targets: pl.DataFrame, experiment_id: str, control_share: float) -> pl.DataFrame:
    """The arm of every target unit (`targets`: unit_id, optional stratum): within each stratum
    the round(n x control_share) units of the smallest draws are control, the rest treatment,
    so every stratum holds the share (ties by unit id). Blank or repeated units are an error."""
    if not 0 < control_share < 1:
        raise ValueError(f"control_share must be between 0 and 1, got {control_share}")
    units = targets.select(
        pl.col("unit_id").cast(pl.String).str.strip_chars(),
        (pl.col("stratum").cast(pl.String) if "stratum" in targets.columns else pl.lit(None, pl.String))
        .fill_null("(all)")
        .alias("stratum"),
    )
    blank = units.filter(pl.col("unit_id").is_null() | (pl.col("unit_id") == ""))
    if blank.height:
        raise ValueError(f"{blank.height} target row(s) without a unit id")
    repeated = units.filter(pl.col("unit_id").is_duplicated())["unit_id"].unique().sort().to_list()
    if repeated:
        raise ValueError(f"target units listed twice: {', '.join(repeated[:5])}")
    drawn = units.with_columns(
        draw=pl.col("unit_id").map_elements(
            lambda unit: unit_draw(experiment_id, unit), return_dtype=pl.Float64
        )
    ).sort("stratum", "draw", "unit_id")
    ranked = drawn.with_columns(
        rank=pl.int_range(pl.len()).over("stratum"),
        controls=(pl.len().over("stratum") * control_share).round(0).cast(pl.Int64),
    )
    return ranked.select(
        experiment_id=pl.lit(experiment_id),
        unit_id="unit_id",
        arm=pl.when(pl.col("rank") < pl.col("controls"))
        .then(pl.lit("control"))
        .otherwise(pl.lit("treatment")),
        stratum="stratum",
    ).sort("stratum", "unit_id")


def read_targets(path: str | Path, unit_column: str, stratum_column: str | None = None) -> pl.DataFrame:
    """The target units of a CSV file (every column read as text) as unit_id (and stratum):
    the input assign_units takes; a ValueError naming a missing column, an OSError or polars
    error for an unreadable file."""
    frame = pl.read_csv(path, infer_schema=False)
    renamed = {unit_column: "unit_id", **({stratum_column: "stratum"} if stratum_column else {})}
    missing = [column for column in renamed if column not in frame.columns]
    if missing:
        raise ValueError(f"no column {', '.join(missing)}; found {', '.join(frame.columns)}")
    return frame.select(list(renamed)).rename(renamed)
