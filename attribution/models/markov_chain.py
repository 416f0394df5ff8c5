"""The Markov chain over aggregated paths (DESIGN §3): count transitions, solve the absorbing
chain exactly, removal effects. The format other tools use; `markov_attribution` is its API.

States are integers end to end: channel c (0-based in the sorted channel list) has digit
c + 1, and an order-k state is the number whose base-(channels + 1) digits are its last k
channels, newest lowest; the special states have negative codes. Labels (`a > b`) are made
only for the output table and the networkx graph.

P(conversion) comes from solving (I - Q) x = r over the transient states, not from
simulation. Value semantics of this API: attributed_value = share x total value
(ChannelAttribution instead splits value by the last channel before conversion).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.linalg import bicgstab, spsolve

__all__ = [
    "CONVERSION",
    "NULL",
    "START",
    "ChainCounts",
    "MarkovChain",
    "TransitionRows",
    "count_transitions",
    "fit_chain",
    "markov_attribution",
    "pair_codes",
    "pair_keys",
    "removal_effects",
    "replicate_removal_shares",
    "solve_chain",
    "transient_states",
    "transition_rows",
]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
STATE_SEPARATOR = " > "
START_CODE, CONVERSION_CODE, NULL_CODE = -1, -2, -3
MAX_ORDER = 4
# above this many transient states a Krylov solve beats sparse LU (fill-in cost 60 s at order 4)
DIRECT_SOLVE_MAX_STATES = 1_500
KRYLOV_TOLERANCE = 1e-13
KRYLOV_ACCEPTED_RESIDUAL = 1e-11
# a table over every possible (state, next step) pair is faster than sorting below this size
DENSE_PAIR_LIMIT = 4_000_000

RESULT_SCHEMA = {
    "channel": pl.String,
    "removal_effect": pl.Float64,
    "share": pl.Float64,
    "attributed_conversions": pl.Float64,
    "attributed_value": pl.Float64,
}
TRANSITION_SCHEMA = {
    "from_state": pl.String,
    "to_state": pl.String,
    "transition_count": pl.Float64,
    "probability": pl.Float64,
}


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


def _encode(
    paths: pl.DataFrame, order: int, collapse_repeats: bool, channels: tuple[str, ...] | None
) -> tuple[ChainCounts, _EncodedPaths | None]:
    """The empty counts of these paths (channels, totals) and their state codes (None
    without paths)."""
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"markov order must be in 1..{MAX_ORDER}, got {order}")
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
    value_micros = (
        int((paths["value"].fill_null(0.0) * 1e6).round().cast(pl.Int64).sum())
        if "value" in paths.columns and len(paths)
        else 0
    )
    conversions = paths["conversions"].cast(pl.Float64).fill_null(0).to_numpy()
    empty = ChainCounts(
        channels,
        order,
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0),
        float(conversions.sum()),
        value_micros,
    )
    if not len(paths):
        return empty, None
    base = len(channels) + 1
    # the narrowest integer every state code (and its pair key) fits in
    dtype: Any = np.int32 if (base**order + 4) ** 2 < 2**31 else np.int64
    lengths = clean.list.len().fill_null(0).to_numpy().astype(dtype)
    if codes is None:
        codes = flat.cast(pl.Enum(list(channels))).to_physical().to_numpy()
    codes = codes.astype(dtype)
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
    encoded = _EncodedPaths(
        state=state,
        channel=codes,
        previous=previous,
        path_of=path_of,
        last=last,
        last_index=offsets[last] + lengths[last] - 1,
        no_touch=np.flatnonzero(lengths == 0),
    )
    return empty, encoded


def _digits(codes: np.ndarray, base: int, order: int) -> np.ndarray:
    """Channel digits (1-based; 0 = none) of transient states, one column per lag."""
    return np.stack([(codes // base**lag) % base for lag in range(order)], axis=1)


def _label(code: int, channels: tuple[str, ...], base: int, order: int) -> str:
    """The display label of a state: its channels, oldest first, joined by ' > '."""
    special = {START_CODE: START, CONVERSION_CODE: CONVERSION, NULL_CODE: NULL}
    if code in special:
        return special[code]
    digits = [int(d) for d in _digits(np.array([code]), base, order)[0] if d]
    return STATE_SEPARATOR.join(channels[d - 1] for d in reversed(digits))


def _p_conversion(q: sp.csr_array, r: np.ndarray, keep: np.ndarray) -> float:
    """P(conversion) from the start state (index 0) when only the `keep` states remain.

    Solves (I - Q) x = r: a direct sparse LU for small chains; for large ones BiCGSTAB to a
    relative residual of KRYLOV_TOLERANCE, falling back to LU if it does not converge.
    """
    index = np.flatnonzero(keep)
    if index.size == 0 or index[0] != 0:
        return 0.0
    system = (sp.identity(index.size, format="csr") - q[index][:, index]).tocsr()
    rhs = r[index]
    if index.size > DIRECT_SOLVE_MAX_STATES:
        solution, info = bicgstab(system, rhs, rtol=KRYLOV_TOLERANCE, atol=0.0, maxiter=10_000)
        residual = float(np.linalg.norm(system @ solution - rhs)) if info == 0 else np.inf
        if residual <= KRYLOV_ACCEPTED_RESIDUAL * max(float(np.linalg.norm(rhs)), 1e-300):
            return float(solution[0])
    return float(np.atleast_1d(spsolve(system.tocsc(), rhs))[0])


@dataclass(frozen=True)
class MarkovChain:
    """A solved chain: the networkx graph (edge attributes `count`, `probability`),
    P(conversion), per-channel removal effects and the transition table."""

    graph: nx.DiGraph
    p_conversion: float
    removal_effects: pl.DataFrame
    transitions: pl.DataFrame
    total_conversions: float
    total_value: float


def transient_states(counts: ChainCounts) -> tuple[np.ndarray, dict[int, str]]:
    """The transient states of the counted chain, (start) first then in label order (the same
    matrix whatever the codes), and the labels of every state seen."""
    channels, base, order = counts.channels, len(counts.channels) + 1, counts.order
    codes = np.unique(np.concatenate([[START_CODE], counts.from_code[counts.from_code >= 0]]))
    labels = {int(c): _label(int(c), channels, base, order) for c in codes}
    transient = np.array(
        [START_CODE, *sorted((int(c) for c in codes if c >= 0), key=labels.__getitem__)],
        dtype=np.int64,
    )
    return transient, labels


def removal_effects(
    transient: np.ndarray,
    from_code: np.ndarray,
    to_code: np.ndarray,
    count: np.ndarray,
    n_channels: int,
    order: int,
) -> tuple[float, np.ndarray, np.ndarray]:
    """P(conversion), the removal effect of each channel and each counted transition's
    probability, for counts over these transient states (a bootstrap replicate reweights
    `count` and calls this again)."""
    base = n_channels + 1
    sorter = np.argsort(transient, kind="stable")

    def position_of(code: np.ndarray) -> np.ndarray:
        found: np.ndarray = sorter[np.searchsorted(transient, code, sorter=sorter)]
        return found

    out_total = np.zeros(transient.size)
    row = position_of(from_code)
    np.add.at(out_total, row, count)
    probability = count / np.where(out_total[row] > 0, out_total[row], 1.0)
    removal = np.zeros(n_channels)
    if count.size == 0 or not (count[to_code == CONVERSION_CODE] > 0).any():
        return 0.0, removal, probability
    into = to_code >= 0
    q = sp.csr_array(
        (probability[into], (row[into], position_of(to_code[into]))),
        shape=(transient.size, transient.size),
    )
    r = np.zeros(transient.size)
    np.add.at(r, row[to_code == CONVERSION_CODE], probability[to_code == CONVERSION_CODE])
    p_conversion = _p_conversion(q, r, np.ones(transient.size, dtype=bool))
    digits = _digits(np.maximum(transient, 0), base, order)
    digits[transient < 0] = 0
    for index in range(n_channels):
        keep = ~(digits == index + 1).any(axis=1)
        p_without = _p_conversion(q, r, keep)
        removal[index] = max(1.0 - p_without / p_conversion, 0.0) if p_conversion > 0 else 0.0
    return p_conversion, removal, probability


# the bootstrap solves chains up to this many transient states densely
DENSE_REPLICATE_MAX_STATES = 400


def replicate_removal_shares(
    transient: np.ndarray,
    from_code: np.ndarray,
    to_code: np.ndarray,
    counts: np.ndarray,
    n_channels: int,
    order: int,
) -> np.ndarray:
    """Removal-effect shares (channels x replicates) of the chain for each column of `counts`
    (transitions x replicates): the same solve as `removal_effects`, dense for small chains,
    with the state positions found once for all replicates."""
    replicates = counts.shape[1]
    shares = np.zeros((n_channels, replicates))
    if transient.size > DENSE_REPLICATE_MAX_STATES:
        for b in range(replicates):
            _, removal, _ = removal_effects(transient, from_code, to_code, counts[:, b], n_channels, order)
            total = removal.sum()
            shares[:, b] = removal / total if total > 0 else 0.0
        return shares
    sorter = np.argsort(transient, kind="stable")
    row = sorter[np.searchsorted(transient, from_code, sorter=sorter)]
    into = to_code >= 0
    column = sorter[np.searchsorted(transient, to_code[into], sorter=sorter)]
    converts = to_code == CONVERSION_CODE
    digits = _digits(np.maximum(transient, 0), n_channels + 1, order)
    digits[transient < 0] = 0
    keeps = [np.flatnonzero(~(digits == index + 1).any(axis=1)) for index in range(n_channels)]
    size = transient.size
    for b in range(replicates):
        count = counts[:, b]
        out_total = np.bincount(row, weights=count, minlength=size)
        probability = count / np.where(out_total[row] > 0, out_total[row], 1.0)
        if not (count[converts] > 0).any():
            continue
        system = np.eye(size)
        np.add.at(system, (row[into], column), -probability[into])
        r = np.bincount(row[converts], weights=probability[converts], minlength=size)
        p_conversion = float(np.linalg.solve(system, r)[0])
        if p_conversion <= 0:
            continue
        removal = np.zeros(n_channels)
        for index, keep in enumerate(keeps):
            p_without = float(np.linalg.solve(system[np.ix_(keep, keep)], r[keep])[0]) if keep.size else 0.0
            removal[index] = max(1.0 - p_without / p_conversion, 0.0)
        total = removal.sum()
        shares[:, b] = removal / total if total > 0 else 0.0
    return shares


def solve_chain(counts: ChainCounts) -> MarkovChain:
    """Probabilities, P(conversion) and removal effects RE_c = 1 - P_c / P from counts."""
    channels, base, order = counts.channels, len(counts.channels) + 1, counts.order
    transient, labels = transient_states(counts)
    p_conversion, removal, probability = removal_effects(
        transient, counts.from_code, counts.to_code, counts.count, len(channels), order
    )
    labels.update({CONVERSION_CODE: CONVERSION, NULL_CODE: NULL})
    for code in np.unique(counts.to_code[counts.to_code >= 0]):
        labels.setdefault(int(code), _label(int(code), channels, base, order))
    transitions = pl.DataFrame(
        {
            "from_state": [labels[int(c)] for c in counts.from_code],
            "to_state": [labels[int(c)] for c in counts.to_code],
            "transition_count": counts.count,
            "probability": probability,
        },
        schema=TRANSITION_SCHEMA,
    ).sort("from_state", "to_state")
    graph = nx.DiGraph()
    graph.add_node(START)
    graph.add_edges_from((u, v, {"count": c, "probability": p}) for u, v, c, p in transitions.iter_rows())
    if counts.count.size == 0 or counts.total_conversions <= 0:
        effects = pl.DataFrame(
            {name: [0.0] * len(channels) if name != "channel" else list(channels) for name in RESULT_SCHEMA},
            schema=RESULT_SCHEMA,
        )
        return MarkovChain(graph, 0.0, effects, transitions, counts.total_conversions, counts.total_value)
    total_effect = removal.sum()
    share = removal / total_effect if total_effect > 0 else np.zeros_like(removal)
    effects = pl.DataFrame(
        {
            "channel": list(channels),
            "removal_effect": removal,
            "share": share,
            "attributed_conversions": share * counts.total_conversions,
            "attributed_value": share * counts.total_value,
        },
        schema=RESULT_SCHEMA,
    )
    return MarkovChain(
        graph, p_conversion, effects, transitions, counts.total_conversions, counts.total_value
    )


def fit_chain(paths: pl.DataFrame, order: int = 1, collapse_repeats: bool = False) -> MarkovChain:
    """Count and solve the chain of aggregated paths (`path`, `conversions`, `nulls`, `value`)."""
    return solve_chain(count_transitions(paths, order, collapse_repeats))


def markov_attribution(paths: pl.DataFrame, order: int = 1, collapse_repeats: bool = False) -> pl.DataFrame:
    """Aggregated paths in (`path` list[str], `conversions`, `nulls`, `value`); one row per
    channel out (`channel`, `removal_effect`, `share`, `attributed_conversions`,
    `attributed_value`); shares sum to 1 unless nothing converts."""
    return fit_chain(paths, order, collapse_repeats).removal_effects
