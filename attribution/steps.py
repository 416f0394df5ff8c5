"""What each step of the pipeline writes and reads: its tables and views, the SQL files it
runs (every file of sql/intermediate/ and sql/reads/ is one step's), the marts step's files
in build order. The asset graph, the engine hand-over and the checks read these."""

from __future__ import annotations

from attribution.sql_graph import build_order, sql_files, sql_reads

__all__ = [
    "COLLECTED",
    "MART_FILES",
    "MART_FOLDERS",
    "MART_TABLES",
    "STEP_FILES",
    "STEP_OUTPUTS",
    "STEP_SCRATCH",
    "VIEW_FILES",
    "step_reads",
]

# what the marts step builds: the intermediate tables of reporting, then the marts, in build
# order parsed from what each file reads (the credits view and the restatements are built by
# their own steps: run_models, build_restatements)
MART_FOLDERS: tuple[str, ...] = ("intermediate/reporting", "marts")
_OWN_STEPS = frozenset({"mart_attribution_credits", "mart_restatements"})
MART_FILES: dict[str, str] = sql_files(MART_FOLDERS)  # every file, the two own steps too
MART_TABLES: tuple[str, ...] = build_order(MART_FOLDERS, _OWN_STEPS)


# what each step after ingest writes (tables, views): a step that ran on another engine is
# mirrored into the DuckDB file (the checks, exports, snapshots, report and UI read it there)
STEP_OUTPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "journeys": (
        ("int_touch_rules", "int_journeys", "int_journey_touches", "int_journey_milestones"),
        ("int_eligible_touches",),
    ),
    "null_paths": (
        ("int_null_path_settings", "int_null_path_exclusions", "int_pipeline_null_paths", "int_markov_paths"),
        ("int_touch_roles", "int_null_path_touches"),
    ),
    "markov": (("mart_markov_removal_effects", "markov_transitions", "int_markov_fractions"), ()),
    "shapley": (("mart_shapley_channel_values", "int_shapley_fractions"), ()),
    "order_selection": (("mart_markov_order_selection",), ()),
    "credits": (("int_attribution_credits",), ("mart_attribution_credits",)),
    "intervals": (("int_attribution_intervals",), ()),
}
# the SQL files each step runs (every file of sql/intermediate/ and sql/reads/ is one step's):
# a step's reads, parsed from them, are its inputs (step_reads), the asset graph's deps
STEP_FILES: dict[str, tuple[str, ...]] = {
    "journeys": (
        "intermediate/int_eligible_touches.sql",
        "intermediate/int_journey_windows.sql",
        "intermediate/int_journey_touches.sql",
        "intermediate/int_journeys.sql",
        "intermediate/int_journey_milestones.sql",
    ),
    "null_paths": (
        "intermediate/int_touch_roles.sql",
        "intermediate/int_null_path_exclusions.sql",
        "intermediate/int_pipeline_null_paths.sql",
        "intermediate/int_markov_paths.sql",
        "intermediate/int_null_path_touches.sql",
        "reads/batch_null_path_candidates.sql",
    ),
    "markov": (
        "reads/batch_rows.sql",
        "reads/markov_channels.sql",
        "reads/batch_markov_paths.sql",
        "reads/batch_journey_channels.sql",
    ),
    "shapley": (
        "reads/batch_rows.sql",
        "reads/batch_journey_channels.sql",
        "reads/shapley_set_counts.sql",
    ),
    "order_selection": ("reads/markov_channels.sql", "reads/order_selection_paths.sql"),
    "credits": (
        "reads/credit_batch_rows.sql",
        "reads/batch_journey_touches.sql",
        "reads/batch_journey_values.sql",
        "reads/batch_milestone_touches.sql",
        "reads/batch_calibration_credits.sql",
        "marts/mart_attribution_credits.sql",
    ),
    "intervals": (
        "reads/interval_opportunities.sql",
        "reads/interval_journey_paths.sql",
        "reads/interval_null_paths.sql",
        "reads/interval_credits.sql",
    ),
}
# a step's scratch tables (written and dropped by the step itself)
STEP_SCRATCH: dict[str, tuple[str, ...]] = {
    "journeys": ("int_journey_windows",),
    "null_paths": ("_touch_roles",),
}


def step_reads(step: str) -> tuple[str, ...]:
    """The tables a step reads that another step (or ingest) writes: what its SQL files read,
    parsed (sql_graph.sql_reads), less its own outputs and scratch tables."""
    tables, views = STEP_OUTPUTS[step]
    reads = set().union(*(sql_reads(path) for path in STEP_FILES[step]))
    return tuple(sorted(reads - set(tables) - set(views) - set(STEP_SCRATCH.get(step, ()))))


VIEW_FILES: dict[str, str] = {
    "int_eligible_touches": "intermediate/int_eligible_touches.sql",
    "int_touch_roles": "intermediate/int_touch_roles.sql",
    "int_null_path_touches": "intermediate/int_null_path_touches.sql",
    "mart_attribution_credits": "marts/mart_attribution_credits.sql",
}
# every table a run on another engine copies into the DuckDB file
COLLECTED: tuple[str, ...] = (*(t for tables, _ in STEP_OUTPUTS.values() for t in tables), *MART_TABLES)
