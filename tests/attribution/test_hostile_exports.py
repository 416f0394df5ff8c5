"""Defects that exports written by real CRMs and spreadsheets found: channel names in every
script, unreadable files with their reason and real line, duplicated headers, ambiguous time
zone abbreviations."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import duckdb
import pytest

from attribution.config import AttributionConfig
from attribution.ingest import InputFileError, load_touchpoints
from attribution.keys import name_key

CONFIG = AttributionConfig(as_of=datetime(2026, 6, 1), run_started_at=datetime(2026, 6, 1))
HEADER = "touchpoint_id,occurred_at,account_id,channel\n"


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Paid Search", "paid_search"),  # the old rule's answer is kept for ASCII
        ("  E-mail / Newsletter ", "e_mail_newsletter"),
        ("Réseaux sociaux", "reseaux_sociaux"),  # accents of Latin letters folded
        (unicodedata.normalize("NFD", "Réseaux sociaux"), "reseaux_sociaux"),  # NFD = NFC
        ("Straße", "strasse"),  # case folding
        ("ＷＥＢＩＮＡＲ", "webinar"),  # full-width letters (NFKC)
        ("وسائل التواصل", "وسائل_التواصل"),  # Arabic kept
        ("社交媒体", "社交媒体"),  # Chinese kept
        ("Вебинар", "вебинар"),  # Cyrillic kept, lower-cased
        ("ガイド", "ガイド"),  # a Japanese voicing mark is not an accent: kept
        ("🚀", "🚀"),  # an emoji channel is a channel
        ("🚀 Launch", "🚀_launch"),
        ("!!!", None),  # nothing left: missing
    ],
)
def test_channel_keys_keep_every_script(label, key):
    assert name_key(label) == key


def _load(tmp_path, text: str | bytes, name: str = "t.csv", config: AttributionConfig = CONFIG):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    conn = duckdb.connect()
    result = load_touchpoints(conn, str(path), config)
    return conn, result


def test_non_latin_and_emoji_channels_are_staged_and_spellings_merge(tmp_path):
    nfd = unicodedata.normalize("NFD", "Réseaux sociaux")
    conn, result = _load(
        tmp_path,
        HEADER
        + "a,2026-01-01,acc,وسائل التواصل\n"
        + "b,2026-01-01,acc,社交媒体\n"
        + "c,2026-01-01,acc,🚀\n"
        + "d,2026-01-01,acc,Réseaux sociaux\n"
        + f"e,2026-01-01,acc,{nfd}\n",
    )
    assert (result.staged_rows, result.quarantined_rows) == (5, 0)
    channels = dict(conn.sql("select touchpoint_id, channel from stg_touchpoints").fetchall())
    assert channels == {
        "a": "وسائل_التواصل",
        "b": "社交媒体",
        "c": "🚀",
        "d": "reseaux_sociaux",
        "e": "reseaux_sociaux",
    }


def test_a_cp1252_export_names_the_reason_the_line_and_what_to_do(tmp_path):
    rows = "".join(f"a{i},2026-01-01,acc,email\n" for i in range(5))
    text = (HEADER + rows + "b,2026-01-01,acc,Réseaux\n").encode("cp1252")
    with pytest.raises(InputFileError) as error:
        _load(tmp_path, text)
    message = str(error.value)
    assert "Invalid unicode" in message  # DuckDB's reason, not only "CSV Error on Line: 1"
    assert "line 7" in message  # header + five rows: the accented row is the file's 7th line
    assert "re-export it as UTF-8" in message and "csv_encoding" in message
    # the setting reads it
    _, result = _load(
        tmp_path,
        text,
        config=AttributionConfig.from_settings(as_of=datetime(2026, 6, 1), csv_encoding="latin-1"),
    )
    assert result.staged_rows == 6


def test_a_two_million_character_field_does_not_fail_the_file(tmp_path):
    rows = "".join(f"t{i},2026-01-01,acc,email\n" for i in range(30))
    _conn, result = _load(tmp_path, HEADER + rows + "big,2026-01-01,acc," + "x" * 2_000_000 + "\n")
    assert (result.raw_rows, result.staged_rows + result.quarantined_rows) == (31, 31)


def test_a_duplicated_column_fails_naming_it(tmp_path):
    with pytest.raises(InputFileError, match="the header has the column 'Channel' twice"):
        _load(tmp_path, "touchpoint_id,occurred_at,account_id,channel,Channel\na,2026-01-01,acc,email,web\n")
    # a repeated column nobody reads is no problem
    _, result = _load(
        tmp_path, "touchpoint_id,occurred_at,account_id,channel,Notes,Notes\na,2026-01-01,acc,email,x,y\n"
    )
    assert result.staged_rows == 1


def test_ambiguous_time_zone_abbreviations_are_bad_timestamps(tmp_path):
    conn, _result = _load(
        tmp_path,
        HEADER
        + "ist,2026-03-15 10:00:00 IST,acc,email\n"
        + "cst,2026-03-15 10:00 CST,acc,email\n"
        + "utc,2026-03-15 10:00:00 UTC,acc,email\n"
        + "gmt,2026-03-15 10:00:00 GMT,acc,email\n"
        + "zulu,2026-03-15T10:00:00Z,acc,email\n"
        + "offset,2026-03-15T10:00:00+05:30,acc,email\n"
        + "iana,2026-03-15 10:00:00 America/New_York,acc,email\n",
    )
    reasons = dict(
        conn.sql("select json_extract_string(record, '$.touchpoint_id'), reason from quarantine").fetchall()
    )
    assert reasons == {"ist": "bad_timestamp", "cst": "bad_timestamp"}
    times = dict(conn.sql("select touchpoint_id, occurred_at from stg_touchpoints").fetchall())
    assert times["offset"] == datetime(2026, 3, 15, 4, 30)
    assert times["iana"] == datetime(2026, 3, 15, 14, 0)  # EDT is UTC-4 from 2026-03-08
    assert times["utc"] == times["gmt"] == times["zulu"] == datetime(2026, 3, 15, 10, 0)
