"""Markov-chain attribution (DESIGN §3): exact absorbing-chain solution, order k, two entry points.

1. Aggregated paths (the format other tools use): `markov_attribution(paths)`.
2. Journeys: `markov_fit(inputs, config)` gives per-touch credits whose channel totals are the
   canonical Markov totals wherever reachable (Sinkhorn fit), plus removal effects and the
   transition table; `markov_model` is the registry's function over it.

P(conversion) comes from solving (I - Q) x = r over the transient states, not from simulation.
Value semantics: the journey fit reconciles conversions to the canonical Markov answer and
value follows each journey's own amount (ChannelAttribution instead splits value by the last
channel before conversion; the aggregated-paths API gives share x total value).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.linalg import bicgstab, spsolve

from attribution.config import AttributionConfig
from attribution.models.base import JOURNEY_KEY, ModelInput, credits_frame

__all__ = [
    "CONVERSION",
    "NULL",
    "START",
    "MarkovChain",
    "MarkovFit",
    "ChainCounts",
    "MarkovPartial",
    "MarkovSolution",
    "build_chain",
    "count_chain",
    "markov_credits",
    "markov_partial",
    "solve_chain",
    "solve_markov",
    "markov_model",
    "markov_attribution",
    "markov_fit",
]

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
STATE_SEPARATOR = " > "
DIRECT_SOLVE_MAX_STATES = 1_500
_DENSE_LIMIT = 4_000_000
SINKHORN_TOLERANCE = 1e-10
SINKHORN_MAX_ITERATIONS = 10_000

_RESULT_SCHEMA = {
    "channel": pl.String,
    "removal_effect": pl.Float64,
    "share": pl.Float64,
    "attributed_conversions": pl.Float64,
    "attributed_value": pl.Float64,
}
_COUNT_SCHEMA = {
    "from_state": pl.String,
    "to_state": pl.String,
    "transition_count": pl.Float64,
}
# markov_removal_effects: one row per (journey_kind, channel)
REMOVAL_EFFECTS_SCHEMA = {
    "journey_kind": pl.String,
    "channel": pl.String,
    "removal_effect": pl.Float64,
    "share": pl.Float64,
    "canonical_conversions": pl.Float64,
    "fitted_conversions": pl.Float64,
    "conversion_gap": pl.Float64,
    "canonical_value": pl.Float64,
    "fitted_value": pl.Float64,
    "p_conversion": pl.Float64,
    "markov_order": pl.Int64,
    "converting_paths": pl.Float64,
}
_TRANSITION_SCHEMA = {
    "from_state": pl.String,
    "to_state": pl.String,
    "transition_count": pl.Float64,
    "probability": pl.Float64,
}


@dataclass(frozen=True)
class MarkovChain:
    """A fitted chain: the graph (edge attrs `count`, `probability`), P(conversion), results."""

    graph: nx.DiGraph
    p_conversion: float
    removal_effects: pl.DataFrame
    transitions: pl.DataFrame
    total_conversions: float
    total_value: float


def _transition_counts(paths: pl.DataFrame, order: int, collapse_repeats: bool) -> pl.DataFrame:
    """Counted transitions (from_state, to_state, transition_count, probability) over all paths.

    Vectorized with numpy: channels become dense integer codes, an order-k state is the
    integer of its last k codes in base (channels + 1), and transitions are counted with
    one `np.unique` over (from, to) pairs.
    """
    lengths = paths["path"].list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = paths["path"].explode()
    if flat.null_count() != int((lengths == 0).sum()):  # nulls inside paths: drop them
        clean = paths["path"].list.drop_nulls()
        lengths = clean.list.len().fill_null(0).to_numpy().astype(np.int64)
        flat = clean.explode()
    flat = flat.drop_nulls()
    channels = flat.unique().sort().to_list()
    codes = flat.cast(pl.Enum(channels)).to_physical().to_numpy().astype(np.int64)
    path_of = np.repeat(np.arange(lengths.size), lengths)
    if collapse_repeats and codes.size:
        repeat = np.zeros(codes.size, dtype=bool)
        repeat[1:] = (path_of[1:] == path_of[:-1]) & (codes[1:] == codes[:-1])
        codes, path_of = codes[~repeat], path_of[~repeat]
        lengths = np.bincount(path_of, minlength=lengths.size).astype(np.int64)
    conversions = paths["conversions"].cast(pl.Float64).fill_null(0).to_numpy()
    nulls = paths["nulls"].cast(pl.Float64).fill_null(0).to_numpy()
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position = np.arange(codes.size) - offsets[path_of]
    base = len(channels) + 1
    state = np.zeros(codes.size, dtype=np.int64)
    for lag in range(order):
        lagged = np.zeros(codes.size, dtype=np.int64)
        if lag < codes.size:
            lagged[lag:] = codes[: codes.size - lag] + 1
        lagged[position < lag] = 0
        state += lagged * base**lag
    start_code, conversion_code, null_code = -1, -2, -3
    previous = np.empty_like(state)
    previous[1:] = state[:-1]
    previous[position == 0] = start_code
    last = np.flatnonzero(lengths > 0)
    last_index = offsets[last] + lengths[last] - 1
    empty = np.flatnonzero(lengths == 0)
    from_code = np.concatenate(
        [previous, state[last_index], state[last_index], np.full(2 * empty.size, start_code)]
    )
    to_code = np.concatenate(
        [
            state,
            np.full(last.size, conversion_code),
            np.full(last.size, null_code),
            np.full(empty.size, conversion_code),
            np.full(empty.size, null_code),
        ]
    )
    weight = np.concatenate(
        [
            (conversions + nulls)[path_of],
            conversions[last],
            nulls[last],
            conversions[empty],
            nulls[empty],
        ]
    )
    keep = weight > 0
    from_code, to_code, weight = from_code[keep], to_code[keep], weight[keep]
    if weight.size == 0:
        return pl.DataFrame(schema=_COUNT_SCHEMA)
    shifted = np.concatenate([from_code, to_code]) + 3  # specials -3..-1 become 0..2
    if base**order + 3 <= _DENSE_LIMIT:  # few possible states: a lookup table beats sorting
        present = np.bincount(shifted, minlength=base**order + 3) > 0
        states = np.flatnonzero(present) - 3
        dense = np.cumsum(present) - 1
        inverse = dense[shifted]
    else:
        states, inverse = np.unique(shifted - 3, return_inverse=True)
    from_id, to_id = inverse[: from_code.size], inverse[from_code.size :]
    pair_key = from_id * states.size + to_id
    if states.size**2 <= _DENSE_LIMIT:
        dense_counts = np.bincount(pair_key, weights=weight, minlength=states.size**2)
        pairs = np.flatnonzero(np.bincount(pair_key, minlength=states.size**2))
        counts = dense_counts[pairs]
    else:
        pairs, pair_inverse = np.unique(pair_key, return_inverse=True)
        counts = np.bincount(pair_inverse, weights=weight)
    labels = [_state_label(int(code), channels, base, order) for code in states]
    label_series = pl.Series(labels, dtype=pl.String)
    return pl.DataFrame(
        {
            "from_state": label_series.gather(pairs // states.size),
            "to_state": label_series.gather(pairs % states.size),
            "transition_count": counts,
        }
    )


def _state_label(code: int, channels: list[str], base: int, order: int) -> str:
    """The display label of an integer state: its channels, oldest first, joined by ' > '."""
    special = {-1: START, -2: CONVERSION, -3: NULL}
    if code in special:
        return special[code]
    digits = []
    for _ in range(order):
        code, digit = divmod(code, base)
        if digit:
            digits.append(channels[digit - 1])
    return STATE_SEPARATOR.join(reversed(digits))


def _solve(q: sp.csr_array, r: np.ndarray, keep: np.ndarray, start: int) -> float:
    """P(conversion) from `start` when only the `keep` states remain (others lead to null).

    Solves (I - Q) x = r: a direct sparse LU for small chains; for large ones (order >= 3
    has thousands of states, where LU fill-in costs seconds) BiCGSTAB to a relative
    residual of 1e-13, falling back to LU if it does not converge.
    """
    index = np.flatnonzero(keep)
    if index.size == 0:
        return 0.0
    sub = q[index][:, index]
    system = (sp.identity(index.size, format="csr") - sub).tocsr()
    rhs = r[index]
    position = int(np.searchsorted(index, start))
    if index.size > DIRECT_SOLVE_MAX_STATES:
        solution, info = bicgstab(system, rhs, rtol=1e-13, atol=0.0, maxiter=10_000)
        residual = np.linalg.norm(system @ solution - rhs) if info == 0 else np.inf
        if residual <= 1e-11 * max(np.linalg.norm(rhs), 1e-300):
            return float(solution[position])
    solution = np.atleast_1d(spsolve(system.tocsc(), rhs))
    return float(solution[position])


@dataclass(frozen=True)
class ChainCounts:
    """What a chain is fitted from; counts from several batches of paths add up."""

    transitions: pl.DataFrame  # from_state, to_state, transition_count
    channels: tuple[str, ...]
    total_conversions: float
    total_value_micros: int  # value in millionths: integer sums are exact in any order

    @property
    def total_value(self) -> float:
        return self.total_value_micros / 1e6

    @staticmethod
    def combine(parts: list[ChainCounts]) -> ChainCounts:
        """The counts of all parts together (sums are of whole numbers: exact)."""
        transitions = pl.concat([p.transitions for p in parts]) if parts else pl.DataFrame(schema=_COUNT_SCHEMA)
        return ChainCounts(
            transitions=transitions.group_by("from_state", "to_state").agg(pl.col("transition_count").sum()),
            channels=tuple(sorted({c for p in parts for c in p.channels})),
            total_conversions=float(sum(p.total_conversions for p in parts)),
            total_value_micros=sum(p.total_value_micros for p in parts),
        )


def count_chain(paths: pl.DataFrame, order: int = 1, collapse_repeats: bool = False) -> ChainCounts:
    """Count the transitions of aggregated paths (`path` list[str], `conversions`, `nulls`,
    optional `value`)."""
    if not 1 <= order <= 4:
        raise ValueError(f"markov order must be in 1..4, got {order}")
    missing = {"path", "conversions", "nulls"} - set(paths.columns)
    if missing:
        raise ValueError(f"paths frame lacks column(s) {sorted(missing)}")
    value_micros = (
        int((paths["value"].fill_null(0.0) * 1e6).round().cast(pl.Int64).sum())
        if "value" in paths.columns and len(paths)
        else 0
    )
    transitions = (
        _transition_counts(paths, order, collapse_repeats)
        if len(paths)
        else pl.DataFrame(schema=_COUNT_SCHEMA)
    )
    channels = paths["path"].explode().drop_nulls().unique().to_list() if len(paths) else []
    return ChainCounts(
        transitions=transitions,
        channels=tuple(sorted(channels)),
        total_conversions=float(paths["conversions"].sum()) if len(paths) else 0.0,
        total_value_micros=value_micros,
    )


def solve_chain(counts: ChainCounts) -> MarkovChain:
    """Probabilities, the networkx graph, P(conversion) and removal effects from counts."""
    transitions = (
        counts.transitions.filter(pl.col("transition_count") > 0)
        .with_columns(
            probability=pl.col("transition_count")
            / pl.col("transition_count").sum().over("from_state")
        )
        .sort("from_state", "to_state")
    ) if len(counts.transitions) else pl.DataFrame(schema=_TRANSITION_SCHEMA)
    total_conversions, total_value = counts.total_conversions, counts.total_value
    graph = nx.DiGraph()
    graph.add_node(START)
    graph.add_edges_from(
        (u, v, {"count": c, "probability": p})
        for u, v, c, p in transitions.select(
            "from_state", "to_state", "transition_count", "probability"
        ).iter_rows()
    )
    channels = list(counts.channels)
    if len(transitions) == 0 or total_conversions <= 0:
        effects = pl.DataFrame(
            {
                "channel": channels,
                "removal_effect": [0.0] * len(channels),
                "share": [0.0] * len(channels),
                "attributed_conversions": [0.0] * len(channels),
                "attributed_value": [0.0] * len(channels),
            },
            schema=_RESULT_SCHEMA,
        )
        return MarkovChain(graph, 0.0, effects, transitions, total_conversions, total_value)

    transient = [START] + sorted(n for n in graph.nodes if n not in (START, CONVERSION, NULL))
    nodelist = transient + [CONVERSION, NULL]
    for absorbing in (CONVERSION, NULL):
        graph.add_node(absorbing)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=nodelist, weight="probability", format="csr")
    n = len(transient)
    q = matrix[:n, :n]
    r = matrix[:n, [n]].toarray().ravel()
    keep_all = np.ones(n, dtype=bool)
    p_conversion = _solve(q, r, keep_all, 0)
    members = [set(s.split(STATE_SEPARATOR)) if s != START else set() for s in transient]
    effects_list = []
    for channel in channels:
        keep = np.array([channel not in m for m in members], dtype=bool)
        p_without = _solve(q, r, keep, 0)
        effect = 1.0 - p_without / p_conversion if p_conversion > 0 else 0.0
        effects_list.append(max(effect, 0.0))
    removal = np.array(effects_list, dtype=float)
    total_effect = removal.sum()
    share = removal / total_effect if total_effect > 0 else np.zeros_like(removal)
    effects = pl.DataFrame(
        {
            "channel": channels,
            "removal_effect": removal,
            "share": share,
            "attributed_conversions": share * total_conversions,
            "attributed_value": share * total_value,
        },
        schema=_RESULT_SCHEMA,
    )
    return MarkovChain(graph, p_conversion, effects, transitions, total_conversions, total_value)


def build_chain(
    paths: pl.DataFrame, order: int = 1, collapse_repeats: bool = False
) -> MarkovChain:
    """Fit the chain on aggregated paths (`path` list[str], `conversions`, `nulls`, `value`)."""
    return solve_chain(count_chain(paths, order, collapse_repeats))


def markov_attribution(
    paths: pl.DataFrame, order: int = 1, collapse_repeats: bool = False
) -> pl.DataFrame:
    """Aggregated paths in (`path` list[str], `conversions`, `nulls`, `value`); one row per
    channel out (`channel`, `removal_effect`, `share`, `attributed_conversions`,
    `attributed_value`); shares sum to 1 unless nothing converts."""
    return build_chain(paths, order, collapse_repeats).removal_effects


@dataclass(frozen=True)
class MarkovFit:
    """Journey-route result: credits, per-channel removal effects (canonical and reconciled
    value), the transition table and P(conversion), each per journey kind."""

    credits: pl.DataFrame
    removal_effects: pl.DataFrame
    transitions: pl.DataFrame


def _aggregate_paths(journeys: pl.DataFrame, nulls: pl.DataFrame | None, kind: str, values: pl.DataFrame) -> pl.DataFrame:
    """Converting journeys (value = journey amount) and null paths, one row per path."""
    converting = (
        journeys.filter(pl.col("journey_kind") == kind)
        .sort("opportunity_id", "position")
        .group_by("opportunity_id", maintain_order=True)
        .agg(path=pl.col("channel"))
        .join(values.filter(pl.col("journey_kind") == kind), on="opportunity_id", how="left")
        .select(
            "path",
            conversions=pl.lit(1, dtype=pl.Int64),
            nulls=pl.lit(0, dtype=pl.Int64),
            value=pl.col("journey_amount").fill_null(0.0),
        )
    )
    frames = [converting]
    if nulls is not None and len(nulls):
        frames.append(
            nulls.filter(pl.col("journey_kind") == kind)
            .sort("path_id", "position")
            .group_by("path_id", maintain_order=True)
            .agg(path=pl.col("channel"))
            .select(
                "path",
                conversions=pl.lit(0, dtype=pl.Int64),
                nulls=pl.lit(1, dtype=pl.Int64),
                value=pl.lit(0.0),
            )
        )
    # one row per path: counting transitions is vectorized, so merging identical paths first
    # (a string key per path) would cost more than it saves
    return pl.concat(frames)


def _reachable_targets(targets: np.ndarray, forced: np.ndarray, total: float) -> np.ndarray:
    """Lift channels whose forced value (single-channel journeys) exceeds their canonical
    target to that bound and scale the others to share the rest."""
    adjusted = targets.copy()
    bound = np.zeros(targets.size, dtype=bool)
    for _ in range(targets.size + 1):
        newly = (forced > adjusted + 1e-12) & ~bound
        if not newly.any():
            break
        bound |= newly
        adjusted[bound] = forced[bound]
        free = ~bound
        rest = total - adjusted[bound].sum()
        free_sum = targets[free].sum()
        adjusted[free] = targets[free] * (rest / free_sum) if free_sum > 0 else 0.0
    return adjusted


def _sinkhorn(start: np.ndarray, row_value: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Row-stochastic X close to `start` (same zeros) with column totals X' row_value -> targets;
    the last step always normalizes rows to exactly 1."""
    x = start / start.sum(axis=1, keepdims=True)
    scale = np.ones(start.shape[1])
    previous = np.inf
    for _ in range(SINKHORN_MAX_ITERATIONS):
        column = row_value @ x
        ratio = np.divide(targets, column, out=np.ones_like(targets), where=column > 0)
        scale *= ratio
        weighted = start * scale
        sums = weighted.sum(axis=1, keepdims=True)
        x = np.divide(weighted, sums, out=start / start.sum(axis=1, keepdims=True), where=sums > 0)
        change = float(np.max(np.abs(row_value @ x - targets)) / max(targets.sum(), 1e-300))
        if change < SINKHORN_TOLERANCE or abs(previous - change) < SINKHORN_TOLERANCE * 1e-3:
            break
        previous = change
    return x / x.sum(axis=1, keepdims=True)


def journey_channels(journeys: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """One row per (journey, channel): how many touches, and the journey's value."""
    return (
        journeys.group_by("opportunity_id", "channel")
        .agg(touches=pl.len())
        .join(values.select("opportunity_id", "journey_amount"), on="opportunity_id", how="left")
        .with_columns(pl.col("journey_amount").fill_null(0.0))
    )


def _journey_fractions(
    per_channel: pl.DataFrame, chain: MarkovChain
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per (journey, channel) fraction of the journey, and per channel the fitted conversions
    and value; fitted on distinct channel sets weighted by their journey counts.

    The fit reconciles *conversions* (each converting journey counts 1) to the canonical
    share x total conversions; value then follows each journey's own amount, so a channel
    seen only on small deals gets small value."""
    effect = dict(zip(chain.removal_effects["channel"], chain.removal_effects["removal_effect"], strict=True))
    sets = per_channel.group_by("opportunity_id").agg(
        channel_set=pl.col("channel").sort().str.join("\x1f"),
        touches_total=pl.col("touches").sum(),
        journey_amount=pl.col("journey_amount").first(),
    )
    per_channel = per_channel.join(sets.select("opportunity_id", "channel_set", "touches_total"), on="opportunity_id")
    per_channel = per_channel.with_columns(
        effect=pl.col("channel").replace_strict(effect, default=0.0, return_dtype=pl.Float64)
    )
    zero_sets = per_channel.group_by("opportunity_id").agg(all_zero=(pl.col("effect").sum() <= 0))
    per_channel = per_channel.join(zero_sets, on="opportunity_id")

    # journeys whose channels all have RE 0 stay linear: they are forced onto those channels
    linear_part = per_channel.filter("all_zero").with_columns(
        fraction=pl.col("touches") / pl.col("touches_total")
    )
    fit_part = per_channel.filter(~pl.col("all_zero"))
    channels = chain.removal_effects["channel"].to_list()
    col_index = {c: i for i, c in enumerate(channels)}
    # sums in numpy over rows in a fixed order: a multi-threaded group-by sum may add in a
    # different order each run, and byte-identical reruns need identical floats
    fit_journeys = fit_part.unique("opportunity_id").sort("opportunity_id")
    set_names = sorted(set(fit_journeys["channel_set"].to_list()))
    group_index = {g: i for i, g in enumerate(set_names)}
    set_of_journey = (
        fit_journeys["channel_set"].replace_strict(group_index, return_dtype=pl.Int64).to_numpy()
        if len(fit_journeys)
        else np.zeros(0, dtype=np.int64)
    )
    row_count = np.bincount(set_of_journey, minlength=len(set_names)).astype(float)
    row_value = np.bincount(
        set_of_journey,
        weights=fit_journeys["journey_amount"].to_numpy().astype(float),
        minlength=len(set_names),
    ) if len(fit_journeys) else np.zeros(len(set_names))
    start = np.zeros((len(set_names), len(channels)))
    for channel_set in set_names:
        for channel in channel_set.split("\x1f"):
            start[group_index[channel_set], col_index[channel]] = effect.get(channel, 0.0)
    forced_count = np.zeros(len(channels))
    forced_value = np.zeros(len(channels))
    if len(linear_part):
        ordered = linear_part.sort("opportunity_id", "channel")
        linear_index = ordered["channel"].replace_strict(col_index, return_dtype=pl.Int64).to_numpy()
        forced_count = np.bincount(
            linear_index, weights=ordered["fraction"].to_numpy(), minlength=len(channels)
        )
        forced_value = np.bincount(
            linear_index,
            weights=(ordered["fraction"] * ordered["journey_amount"]).to_numpy(),
            minlength=len(channels),
        )
    fit_total = float(row_count.sum())
    fitted_fractions: dict[tuple[str, str], float] = {}
    fitted_count, fitted_value = forced_count.copy(), forced_value.copy()
    if set_names:
        shares = chain.removal_effects["share"].to_numpy()
        targets = shares * fit_total
        single = np.zeros(len(channels))
        for channel_set, i in group_index.items():
            members = channel_set.split("\x1f")
            if len(members) == 1:
                single[col_index[members[0]]] += row_count[i]
        reachable = _reachable_targets(targets, single, fit_total)
        x = _sinkhorn(start, row_count, reachable)
        fitted_count += row_count @ x
        fitted_value += row_value @ x
        for channel_set, i in group_index.items():
            for channel in channel_set.split("\x1f"):
                fitted_fractions[(channel_set, channel)] = float(x[i, col_index[channel]])
    fitted = pl.DataFrame(
        {
            "channel_set": [k[0] for k in fitted_fractions],
            "channel": [k[1] for k in fitted_fractions],
            "fraction": list(fitted_fractions.values()),
        },
        schema={"channel_set": pl.String, "channel": pl.String, "fraction": pl.Float64},
    )
    fractions = pl.concat(
        [
            fit_part.join(fitted, on=["channel_set", "channel"], how="left").select(
                "opportunity_id", "channel", "touches", "fraction"
            ),
            linear_part.select("opportunity_id", "channel", "touches", "fraction"),
        ]
    )
    by_channel = pl.DataFrame(
        {"channel": channels, "fitted_conversions": fitted_count, "fitted_value": fitted_value},
        schema={"channel": pl.String, "fitted_conversions": pl.Float64, "fitted_value": pl.Float64},
    )
    return fractions, by_channel


@dataclass(frozen=True)
class MarkovPartial:
    """One batch of journeys (a set of accounts): chain counts and journey-channel rows per
    journey kind. Batches combine exactly, so the chain never needs all paths in memory."""

    counts: dict[str, ChainCounts]
    journey_channels: dict[str, pl.DataFrame]

    @staticmethod
    def combine(parts: list[MarkovPartial]) -> MarkovPartial:
        kinds = sorted({k for p in parts for k in p.counts})
        return MarkovPartial(
            counts={k: ChainCounts.combine([p.counts[k] for p in parts if k in p.counts]) for k in kinds},
            journey_channels={
                k: pl.concat([p.journey_channels[k] for p in parts if k in p.journey_channels])
                for k in kinds
            },
        )


@dataclass(frozen=True)
class MarkovSolution:
    """Per (journey_kind, journey, channel) fractions, removal effects and transitions."""

    fractions: pl.DataFrame
    removal_effects: pl.DataFrame
    transitions: pl.DataFrame


def _journey_values(inputs: ModelInput) -> pl.DataFrame:
    if inputs.journey_values is not None:
        return inputs.journey_values
    return inputs.journey_touches.select(*JOURNEY_KEY).unique().with_columns(journey_amount=pl.lit(1.0))


def markov_partial(inputs: ModelInput, config: AttributionConfig) -> MarkovPartial:
    """Count one batch: its converting journeys and its null paths."""
    touches = inputs.journey_touches
    values = _journey_values(inputs)
    kinds = set(touches["journey_kind"].to_list())
    if inputs.null_path_touches is not None:
        kinds |= set(inputs.null_path_touches["journey_kind"].to_list())
    counts: dict[str, ChainCounts] = {}
    channels: dict[str, pl.DataFrame] = {}
    for kind in sorted(kinds):
        paths = _aggregate_paths(touches, inputs.null_path_touches, kind, values)
        counts[kind] = count_chain(paths, config.markov_order, config.collapse_repeats)
        channels[kind] = journey_channels(
            touches.filter(pl.col("journey_kind") == kind),
            values.filter(pl.col("journey_kind") == kind),
        )
    return MarkovPartial(counts, channels)


def solve_markov(partial: MarkovPartial, config: AttributionConfig) -> MarkovSolution:
    """Solve each journey kind's chain and fit the per-journey fractions (kinds without any
    converting journey are skipped: nothing to attribute)."""
    fraction_frames: list[pl.DataFrame] = []
    effect_frames: list[pl.DataFrame] = []
    transition_frames: list[pl.DataFrame] = []
    for kind in sorted(partial.counts):
        per_channel = partial.journey_channels[kind]
        if per_channel.is_empty():
            continue
        chain = solve_chain(partial.counts[kind])
        fractions, by_channel = _journey_fractions(per_channel, chain)
        fraction_frames.append(fractions.with_columns(journey_kind=pl.lit(kind)))
        effect_frames.append(
            chain.removal_effects.join(by_channel, on="channel", how="left").with_columns(
                journey_kind=pl.lit(kind),
                canonical_conversions=pl.col("attributed_conversions"),
                conversion_gap=pl.col("fitted_conversions") - pl.col("attributed_conversions"),
                canonical_value=pl.col("attributed_value"),
                p_conversion=pl.lit(chain.p_conversion),
                markov_order=pl.lit(config.markov_order),
                converting_paths=pl.lit(chain.total_conversions),
            )
        )
        transition_frames.append(chain.transitions.with_columns(journey_kind=pl.lit(kind)))
    if not fraction_frames:
        return MarkovSolution(
            fractions=pl.DataFrame(
                schema={"opportunity_id": pl.String, "channel": pl.String, "touches": pl.UInt32,
                        "fraction": pl.Float64, "journey_kind": pl.String}
            ),
            removal_effects=pl.DataFrame(schema=REMOVAL_EFFECTS_SCHEMA),
            transitions=pl.DataFrame(schema={"journey_kind": pl.String, **_TRANSITION_SCHEMA}),
        )
    effects = pl.concat(effect_frames).select(
        [pl.col(name).cast(dtype) for name, dtype in REMOVAL_EFFECTS_SCHEMA.items()]
    )
    transitions = pl.concat(transition_frames).select("journey_kind", *_TRANSITION_SCHEMA)
    return MarkovSolution(pl.concat(fraction_frames), effects, transitions)


def markov_credits(journey_touches: pl.DataFrame, solution: MarkovSolution) -> pl.DataFrame:
    """Per-touch Markov credits of these journeys: their channel's fraction split equally
    among the channel's touches."""
    return credits_frame(
        journey_touches.join(
            solution.fractions.select("journey_kind", "opportunity_id", "channel", "touches", "fraction"),
            on=["journey_kind", "opportunity_id", "channel"],
            how="left",
        ).with_columns(credit=pl.col("fraction") / pl.col("touches"))
    )


def markov_fit(inputs: ModelInput, config: AttributionConfig) -> MarkovFit:
    """Fit one chain per journey kind and turn it into per-touch credits (see module doc)."""
    solution = solve_markov(markov_partial(inputs, config), config)
    return MarkovFit(
        credits=markov_credits(inputs.journey_touches, solution),
        removal_effects=solution.removal_effects,
        transitions=solution.transitions,
    )


def markov_model(inputs: ModelInput, config: AttributionConfig) -> pl.DataFrame:
    """Markov credits per touch: removal-effect weights fitted to the canonical channel totals."""
    return markov_fit(inputs, config).credits
