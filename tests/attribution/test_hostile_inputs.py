"""A corpus of hostile inputs; for each, the exact outcome: which rows are staged, which are
quarantined with which reason, or which clear error. Every input row is accounted for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from attribution.config import AttributionConfig
from attribution.ingest import InputFileError, load_fx_rates, load_opportunities, load_touchpoints
from attribution.models import MODELS

CONFIG = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 11, 25))
T_HEADER = "touchpoint_id,occurred_at,account_id,channel,campaign\n"
O_HEADER = "opportunity_id,account_id,created_at,closed_at,stage,amount,currency\n"
F_HEADER = "currency,date,rate_to_reporting\n"
FX = F_HEADER + "EUR,2025-01-01,1.1\n"


@dataclass(frozen=True)
class Case:
    """One hostile input: its bytes and the exact outcome it must have."""

    source: str
    content: bytes | str | pl.DataFrame
    staged: tuple[str, ...] = ()
    quarantined: dict[int, str] = field(default_factory=dict)
    error: str | None = None
    suffix: str = "csv"
    after_as_of: int = 0


def t(rows: str) -> str:
    return T_HEADER + rows


def o(rows: str) -> str:
    return O_HEADER + rows


CASES: dict[str, Case] = {
    # ---- touchpoints --------------------------------------------------------------------
    "t_empty_file": Case("touchpoints", "", error="missing required column(s) touchpoint_id"),
    "t_header_only": Case("touchpoints", T_HEADER),
    "t_utf8_bom": Case("touchpoints", "\ufeff" + t("a,2026-01-01T00:00:00Z,acc,email,x\n"), staged=("a",)),
    "t_columns_reordered": Case(
        "touchpoints", "channel,account_id,occurred_at,touchpoint_id\nemail,acc,2026-01-01,a\n", staged=("a",)
    ),
    "t_extra_columns": Case(
        "touchpoints",
        "touchpoint_id,occurred_at,account_id,channel,utm_source,score\na,2026-01-01,acc,email,g,9\n",
        staged=("a",),
    ),
    "t_upper_case_headers": Case(
        "touchpoints", "TouchPoint_ID,Occurred_At,Account_ID,Channel\na,2026-01-01,acc,email\n", staged=("a",)
    ),
    "t_missing_channel_column": Case(
        "touchpoints",
        "touchpoint_id,occurred_at,account_id\na,2026-01-01,acc\n",
        error="missing required column(s) channel",
    ),
    "t_mixed_timestamp_formats": Case(
        "touchpoints",
        t(
            "iso_z,2026-01-01T10:00:00Z,acc,email,\n"
            "iso_offset,2026-01-01T10:00:00+02:00,acc,email,\n"
            "space,2026-01-01 10:00:00,acc,email,\n"
            "date_only,2026-01-01,acc,email,\n"
            "fraction,2026-01-01T10:00:00.123456Z,acc,email,\n"
            "us_style,01/02/2026,acc,email,\n"
            "epoch,1767225600,acc,email,\n"
            "words,next tuesday,acc,email,\n"
            "bad_month,2026-13-01,acc,email,\n"
        ),
        staged=("date_only", "fraction", "iso_offset", "iso_z", "space"),
        quarantined={6: "bad_timestamp", 7: "bad_timestamp", 8: "bad_timestamp", 9: "bad_timestamp"},
    ),
    # DuckDB reads 'infinity' / '-infinity' / 'epoch' as timestamps: 'epoch' is 1970 (a
    # valid instant), the infinities are no instant (bad_timestamp, not year 1 or 9999);
    # blanks around a timestamp or a plain date are allowed
    "t_special_timestamp_words": Case(
        "touchpoints",
        t(
            "inf,infinity,acc,email,\n"
            "neg_inf,-infinity,acc,email,\n"
            "padded,  2026-01-01T10:00:00Z  ,acc,email,\n"
            "padded_date,  2026-01-01  ,acc,email,\n"
        ),
        staged=("padded", "padded_date"),
        quarantined={1: "bad_timestamp", 2: "bad_timestamp"},
    ),
    "t_unicode_ids_and_campaigns": Case(
        "touchpoints", t("tp-é☕,2026-01-01,compte-ü,email,Café «promo» 春\n"), staged=("tp-é☕",)
    ),
    "t_quotes_in_ids": Case("touchpoints", t('"a""b",2026-01-01,acc,email,"say ""hi"""\n'), staged=('a"b',)),
    "t_sql_looking_strings": Case(
        "touchpoints",
        t(
            '"x\'); drop table stg_touchpoints; --",2026-01-01,acc,"email\'; delete from quarantine; --","1=1"\n'
        ),
        staged=("x'); drop table stg_touchpoints; --",),
    ),
    "t_duplicate_ids": Case(
        "touchpoints",
        t("a,2026-01-01,acc,email,\na,2026-01-02,acc,event,\nb,2026-01-02,acc,event,\n"),
        staged=("a", "b"),
        quarantined={2: "duplicate_id"},
    ),
    "t_duplicate_after_invalid_first": Case(
        "touchpoints",
        t("a,garbage,acc,email,\na,2026-01-02,acc,event,\n"),
        staged=("a",),
        quarantined={1: "bad_timestamp"},
    ),
    "t_whitespace_only_id": Case(
        "touchpoints", t("   ,2026-01-01,acc,email,\n"), quarantined={1: "missing_required"}
    ),
    "t_channel_punctuation": Case("touchpoints", t("a,2026-01-01,acc,Paid-Search!!,\n"), staged=("a",)),
    "t_channel_only_punctuation": Case(
        "touchpoints", t("a,2026-01-01,acc,!!!,\n"), quarantined={1: "missing_required"}
    ),
    "t_after_as_of": Case("touchpoints", t("a,2026-06-01T00:00:01Z,acc,email,\n"), after_as_of=1),
    "t_future_timestamp": Case(
        "touchpoints", t("a,2099-01-01T00:00:00Z,acc,email,\n"), quarantined={1: "future_timestamp"}
    ),
    "t_exactly_as_of": Case("touchpoints", t("a,2026-06-01T00:00:00Z,acc,email,\n"), staged=("a",)),
    "t_missing_account": Case(
        "touchpoints", t("a,2026-01-01,,email,\n"), quarantined={1: "missing_required"}
    ),
    "t_newline_inside_quotes": Case(
        "touchpoints", t('a,2026-01-01,acc,email,"line one\nline two"\n'), staged=("a",)
    ),
    "t_very_long_campaign": Case(
        "touchpoints", t("a,2026-01-01,acc,email," + "x" * 100_000 + "\n"), staged=("a",)
    ),
    "t_semicolon_delimited": Case(
        "touchpoints", "touchpoint_id;occurred_at;account_id;channel\na;2026-01-01;acc;email\n", staged=("a",)
    ),
    # a row with too few or too many fields makes the CSV sniffer misread the header: the whole
    # file fails, naming it and the columns it did find
    "t_short_row": Case(
        "touchpoints",
        t("a,2026-01-01,acc,email,x\nb,2026-01-01,acc\n"),
        error="found touchpoint_id,occurred_at,account_id,channel,campaign",
    ),
    "t_long_row": Case(
        "touchpoints",
        t("a,2026-01-01,acc,email,x,surplus,more\n"),
        error="missing required column(s) touchpoint_id",
    ),
    "t_binary_garbage_csv": Case("touchpoints", bytes(range(256)) * 4, error="touches.csv"),
    "t_parquet_typed_columns": Case(
        "touchpoints",
        pl.DataFrame(
            {
                "touchpoint_id": [1, 2],
                "occurred_at": [datetime(2026, 1, 1, 10), datetime(2026, 1, 2, 10)],
                "account_id": ["acc", "acc"],
                "channel": ["email", "event"],
            }
        ),
        staged=("1", "2"),
        suffix="parquet",
    ),
    "t_parquet_missing_column": Case(
        "touchpoints",
        pl.DataFrame({"touchpoint_id": ["a"], "occurred_at": ["2026-01-01"]}),
        error="missing required column(s) account_id, channel",
        suffix="parquet",
    ),
    "t_parquet_nulls": Case(
        "touchpoints",
        pl.DataFrame(
            {
                "touchpoint_id": ["a", None],
                "occurred_at": ["2026-01-01", "2026-01-01"],
                "account_id": ["x", "x"],
                "channel": ["email", "email"],
            }
        ),
        staged=("a",),
        quarantined={2: "missing_required"},
        suffix="parquet",
    ),
    # ---- opportunities ------------------------------------------------------------------
    "o_nan_amount": Case(
        "opportunities", o("a,acc,2026-01-01,,open,NaN,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_inf_amount": Case(
        "opportunities", o("a,acc,2026-01-01,,open,inf,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_overflowing_amount": Case(
        "opportunities", o("a,acc,2026-01-01,,open,1e400,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_huge_amount": Case(
        "opportunities", o("a,acc,2026-01-01,,open,10000000000000,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_negative_amount": Case(
        "opportunities", o("a,acc,2026-01-01,,open,-0.01,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_thousands_separator": Case(
        "opportunities", o('a,acc,2026-01-01,,open,"1,000",USD\n'), quarantined={1: "bad_amount"}
    ),
    "o_currency_symbol": Case(
        "opportunities", o("a,acc,2026-01-01,,open,$100,USD\n"), quarantined={1: "bad_amount"}
    ),
    "o_zero_amount": Case("opportunities", o("a,acc,2026-01-01,,open,0,USD\n"), staged=("a",)),
    "o_padded_amount": Case("opportunities", o("a,acc,2026-01-01,,open, 100.50 ,USD\n"), staged=("a",)),
    "o_stage_case": Case("opportunities", o("a,acc,2026-01-01,2026-02-01,Closed_Won,5,USD\n"), staged=("a",)),
    "o_unknown_stage_is_open": Case(
        "opportunities", o("a,acc,2026-01-01,2026-02-01,Pending Approval,5,USD\n"), staged=("a",)
    ),
    "o_bad_is_closed_flag": Case(
        "opportunities",
        "opportunity_id,account_id,created_at,stage,amount,is_closed\na,acc,2026-01-01,Closed Won,5,perhaps\n",
        quarantined={1: "bad_stage"},
    ),
    "o_closed_without_date": Case(
        "opportunities", o("a,acc,2026-01-01,,closed_lost,5,USD\n"), quarantined={1: "missing_closed_at"}
    ),
    "o_closed_before_created": Case(
        "opportunities",
        o("a,acc,2026-02-01,2026-01-31T23:59:59Z,closed_won,5,USD\n"),
        quarantined={1: "closed_before_created"},
    ),
    "o_lower_case_currency": Case("opportunities", o("a,acc,2026-01-01,,open,5,eur\n"), staged=("a",)),
    "o_unknown_currency": Case(
        "opportunities", o("a,acc,2026-01-01,,open,5,XYZ\n"), quarantined={1: "unknown_currency"}
    ),
    "o_rate_only_after_created": Case(
        "opportunities", o("a,acc,2024-06-01,,open,5,EUR\n"), quarantined={1: "unknown_currency"}
    ),
    "o_blank_currency": Case(
        "opportunities", o("a,acc,2026-01-01,,open,5,\n"), quarantined={1: "missing_required"}
    ),
    "o_absent_currency_column_is_base": Case(
        "opportunities",
        "opportunity_id,account_id,created_at,stage,amount\na,acc,2026-01-01,open,5\n",
        staged=("a",),
    ),
    "o_open_with_closed_at": Case(
        "opportunities", o("a,acc,2026-01-01,2026-02-01,open,5,USD\n"), staged=("a",)
    ),
    "o_duplicate_ids": Case(
        "opportunities",
        o("a,acc,2026-01-01,,open,5,USD\na,acc,2026-01-02,,open,6,USD\n"),
        staged=("a",),
        quarantined={2: "duplicate_id"},
    ),
    "o_closed_after_as_of_is_open": Case(
        "opportunities", o("a,acc,2026-01-01,2026-07-01,closed_won,5,USD\n"), staged=("a",)
    ),
    "o_created_after_as_of": Case("opportunities", o("a,acc,2026-06-02,,open,5,USD\n"), after_as_of=1),
    "o_future_close": Case(
        "opportunities",
        o("a,acc,2026-01-01,2099-07-01,closed_won,5,USD\n"),
        quarantined={1: "future_timestamp"},
    ),
    "o_literal_null_id": Case("opportunities", o("NULL,acc,2026-01-01,,open,5,USD\n"), staged=("NULL",)),
    "o_missing_amount_column": Case(
        "opportunities",
        "opportunity_id,account_id,created_at,stage\na,acc,2026-01-01,open\n",
        error="missing required column(s) amount",
    ),
    # ---- fx rates -----------------------------------------------------------------------
    "f_zero_rate": Case("fx_rates", F_HEADER + "EUR,2025-01-01,0\n", quarantined={1: "bad_amount"}),
    "f_text_rate": Case("fx_rates", F_HEADER + "EUR,2025-01-01,abc\n", quarantined={1: "bad_amount"}),
    "f_nan_rate": Case("fx_rates", F_HEADER + "EUR,2025-01-01,nan\n", quarantined={1: "bad_amount"}),
    "f_bad_date": Case("fx_rates", F_HEADER + "EUR,01.01.2025,1.1\n", quarantined={1: "bad_timestamp"}),
    "f_duplicate_day": Case(
        "fx_rates",
        F_HEADER + "EUR,2025-01-01,1.1\nEUR,2025-01-01,1.2\n",
        staged=("EUR",),
        quarantined={2: "duplicate_id"},
    ),
    "f_four_letter_currency": Case(
        "fx_rates", F_HEADER + "EURO,2025-01-01,1.1\n", quarantined={1: "unknown_currency"}
    ),
    "f_header_only": Case("fx_rates", F_HEADER),
    "f_missing_rate_column": Case(
        "fx_rates", "currency,date\nEUR,2025-01-01\n", error="missing required column(s) rate_to_reporting"
    ),
}

KEYS = {"touchpoints": "touchpoint_id", "opportunities": "opportunity_id", "fx_rates": "currency"}
LOADERS = {"touchpoints": load_touchpoints, "opportunities": load_opportunities, "fx_rates": load_fx_rates}
FILE_NAMES = {"touchpoints": "touches", "opportunities": "opps", "fx_rates": "rates"}


def _write(case: Case, folder: Path) -> Path:
    path = folder / f"{FILE_NAMES[case.source]}.{case.suffix}"
    if isinstance(case.content, pl.DataFrame):
        case.content.write_parquet(path)
    elif isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        path.write_text(case.content, encoding="utf-8")
    return path


def test_corpus_is_large_and_covers_every_source():
    assert len(CASES) >= 40
    assert {c.source for c in CASES.values()} == set(LOADERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = _write(case, tmp_path)
    conn = duckdb.connect()
    try:
        if case.source == "opportunities":
            fx = tmp_path / "fx.csv"
            fx.write_text(FX)
            load_fx_rates(conn, fx, CONFIG)
        if case.error is not None:
            with pytest.raises(InputFileError) as excinfo:
                LOADERS[case.source](conn, path, CONFIG)
            assert case.error in str(excinfo.value)
            assert str(path) in str(excinfo.value)
            return
        result = LOADERS[case.source](conn, path, CONFIG)
        key = KEYS[case.source]
        staged = tuple(sorted(r[0] for r in conn.sql(f"select {key} from stg_{case.source}").fetchall()))
        quarantined = dict(
            conn.sql(
                "select source_row, reason from quarantine where source = ? order by source_row",
                params=[case.source],
            ).fetchall()
        )
        assert staged == tuple(sorted(case.staged))
        assert quarantined == case.quarantined
        # every input row accounted for
        assert result.raw_rows == len(case.staged) + len(case.quarantined) + case.after_as_of
        assert result.after_as_of_rows == case.after_as_of
        assert result.raw_rows == result.staged_rows + result.quarantined_rows + result.after_as_of_rows
        # nothing the input said ran as SQL
        assert {"stg_touchpoints", "quarantine"} & {
            r[0] for r in conn.sql("select table_name from information_schema.tables").fetchall()
        } >= {"quarantine"}
    finally:
        conn.close()


def test_ten_thousand_touch_journey_conserves_credit(tmp_path: Path) -> None:
    # one account with 10,000 touches in the 90 days before one opportunity
    from attribution.checks import credit_conservation_violations
    from attribution.pipeline import SourcePaths, run_pipeline

    n = 10_000
    touches = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i:05d}" for i in range(n)],
            # spread over the 80 days before 2026-03-25, 11 minutes 31 seconds apart
            "occurred_at": [
                (
                    datetime(2026, 1, 4) + (datetime(2026, 1, 2) - datetime(2026, 1, 1)) * (80 * i / n)
                ).isoformat()
                + "Z"
                for i in range(n)
            ],
            "account_id": ["big"] * n,
            "channel": [["email", "webinar", "event", "paid_search"][i % 4] for i in range(n)],
        }
    )
    touches.write_csv(tmp_path / "touches.csv")
    (tmp_path / "opps.csv").write_text(
        O_HEADER + "o1,big,2026-03-25T00:00:00Z,2026-04-10T00:00:00Z,closed_won,50000,USD\n"
        "o2,big,2026-03-26T00:00:00Z,2026-04-11T00:00:00Z,closed_lost,100,USD\n"
    )
    conn = duckdb.connect()
    try:
        results = run_pipeline(
            conn, SourcePaths(str(tmp_path / "touches.csv"), str(tmp_path / "opps.csv")), CONFIG
        )
        assert results["touchpoints"].staged_rows == n
        assert credit_conservation_violations(conn).is_empty()
        # every model hands out exactly the 50,000 of o1's pipeline journey
        per_model = conn.sql(
            "select model, count(*), sum(attributed_amount) from mart_attribution_credits "
            "where journey_kind = 'pipeline' and opportunity_id = 'o1' group by model order by model"
        ).fetchall()
    finally:
        conn.close()
    assert [m for m, *_ in per_model] == sorted(MODELS)
    for _, rows, amount in per_model:
        assert rows == n
        assert amount == pytest.approx(50_000.0, abs=0.005)
