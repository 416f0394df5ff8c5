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

import numpy as np
import polars as pl
from scipy.stats import rankdata

from attribution.models.markov_chain import (
    CONVERSION_CODE,
    MAX_ORDER,
    NULL_CODE,
    count_transitions,
    transition_rows,
)

__all__ = ["ORDER_SELECTION_SCHEMA", "RECOMMENDATION_TOLERANCE", "auc", "select_order"]

RECOMMENDATION_TOLERANCE = 0.001
_SHIFT = 3  # special state codes are -1..-3

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
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _keys(from_code: np.ndarray, to_code: np.ndarray, base: int) -> np.ndarray:
    keys: np.ndarray = (from_code + _SHIFT) * base + (to_code + _SHIFT)
    return keys


def _score_order(
    training: pl.DataFrame,
    holdout: pl.DataFrame,
    order: int,
    collapse_repeats: bool,
    channels: tuple[str, ...],
) -> tuple[float, float, float, int]:
    """(mean held-out log-likelihood per path, per step, held-out AUC, training states)."""
    counts = count_transitions(training, order, collapse_repeats, channels)
    base = (len(channels) + 1) ** order + _SHIFT + 1
    keys = _keys(counts.from_code, counts.to_code, base)
    sorter = np.argsort(keys)
    keys, pair_counts = keys[sorter], counts.count[sorter]
    states, inverse = np.unique(counts.from_code, return_inverse=True)
    out_totals = np.bincount(inverse.ravel(), weights=counts.count)
    outcomes = len(channels) + 2  # next channel, conversion or null

    def lookup(table: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
        found = np.searchsorted(table, at)
        inside = found < table.size
        hit = np.zeros(at.size, dtype=bool)
        hit[inside] = table[found[inside]] == at[inside]
        out = np.zeros(at.size)
        out[hit] = values[found[hit]]
        return out

    rows = transition_rows(holdout, order, collapse_repeats, channels)
    converted = holdout["conversions"].to_numpy() > 0
    # each path's own ending: into conversion for a converted path, into null otherwise
    taken = (
        (rows.ending == 0)
        | ((rows.ending == 1) & converted[rows.path_of])
        | ((rows.ending == 2) & ~converted[rows.path_of])
    )
    from_code, to_code, path_of = rows.from_code[taken], rows.to_code[taken], rows.path_of[taken]
    pair = lookup(keys, pair_counts, _keys(from_code, to_code, base))
    total = lookup(states, out_totals, from_code)
    log_p = np.log((pair + 1.0) / (total + outcomes))
    per_path = np.bincount(path_of, weights=log_p, minlength=len(holdout))
    # the last state of every path: P(conversion) against P(null) from there
    ends = rows.ending == 1
    last_state, last_path = rows.from_code[ends], rows.path_of[ends]
    p_conv = (
        lookup(keys, pair_counts, _keys(last_state, np.full(last_state.size, CONVERSION_CODE), base)) + 1.0
    )
    p_null = lookup(keys, pair_counts, _keys(last_state, np.full(last_state.size, NULL_CODE), base)) + 1.0
    score = np.zeros(len(holdout))
    score[last_path] = p_conv / (p_conv + p_null)
    return (
        float(per_path.mean()) if len(holdout) else float("nan"),
        float(log_p.mean()) if log_p.size else float("nan"),
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
    `channels`; `is_converted`, `is_holdout`); one row per order, the recommended one flagged
    (none when nothing is held out)."""
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
