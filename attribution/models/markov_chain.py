"""The Markov chain over aggregated paths (DESIGN §3): solve the absorbing chain exactly,
removal effects. The format other tools use; `markov_attribution` is its API. The paths'
integer states and their counted transitions are attribution.models.markov_paths.

P(conversion) comes from solving (I - Q) x = r over the transient states, not from
simulation. Value semantics of this API: attributed_value = share x total value
(ChannelAttribution instead splits value by the last channel before conversion).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.linalg import bicgstab, spsolve

from attribution.models.markov_paths import (
    CONVERSION,
    CONVERSION_CODE,
    NULL,
    NULL_CODE,
    START,
    START_CODE,
    ChainCounts,
    TransitionRows,
    count_transitions,
    pair_codes,
    pair_keys,
    state_digits,
    state_label,
    transition_rows,
)

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

# above this many transient states a Krylov solve beats sparse LU (fill-in cost 60 s at order 4)
DIRECT_SOLVE_MAX_STATES = 1_500
KRYLOV_TOLERANCE = 1e-13
KRYLOV_ACCEPTED_RESIDUAL = 1e-11

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
    labels = {int(c): state_label(int(c), channels, base, order) for c in codes}
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
    digits = state_digits(np.maximum(transient, 0), base, order)
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
    digits = state_digits(np.maximum(transient, 0), n_channels + 1, order)
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
        labels.setdefault(int(code), state_label(int(code), channels, base, order))
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
