"""The bench's growth table: per stage, seconds and GiB per tier and the exponent of time
against touches between the two largest tiers."""

from __future__ import annotations

from bench.__main__ import StageClock, growth_table


def test_the_exponent_is_the_slope_of_time_against_touches_in_log_log():
    runs = [
        ("S", "duckdb", 1_000, {"journeys": 0.5, "marts": 1.0}, {"journeys": 0.25}),
        ("L", "duckdb", 10_000, {"journeys": 1.0, "marts": 10.0}, {"journeys": 0.5}),
        # 100x the touches of L: journeys 10x slower (exponent 1/2), marts 1000x (3/2, flagged)
        ("XL", "duckdb", 1_000_000, {"journeys": 10.0, "marts": 10_000.0}, {"journeys": 2.0}),
    ]
    lines = growth_table(runs).splitlines()
    assert lines[0].split() == ["stage", "S", "(duckdb)", "L", "(duckdb)", "XL", "(duckdb)", "exponent"]
    journeys = next(line for line in lines if line.strip().startswith("journeys"))
    marts = next(line for line in lines if line.strip().startswith("marts"))
    assert journeys.split()[1:] == [
        "0.50",
        "s",
        "0.25",
        "G",
        "1.00",
        "s",
        "0.50",
        "G",
        "10.00",
        "s",
        "2.00",
        "G",
        "0.50",
    ]
    # log(10000 / 10) / log(100) = 3 / 2; no peak measured: the time alone
    assert marts.split()[-1] == "1.50*" and "10000.00 s" in marts and " G" not in marts


def test_one_tier_has_no_growth():
    assert growth_table([("S", "duckdb", 1_000, {"journeys": 0.5}, {})]) == ""


def test_the_clock_times_each_stage_the_progress_names(capsys):
    rows: list[tuple[str, float, float]] = []
    with StageClock(rows) as clock:
        clock.tell("ingest touchpoints")
        clock.tell("journeys")
    assert [name for name, _, _ in rows] == ["ingest touchpoints", "journeys"]
    assert all(seconds >= 0 and peak > 0 for _, seconds, peak in rows)
    assert "ingest touchpoints" in capsys.readouterr().out
