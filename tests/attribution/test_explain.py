"""attribution-explain: every touch of one opportunity with its credit under each model and the
reason, on a world small enough to check by hand."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.explain import EMPTY_JOURNEY, explain_opportunity, format_explanation
from attribution.models import MODEL_SPECS
from attribution.pipeline import SourcePaths, run_pipeline
from tests.conftest import AS_OF, REPO_ROOT, write_csv

CREATED = AS_OF - timedelta(days=40)


def _day(days_before: float) -> str:
    return (CREATED - timedelta(days=days_before)).isoformat()


@pytest.fixture(scope="module")
def explained_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """o1 (account a, 1,000, won): paid_search 30 days before creation, email 20, webinar 10,
    email 2. o2 (account b, 500): no touch. Account c: touches and a lost deal, so the Markov
    chain has a non-converting path."""
    folder = tmp_path_factory.mktemp("explain")
    write_csv(
        folder / "touchpoints.csv",
        ["touchpoint_id", "occurred_at", "account_id", "channel", "campaign", "touch_type"],
        [
            ["t1", _day(30), "a", "paid_search", "brand", "click"],
            ["t2", _day(20), "a", "email", "", "click"],
            ["t3", _day(10), "a", "webinar", "w1", "attended"],
            ["t4", _day(2), "a", "email", "", "click"],
            ["t5", _day(15), "c", "email", "", "click"],
            ["t6", _day(5), "c", "display", "", "impression"],
        ],
    )
    write_csv(
        folder / "opportunities.csv",
        ["opportunity_id", "account_id", "created_at", "stage", "amount", "closed_at"],
        [
            ["o1", "a", CREATED.isoformat(), "Closed Won", "1000", (CREATED + timedelta(days=5)).isoformat()],
            ["o2", "b", CREATED.isoformat(), "open", "500", ""],
            ["o3", "c", CREATED.isoformat(), "Closed Lost", "700", (CREATED + timedelta(days=3)).isoformat()],
        ],
    )
    database = folder / "run.duckdb"
    with duckdb.connect(str(database)) as conn:
        run_pipeline(
            conn,
            SourcePaths(folder / "touchpoints.csv", folder / "opportunities.csv"),
            AttributionConfig.from_settings(as_of=AS_OF, interval_replicates=0),
        )
    return database


def _explained(database: Path, opportunity_id: str) -> pl.DataFrame:
    with duckdb.connect(str(database), read_only=True) as conn:
        return explain_opportunity(conn, opportunity_id, AttributionConfig(as_of=AS_OF))


def test_every_model_explains_every_touch_with_the_published_credit(explained_world):
    explained = _explained(explained_world, "o1")
    pipeline = explained.filter(pl.col("journey_kind") == "pipeline")
    # ten models x four touches, credits as published (they sum to 1 per model)
    assert pipeline.height == len(MODEL_SPECS) * 4
    sums = pipeline.group_by("model").agg(pl.col("credit").sum())
    assert sums["credit"].to_list() == pytest.approx([1.0] * len(MODEL_SPECS))
    assert pipeline["reason"].null_count() == 0 and (pipeline["reason"] != "").all()
    # models in the registry's order, touches by position within each
    assert list(dict.fromkeys(pipeline["model"].to_list())) == list(MODEL_SPECS)


def test_the_rule_based_reasons_are_the_hand_derived_ones(explained_world):
    pipeline = _explained(explained_world, "o1").filter(pl.col("journey_kind") == "pipeline")

    def reasons(model: str) -> list[str]:
        return pipeline.filter(pl.col("model") == model).sort("position")["reason"].to_list()

    def credits(model: str) -> list[float]:
        return pipeline.filter(pl.col("model") == model).sort("position")["credit"].to_list()

    assert reasons("first_touch")[0] == "the journey's first touch takes it all"
    assert reasons("last_touch")[3] == "the journey's last touch takes it all"
    assert set(reasons("linear")) == {"1/4: an equal share with the journey's other touches"}
    # U-shaped, four touches: 40% first, 40% last, 20% shared by the two middle ones
    assert reasons("position_based") == [
        "first touch: 40%",
        "a middle touch: 20% shared by the 2 middle touches",
        "a middle touch: 20% shared by the 2 middle touches",
        "last touch: 40%",
    ]
    assert credits("position_based") == pytest.approx([0.4, 0.1, 0.1, 0.4])
    # time decay, half-life 7: weights 2^(-(d - 2)/7) for d = 30, 20, 10, 2 days before
    weights = [2 ** (-(d - 2) / 7) for d in (30, 20, 10, 2)]
    assert credits("time_decay") == pytest.approx([w / sum(weights) for w in weights])
    assert reasons("time_decay")[3] == (
        f"2.0 days before the event, half-life 7.0 days: weight 1.0 of the journey's "
        f"{float(f'{sum(weights):.4g}')} (the nearest touch weighs 1)"
    )
    # W-shaped without milestones input: first touch and opportunity creation (the last touch
    # at or before creation) hold their milestones, the two between share 10%
    assert reasons("w_shaped")[0].startswith("holds first_touch (30%)")
    assert "opportunity_created (30%)" in reasons("w_shaped")[3]
    assert reasons("w_shaped")[1] == "between the milestones: the touches holding none share 10%"


def test_the_fitted_models_cite_their_fitted_figures(explained_world):
    pipeline = _explained(explained_world, "o1").filter(pl.col("journey_kind") == "pipeline")
    with duckdb.connect(str(explained_world), read_only=True) as conn:
        effects = dict(
            conn.sql(
                "select channel, removal_effect from mart_markov_removal_effects where journey_kind = 'pipeline'"
            ).fetchall()
        )
    markov = pipeline.filter(pl.col("model") == "markov")
    for row in markov.iter_rows(named=True):
        assert row["reason"].startswith(
            f"{row['channel']}: removal effect {round(effects[row['channel']], 4)}"
        )
    # email has two touches in the journey: each reason says the channel is split over both
    emails = markov.filter(pl.col("channel") == "email")
    assert emails.height == 2 and all("split over its 2 touch(es)" in r for r in emails["reason"])
    assert emails["credit"][0] == pytest.approx(emails["credit"][1])
    shapley = pipeline.filter(pl.col("model") == "shapley")
    assert all(
        r.startswith(f"{c}: Shapley value")
        for c, r in zip(shapley["channel"], shapley["reason"], strict=True)
    )


def test_an_empty_journey_and_an_unknown_opportunity(explained_world):
    empty = _explained(explained_world, "o2")
    assert set(empty["channel"]) == {"(none)"} and set(empty["reason"]) == {EMPTY_JOURNEY}
    assert empty.filter(pl.col("journey_kind") == "pipeline")["credit"].to_list() == [1.0] * len(MODEL_SPECS)
    unknown = _explained(explained_world, "nope")
    assert unknown.is_empty()
    assert "no converted journey" in format_explanation(unknown, "nope")


def _explain_cli(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`attribution-explain ARGUMENTS` as a user runs it, from `cwd` with a bare environment."""
    return subprocess.run(
        [sys.executable, "-m", "attribution.explain", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )


def test_attribution_explain_prints_every_touch_and_writes_csv(explained_world, tmp_path):
    out = tmp_path / "o1.csv"
    done = _explain_cli(
        tmp_path, "o1", "--database", str(explained_world), "--journey-kind", "revenue", "--csv", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("revenue journey of o1: 1,000.00 USD, 4 touch(es)")
    assert done.stdout.count("\n  #") == 4 and "t3" in done.stdout
    written = pl.read_csv(out)
    assert written.height == 4 * len(MODEL_SPECS) and set(written["journey_kind"]) == {"revenue"}
    missing = _explain_cli(tmp_path, "nope", "--database", str(explained_world))
    assert missing.returncode == 1 and "no converted journey" in missing.stdout


def test_attribution_explain_reads_the_database_of_the_run_file(explained_world, tmp_path):
    run_file = tmp_path / "attribution.toml"
    run_file.write_text(
        f'[inputs]\ntouchpoints = "t.csv"\nopportunities = "o.csv"\n[outputs]\ndatabase = "{explained_world}"\n',
        encoding="utf-8",
    )
    done = _explain_cli(tmp_path, "o1", "--run-file", str(run_file), "--journey-kind", "pipeline")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pipeline journey of o1: 1,000.00 USD, 4 touch(es)")
