"""The experiment assignment as a Dagster job: the launchpad's config names the experiment,
the target list and the control share; the op writes the assignments file attribution-assign
writes (attribution.experiments.assign_units), with the arms per stratum as metadata."""

# no `from __future__ import annotations`: Dagster reads the op's config type from its signature

from pathlib import Path

import dagster as dg
import polars as pl

from attribution.experiments.assign import assign_units, read_targets
from dagster_defs.metadata import markdown_table

__all__ = ["AssignmentConfig", "draw_assignment", "experiment_assignment_job"]


class AssignmentConfig(dg.Config):
    """What to draw: the experiment id (it seeds the draw), the targets CSV and its unit and
    stratum columns, the control share, the assignments CSV to write."""

    experiment_id: str
    targets: str
    unit_column: str = "account_id"
    stratum_column: str | None = None
    control_share: float = 0.2
    out: str = "data/exports/experiment_assignments.csv"


@dg.op(description="Draw the experiment's seeded, stratified holdout and write its assignments file.")
def draw_assignment(context: dg.OpExecutionContext, config: AssignmentConfig) -> None:
    try:
        targets = read_targets(config.targets, config.unit_column, config.stratum_column)
        arms = assign_units(targets, config.experiment_id, config.control_share)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise dg.Failure(description=f"{config.targets}: {exc}", allow_retries=False) from exc
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    arms.write_csv(out)
    sizes = arms.group_by("stratum", "arm").len().sort("stratum", "arm")
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(out.resolve())),
            "assignments": dg.MetadataValue.int(arms.height),
            "arms": dg.MetadataValue.md(markdown_table(sizes)),
        }
    )


@dg.job(description="Draw an experiment's holdout (the launchpad's config) and write its assignments file.")
def experiment_assignment_job() -> None:
    draw_assignment()
