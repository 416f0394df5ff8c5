"""Names as the marts key them: one Unicode-aware rule for channels, lead sources, opportunity
types and milestones, in Python and (registered as the DuckDB function `name_key`) in SQL."""

from __future__ import annotations

import contextlib
import unicodedata

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["name_key", "register_name_key"]

# emoji parts that are no letter, digit or symbol of their own: zero-width joiner, skin tones
_EMOJI_JOINERS = {"\u200d"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def _is_latin(character: str) -> bool:
    return unicodedata.name(character, "").startswith("LATIN ")


def name_key(text: str | None) -> str | None:
    """'Paid Search' -> 'paid_search', 'Réseaux sociaux' -> 'reseaux_sociaux', '社交媒体' ->
    '社交媒体': NFKC, case-folded, accents of Latin letters folded (marks of other scripts
    kept: they carry meaning), every run of characters that is no letter, digit, mark or
    symbol (emoji) one '_', none at the ends; None when nothing is left."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    kept: list[str] = []
    after_latin = False
    for character in folded:
        category = unicodedata.category(character)
        if category.startswith("M"):
            if not after_latin:
                kept.append(character)
            continue
        after_latin = _is_latin(character)
        if category[0] in "LN" or category == "So" or character in _EMOJI_JOINERS:
            kept.append(character)
        elif kept and kept[-1] != "_":
            kept.append("_")
    key = unicodedata.normalize("NFC", "".join(kept)).strip("_")
    return key or None


def _name_keys(values: pa.Array) -> pa.Array:
    """name_key over an Arrow vector, once per distinct value."""
    distinct = pc.unique(values)
    keys = pa.array([name_key(v) for v in distinct.to_pylist()], type=pa.string())
    return pc.take(keys, pc.index_in(values, value_set=distinct))


def register_name_key(conn: duckdb.DuckDBPyConnection) -> None:
    """Make `name_key(varchar)` callable in this connection's SQL (the staging models use it)."""
    with contextlib.suppress(duckdb.Error):
        conn.remove_function("name_key")
    conn.create_function(  # type: ignore[call-overload]
        "name_key",
        _name_keys,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
