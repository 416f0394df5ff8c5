"""Which Markov order fits: orders 1-4 fitted on four fifths of the accounts, scored on the
held-out fifth (like ChannelAttribution's `choose_order`), so a user can see whether a
higher order predicts paths better or only memorizes them. It never changes the configured
order; it recommends one.

Scores per order on the held-out paths: the mean log-likelihood of a path under the chain
(every transition, then conversion or null), with add-one (Laplace) smoothing over a state's
possible next steps (each channel, conversion, null) so an unseen step is unlikely, not
impossible; and the AUC of conversion, each path scored by the chain's probability of
converting from its last state against ending there. The recommended order is the one with
the best held-out log-likelihood, the lowest order among those within 0.1% of it.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from attribution.models.markov_paths import (
    DENSE_PAIR_LIMIT,
    MAX_ORDER,
    count_transitions,
    pair_keys,
    transition_rows,
)

__all__ = ["ORDER_SELECTION_SCHEMA", "RECOMMENDATION_TOLERANCE", "auc", "select_order"]

RECOMMENDATION_TOLERANCE = 0.001

ORDER_SELECTION_SCHEMA = {
    "journey_kind": pl.String,
    "markov_order": pl.Int64,
    "training_paths": pl.Int64,
    "holdout_paths": pl.Int64,
    "training_states": pl.Int64,
    "holdout_log_likelihood": pl.Float64,
    "holdout_log_likelihood_per_step": pl.Float64,
    "holdout_auc": pl.Float64,
    "is_recommended": pl.Boolean,
    "is_configured": pl.Boolean,
}


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN without both classes."""
    n_pos = int(positive.sum())
    n_neg = int(positive.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # the scores' average ranks (1-based, tied scores share their mean rank): what
    # scipy.stats.rankdata gives, without importing scipy.stats (0.5 s at the first call)
    _, tie_group, tie_size = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(tie_size) - (tie_size - 1) / 2.0)[tie_group]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _lookup(keys: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] == at (keys sorted and distinct), 0 where `at` is not a key:
    a table over the key space when it is small, a binary search otherwise."""
    out = np.zeros(at.size)
    if not keys.size:
        return out
    if int(keys[-1]) < DENSE_PAIR_LIMIT:
        table = np.zeros(int(keys[-1]) + 1)
        table[keys] = values
        inside = (at >= 0) & (at <= keys[-1])
        out[inside] = table[at[inside]]
        return out
    found = np.minimum(np.searchsorted(keys, at), keys.size - 1)
    hit = keys[found] == at
    out[hit] = values[found[hit]]
    return out


def _score_order(
    training: pl.DataFrame,
    holdout: pl.DataFrame,
    order: int,
    collapse_repeats: bool,
    channels: tuple[str, ...],
) -> tuple[float, float, float, int]:
    """(mean held-out log-likelihood per path, per step, held-out AUC, training states)."""
    counts = count_transitions(training, order, collapse_repeats, channels)
    n_channels = len(channels)
    outcomes = n_channels + 2  # next channel, conversion or null
    # counts come in (from, to) order: their pair keys and from-states are sorted already
    keys = pair_keys(counts.from_code, counts.to_code, n_channels)
    state_keys = keys // outcomes
    first = np.flatnonzero(np.diff(state_keys, prepend=-1))
    states = state_keys[first]
    out_totals = np.add.reduceat(counts.count, first) if first.size else np.zeros(0)

    rows = transition_rows(holdout, order, collapse_repeats, channels)
    converted = holdout["conversions"].to_numpy() > 0
    # each path's own ending: into conversion for a converted path, into null otherwise
    taken = (
        (rows.ending == 0)
        | ((rows.ending == 1) & converted[rows.path_of])
        | ((rows.ending == 2) & ~converted[rows.path_of])
    )
    from_code, to_code, path_of = rows.from_code[taken], rows.to_code[taken], rows.path_of[taken]
    pair = _lookup(keys, counts.count, pair_keys(from_code, to_code, n_channels))
    total = _lookup(states, out_totals, from_code + 3)
    log_p = np.log((pair + 1.0) / (total + outcomes))
    per_path = np.bincount(path_of, weights=log_p, minlength=len(holdout))
    # the last state of every path: P(conversion) against P(null) from there
    ends = rows.ending == 1
    last_key, last_path = (rows.from_code[ends] + 3) * outcomes, rows.path_of[ends]
    p_conv = _lookup(keys, counts.count, last_key + 1) + 1.0
    p_null = _lookup(keys, counts.count, last_key) + 1.0
    score = np.zeros(len(holdout))
    score[last_path] = p_conv / (p_conv + p_null)
    # one exactly rounded sum of the paths' log-likelihoods (each summed in its own step
    # order): the means do not depend on the order the paths come in
    log_likelihood = math.fsum(per_path)
    return (
        log_likelihood / per_path.size if len(holdout) else float("nan"),
        log_likelihood / log_p.size if log_p.size else float("nan"),
        auc(score, converted),
        int(states.size),
    )


def select_order(
    paths: pl.DataFrame,
    journey_kind: str,
    configured_order: int,
    collapse_repeats: bool = False,
    channels: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """Score orders 1..MAX_ORDER on `paths` (`path` list[str], or integer codes into
    `channels`; `is_converted`, `is_holdout`; in any order: the scores do not depend on it);
    one row per order, the recommended one flagged (none when nothing is held out)."""
    frame = paths.select(
        "path",
        conversions=pl.col("is_converted").cast(pl.Int64),
        nulls=(~pl.col("is_converted")).cast(pl.Int64),
        is_holdout="is_holdout",
    )
    training = frame.filter(~pl.col("is_holdout"))
    holdout = frame.filter(pl.col("is_holdout"))
    if channels is None:
        channels = tuple(sorted(frame["path"].explode().drop_nulls().unique().to_list()))
    rows = []
    for order in range(1, MAX_ORDER + 1):
        if training.is_empty() or holdout.is_empty() or not channels:
            score = (float("nan"), float("nan"), float("nan"), 0)
        else:
            score = _score_order(training, holdout, order, collapse_repeats, channels)
        rows.append(
            (journey_kind, order, len(training), len(holdout), score[3], score[0], score[1], score[2])
        )
    likelihoods = np.array([r[5] for r in rows])
    recommended = None
    if np.isfinite(likelihoods).any():
        best = np.nanmax(likelihoods)
        within = [
            r[1] for r in rows if np.isfinite(r[5]) and r[5] >= best - RECOMMENDATION_TOLERANCE * abs(best)
        ]
        recommended = min(within)
    return pl.DataFrame(
        [(*r, r[1] == recommended, r[1] == configured_order) for r in rows],
        schema=ORDER_SELECTION_SCHEMA,
        orient="row",
    )
