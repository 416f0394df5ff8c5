"""Paths as integer states for the Markov chain (DESIGN §3): each channel's code, the order-k
state of every touch, every transition, and the counted transitions of a batch of paths.

States are integers end to end: channel c (0-based in the sorted channel list) has digit
c + 1, and an order-k state is the number whose base-(channels + 1) digits are its last k
channels, newest lowest; the special states have negative codes. Labels (`a > b`) are made
only for the output table and the networkx graph (attribution.models.markov_chain).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "CONVERSION",
    "CONVERSION_CODE",
    "DENSE_PAIR_LIMIT",
    "MAX_ORDER",
    "NULL",
    "NULL_CODE",
    "START",
    "START_CODE",
    "STATE_SEPARATOR",
    "ChainCounts",
    "TransitionRows",
    "count_transitions",
    "pair_codes",
    "pair_keys",
    "state_digits",
    "state_label",
    "transition_rows",
]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
STATE_SEPARATOR = " > "
START_CODE, CONVERSION_CODE, NULL_CODE = -1, -2, -3
MAX_ORDER = 4
# a table over every possible (state, next step) pair is faster than sorting below this size
DENSE_PAIR_LIMIT = 4_000_000


@dataclass(frozen=True)
class ChainCounts:
    """Counted transitions between integer states; counts of batches with the same channels
    and order add up exactly (whole numbers), so the chain never needs all paths at once."""

    channels: tuple[str, ...]
    order: int
    from_code: np.ndarray
    to_code: np.ndarray
    count: np.ndarray
    total_conversions: float
    total_value_micros: int  # value in millionths: integer sums are exact in any order

    @property
    def total_value(self) -> float:
        return self.total_value_micros / 1e6

    def __add__(self, other: ChainCounts) -> ChainCounts:
        if (self.channels, self.order) != (other.channels, other.order):
            raise ValueError("chain counts combine only over the same channels and order")
        n_channels = len(self.channels)
        return _summed(
            self,
            [
                (pair_keys(self.from_code, self.to_code, n_channels), self.count),
                (pair_keys(other.from_code, other.to_code, n_channels), other.count),
            ],
            self.total_conversions + other.total_conversions,
            self.total_value_micros + other.total_value_micros,
        )


def pair_keys(from_code: np.ndarray, to_code: np.ndarray, n_channels: int) -> np.ndarray:
    """One integer per (from, to) transition, in (from, to) order: (from + 3) x (channels + 2)
    + outcome, outcome 0 into null, 1 into conversion, c + 2 into a state whose newest channel
    is c. The new state of a step is the old one shifted by that channel, so a key space of
    states x (channels + 2) holds every pair (not states x states)."""
    outcome = np.where(
        to_code == NULL_CODE, 0, np.where(to_code == CONVERSION_CODE, 1, to_code % (n_channels + 1) + 1)
    )
    keys: np.ndarray = (from_code.astype(np.int64) + 3) * (n_channels + 2) + outcome
    return keys


def pair_codes(keys: np.ndarray, n_channels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The (from, to) state codes of pair keys (the inverse of `pair_keys`)."""
    base = n_channels + 1
    from_code = keys // (n_channels + 2) - 3
    outcome = keys % (n_channels + 2)
    to_code = np.where(
        outcome == 0,
        NULL_CODE,
        np.where(
            outcome == 1, CONVERSION_CODE, (np.maximum(from_code, 0) * base + outcome - 1) % base**order
        ),
    )
    return from_code, to_code


def _summed(
    like: ChainCounts,
    parts: Iterable[tuple[np.ndarray, np.ndarray]],
    conversions: float,
    value_micros: int,
    size: int | None = None,
) -> ChainCounts:
    """One row per (from, to) pair of the (pair key, weight) parts with the summed weight, in
    (from, to) order; a table over the key space (`size`: every key is below it, found when
    not given) when it is small: no sort at all."""
    if size is None:
        parts = list(parts)
        size = max((int(keys.max()) + 1 for keys, _ in parts if keys.size), default=0)
    if size <= DENSE_PAIR_LIMIT:  # a pair whose weights sum to 0 is dropped by flatnonzero
        table = np.zeros(size)
        for keys, weight in parts:
            table += np.bincount(keys, weights=weight, minlength=size)
        unique: np.ndarray = np.flatnonzero(table)
        summed: np.ndarray = table[unique]
    else:
        parts = [(keys[weight > 0], weight[weight > 0]) for keys, weight in parts]
        unique, inverse = np.unique(np.concatenate([k for k, _ in parts]), return_inverse=True)
        summed = np.bincount(
            inverse.ravel(), weights=np.concatenate([w for _, w in parts]), minlength=len(unique)
        )
    from_code, to_code = pair_codes(unique, len(like.channels), like.order)
    return type(like)(like.channels, like.order, from_code, to_code, summed, conversions, value_micros)


@dataclass(frozen=True)
class TransitionRows:
    """Every transition of every path before counting: from / to state codes, the path it
    belongs to, and what weighs it: `ending` 0 for a step between states (the path's
    conversions + nulls), 1 for the step into conversion (its conversions), 2 into null (its
    nulls). Counting sums those weights per (from, to) pair; the bootstrap reweights paths."""

    from_code: np.ndarray
    to_code: np.ndarray
    path_of: np.ndarray
    ending: np.ndarray


def count_transitions(
    paths: pl.DataFrame,
    order: int = 1,
    collapse_repeats: bool = False,
    channels: tuple[str, ...] | None = None,
) -> ChainCounts:
    """Count the transitions of aggregated paths (`path` list[str], list[Enum] or list of
    integer codes into `channels`; `conversions`, `nulls`, optional `value`). `channels`
    fixes the channel list (so batches share state codes); by default it is the sorted
    channels of these paths (integer codes need it)."""
    empty, encoded = _encode(paths, order, collapse_repeats, channels)
    if encoded is None:
        return empty
    conversions = paths["conversions"].cast(pl.Float64).fill_null(0).to_numpy()
    nulls = paths["nulls"].cast(pl.Float64).fill_null(0).to_numpy()
    # each kind of step as (pair key, weight): a step into a channel's state, the last
    # state into conversion and into null, start into both for a path without a touch
    # (keys in the state codes' integer type: they fit wherever the codes' pair keys do)
    outcomes = len(empty.channels) + 2
    last_key = (encoded.state[encoded.last_index] + 3) * outcomes
    start_key = np.full(encoded.no_touch.size, (START_CODE + 3) * outcomes, dtype=last_key.dtype)
    # made one at a time as the table takes them (a generator: no two large temporaries live)
    parts = (
        part()
        for part in (
            lambda: (
                (encoded.previous + 3) * outcomes + encoded.channel + 2,
                (conversions + nulls)[encoded.path_of],
            ),
            lambda: (last_key + 1, conversions[encoded.last]),
            lambda: (last_key, nulls[encoded.last]),
            lambda: (start_key + 1, conversions[encoded.no_touch]),
            lambda: (start_key, nulls[encoded.no_touch]),
        )
    )
    size = (int(encoded.state.max(initial=0)) + 4) * outcomes  # above every key
    return _summed(empty, parts, empty.total_conversions, empty.total_value_micros, size)


def transition_rows(
    paths: pl.DataFrame, order: int, collapse_repeats: bool, channels: tuple[str, ...]
) -> TransitionRows:
    """The uncounted transitions of aggregated paths (see TransitionRows)."""
    _, encoded = _encode(paths, order, collapse_repeats, channels)
    if encoded is None:
        nothing = np.zeros(0, np.int64)
        return TransitionRows(nothing, nothing, nothing, nothing)
    return _rows(encoded)


@dataclass(frozen=True)
class _EncodedPaths:
    """Paths as state codes: `state` per kept touch, `channel` its channel (0-based code),
    `previous` the state before it (START at a path's first touch), `path_of` its path;
    `last` the paths with a touch and `last_index` their last touch; `no_touch` the paths
    without one."""

    state: np.ndarray
    channel: np.ndarray
    previous: np.ndarray
    path_of: np.ndarray
    last: np.ndarray
    last_index: np.ndarray
    no_touch: np.ndarray


def _rows(encoded: _EncodedPaths) -> TransitionRows:
    """Every transition as a row (see TransitionRows)."""
    last, no_touch, last_state = encoded.last, encoded.no_touch, encoded.state[encoded.last_index]
    from_code = np.concatenate(
        [encoded.previous, last_state, last_state, np.full(2 * no_touch.size, START_CODE)]
    )
    to_code = np.concatenate(
        [
            encoded.state,
            np.full(last.size, CONVERSION_CODE),
            np.full(last.size, NULL_CODE),
            np.full(no_touch.size, CONVERSION_CODE),
            np.full(no_touch.size, NULL_CODE),
        ]
    )
    path_index = np.concatenate([encoded.path_of, last, last, no_touch, no_touch])
    ending = np.concatenate(
        [
            np.zeros(encoded.path_of.size, np.int64),
            np.ones(last.size, np.int64),
            np.full(last.size, 2, np.int64),
            np.ones(no_touch.size, np.int64),
            np.full(no_touch.size, 2, np.int64),
        ]
    )
    return TransitionRows(from_code.astype(np.int64), to_code.astype(np.int64), path_index, ending)


def _channel_codes(
    paths: pl.DataFrame, channels: tuple[str, ...] | None
) -> tuple[pl.Series, pl.Series, np.ndarray | None, tuple[str, ...]]:
    """(the paths without null channels, their channels flat, the channels' 0-based codes when
    the paths hold codes or an Enum already (else None), the channel list)."""
    missing = {"path", "conversions", "nulls"} - set(paths.columns)
    if missing:
        raise ValueError(f"paths frame lacks column(s) {sorted(missing)}")
    clean = paths["path"]
    flat = clean.explode() if len(paths) else pl.Series(dtype=pl.String)
    if flat.null_count():  # a null channel inside a path is skipped (a copy only then)
        clean = clean.list.drop_nulls()
        flat = flat.drop_nulls()
    codes = None
    if flat.dtype.is_integer():  # codes already: 0-based ranks in `channels`
        if channels is None:
            raise ValueError("paths of integer channel codes need the channels they code")
        codes = flat.to_numpy()
        if codes.size and (codes.min() < 0 or codes.max() >= len(channels)):
            raise ValueError(f"a channel code is outside 0..{len(channels) - 1} (channels {channels})")
    elif isinstance(flat.dtype, pl.Enum):  # categories' physical codes, remapped to `channels`
        categories = flat.dtype.categories.to_list()
        physical = flat.to_physical().to_numpy()
        if channels is None:
            used = np.flatnonzero(np.bincount(physical, minlength=len(categories)))
            channels = tuple(sorted(categories[i] for i in used))
        rank = {channel: i for i, channel in enumerate(channels)}
        remap = np.array([rank.get(c, -1) for c in categories], dtype=np.int64)
        codes = remap[physical] if physical.size else physical.astype(np.int64)
        if codes.size and codes.min() < 0:
            raise ValueError(f"a path holds a channel outside {channels}")
    elif channels is None:
        channels = tuple(sorted(flat.unique().to_list()))
    return clean, flat, codes, channels


def _states(
    codes: np.ndarray, lengths: np.ndarray, order: int, base: int, collapse_repeats: bool
) -> _EncodedPaths:
    """The order-k state of every touch (its last k channels as base-(channels + 1) digits,
    newest lowest), the state before it and where each path starts and ends."""
    dtype = codes.dtype
    path_of = np.repeat(np.arange(lengths.size, dtype=dtype), lengths)
    if collapse_repeats and codes.size:
        repeat = np.zeros(codes.size, dtype=bool)
        repeat[1:] = (path_of[1:] == path_of[:-1]) & (codes[1:] == codes[:-1])
        codes, path_of = codes[~repeat], path_of[~repeat]
        lengths = np.bincount(path_of, minlength=lengths.size).astype(dtype)
    offsets = np.zeros(lengths.size, dtype=dtype)
    np.cumsum(lengths[:-1], out=offsets[1:])
    last = np.flatnonzero(lengths > 0)
    if order == 1:
        state = codes + 1
    else:
        position = np.arange(codes.size, dtype=dtype) - offsets[path_of]
        state = np.zeros(codes.size, dtype=dtype)
        for lag in range(order):
            lagged = np.zeros(codes.size, dtype=dtype)
            if lag < codes.size:
                lagged[lag:] = codes[: codes.size - lag] + 1
            lagged[position < lag] = 0
            state += lagged * base**lag
    previous = np.empty_like(state)
    previous[1:] = state[:-1]
    previous[offsets[last]] = START_CODE
    return _EncodedPaths(
        state=state,
        channel=codes,
        previous=previous,
        path_of=path_of,
        last=last,
        last_index=offsets[last] + lengths[last] - 1,
        no_touch=np.flatnonzero(lengths == 0),
    )


def _encode(
    paths: pl.DataFrame, order: int, collapse_repeats: bool, channels: tuple[str, ...] | None
) -> tuple[ChainCounts, _EncodedPaths | None]:
    """The empty counts of these paths (channels, totals) and their state codes (None
    without paths)."""
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"markov order must be in 1..{MAX_ORDER}, got {order}")
    clean, flat, codes, channels = _channel_codes(paths, channels)
    value_micros = (
        int((paths["value"].fill_null(0.0) * 1e6).round().cast(pl.Int64).sum())
        if "value" in paths.columns and len(paths)
        else 0
    )
    conversions = paths["conversions"].cast(pl.Float64).fill_null(0).to_numpy()
    nothing = np.zeros(0, np.int64)
    empty = ChainCounts(
        channels, order, nothing, nothing, np.zeros(0), float(conversions.sum()), value_micros
    )
    if not len(paths):
        return empty, None
    base = len(channels) + 1
    # the narrowest integer every state code (and its pair key) fits in
    dtype: Any = np.int32 if (base**order + 4) ** 2 < 2**31 else np.int64
    lengths = clean.list.len().fill_null(0).to_numpy().astype(dtype)
    if codes is None:
        codes = flat.cast(pl.Enum(list(channels))).to_physical().to_numpy()
    return empty, _states(codes.astype(dtype), lengths, order, base, collapse_repeats)


def state_digits(codes: np.ndarray, base: int, order: int) -> np.ndarray:
    """Channel digits (1-based; 0 = none) of transient states, one column per lag."""
    return np.stack([(codes // base**lag) % base for lag in range(order)], axis=1)


def state_label(code: int, channels: tuple[str, ...], base: int, order: int) -> str:
    """The display label of a state: its channels, oldest first, joined by ' > '."""
    special = {START_CODE: START, CONVERSION_CODE: CONVERSION, NULL_CODE: NULL}
    if code in special:
        return special[code]
    digits = [int(d) for d in state_digits(np.array([code]), base, order)[0] if d]
    return STATE_SEPARATOR.join(channels[d - 1] for d in reversed(digits))
