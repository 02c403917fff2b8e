"""DebtRank (Battiston, Puliga, Kaushik, Tasca, Caldarelli 2012, "DebtRank: Too Central to
Fail?", Sci. Rep. 2:541), on the impact matrix of :mod:`defisim.graph.impact`.

Each node has distress ``h`` in [0, 1] (the fraction of its buffer lost) and a state:
undistressed (U), distressed (D) or inactive (I). Round 0 is the shock: ``h(0)`` given, nodes
with ``h > 0`` are D. Round t >= 1::

    h_j(t) = min(1, h_j(t-1) + Σ_{i: S_i(t-1) = D} W_ij h_i(t-1))
    S_j(t) = D  if S_j(t-1) = U and h_j(t) > 0;   I  if S_j(t-1) = D;   else S_j(t-1)

so each node passes on its distress once, in the round after it became distressed, then
becomes inactive (distress it receives later still counts for it, but is not passed on: this
is what stops the walk cycling forever on a loop). The run stops when no node is D. With
relative values ``v`` (see :mod:`defisim.graph.impact`)::

    R      = Σ_j h_j(T) v_j - Σ_j h_j(0) v_j      (DebtRank: the distress the shock induced)
    R_full = Σ_j h_j(T) v_j                       (full impact, the initial shock included)

A node's own DebtRank ``R_i`` (:func:`node_debtrank`) is R for ``h_i(0) = 1`` alone, the
paper's measure of systemic importance.

Vectorised: the propagating distress of a round is a sparse matrix (nodes x scenarios), one
sparse product ``W^T @ P`` per round, so a whole run costs O(edges) per scenario column and many
scenarios (shock sizes, removed nodes, source nodes) run as columns of one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import scipy.sparse as sp

from defisim.graph.impact import ImpactMatrix, impact_matrix
from defisim.graph.io import ExposureGraph, as_exposure_graph
from defisim.graph.shocks import ResolvedShock, initial_distress, resolve_shock

__all__ = ["DebtRankResult", "NodeDistress", "debtrank", "node_debtrank", "propagate"]

LAYER = "fast"

UNDISTRESSED, DISTRESSED, INACTIVE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class NodeDistress:
    """One distressed node: round it became distressed (0 = the shock), distress, USD lost."""

    node: str
    kind: str
    round: int
    h: float
    loss_usd: float


@dataclass(frozen=True, slots=True)
class DebtRankResult:
    """Outcome of one shock. Arrays are indexed like ``ids``.

    ``h``: final distress h(T); ``h0``: the shock h(0); ``round_distressed``: round in which a
    node became distressed (0 = shocked, -1 = never); ``loss_usd``: ``h * E`` (0 for oracles);
    ``R``, ``R_full``: DebtRank and full impact (fractions of total value); ``rounds``: number of
    propagation rounds until no node was distressed.
    """

    shock: ResolvedShock
    ids: tuple[str, ...]
    kinds: np.ndarray
    h: np.ndarray
    h0: np.ndarray
    round_distressed: np.ndarray
    loss_usd: np.ndarray
    R: float
    R_full: float
    rounds: int

    @property
    def loss_total_usd(self) -> float:
        """USD lost by all nodes, the shocked ones included."""
        return float(self.loss_usd.sum())

    def distressed(self) -> list[NodeDistress]:
        """Every node with h > 0, by round, then by USD lost (largest first)."""
        idx = np.flatnonzero(self.h > 0)
        order = sorted(idx, key=lambda i: (self.round_distressed[i], -self.loss_usd[i], self.ids[i]))
        return [NodeDistress(self.ids[i], str(self.kinds[i]), int(self.round_distressed[i]),
                             float(self.h[i]), float(self.loss_usd[i])) for i in order]

    def by_id(self) -> dict[str, float]:
        """Final distress per node id."""
        return {nid: float(x) for nid, x in zip(self.ids, self.h, strict=True)}


def debtrank(graph: ExposureGraph, shock: object,
             trace: Callable[[int, list[str]], None] | None = None) -> DebtRankResult:
    """Run DebtRank for one shock (a file shock, a shock text, ``{id: h0}`` or ResolvedShock).

    ``trace(t, ids)`` is called once per round t >= 1 with the nodes that propagate in it.
    """
    graph = as_exposure_graph(graph)
    m = impact_matrix(graph)
    resolved = resolve_shock(graph, shock)
    h0 = initial_distress(graph, resolved)
    hook = None
    if trace is not None:
        def hook(t: int, rows: np.ndarray, cols: np.ndarray) -> None:
            trace(t, [m.ids[i] for i in rows])
    h, first, rounds = propagate(m, h0[:, None], trace=hook)
    hT = h[:, 0]
    return DebtRankResult(
        shock=resolved, ids=m.ids, kinds=m.kinds, h=hT, h0=h0, round_distressed=cast(np.ndarray, first)[:, 0],
        loss_usd=m.loss_usd(hT), R=float((hT - h0) @ m.v), R_full=float(hT @ m.v), rounds=rounds,
    )


def node_debtrank(graph: ExposureGraph, nodes: Sequence[str] | None = None,
                  batch: int = 512) -> dict[str, float]:
    """Each node's own DebtRank R_i: R when node i alone starts fully distressed (h_i(0) = 1).

    ``nodes``: which (default: all). Runs ``batch`` source nodes per sparse batch.
    """
    graph = as_exposure_graph(graph)
    m = impact_matrix(graph)
    chosen = list(m.ids) if nodes is None else list(nodes)
    idx = np.array([m.index[x] for x in chosen], dtype=np.int64)
    out: dict[str, float] = {}
    for start in range(0, len(idx), batch):
        part = idx[start:start + batch]
        h0 = sp.csc_matrix((np.ones(len(part)), (part, np.arange(len(part)))), shape=(m.n, len(part)))
        h, _, _ = propagate(m, h0, rounds_of_distress=False)
        R = m.v @ h - m.v[part]  # h0 = 1 on the source node, so its own term cancels
        for j, i in enumerate(part):
            out[m.ids[i]] = float(max(R[j], 0.0))
    return out


def propagate(m: ImpactMatrix, h0: np.ndarray | sp.spmatrix, blocked: np.ndarray | None = None,
              trace: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
              rounds_of_distress: bool = True) -> tuple[np.ndarray, np.ndarray | None, int]:
    """DebtRank rounds for k scenarios at once.

    ``h0``: (n, k) initial distress (dense or sparse). ``blocked``: optional (n, k) bool, nodes
    that never pass distress on in that column (they start inactive; used by node-removal
    what-ifs). Returns ``(h, round_distressed, rounds)``: final distress (n, k) dense, the round
    each node became distressed (n, k; 0 = shocked, -1 = never; ``None`` unless
    ``rounds_of_distress``), and the number of rounds run.
    """
    if sp.issparse(h0):
        h = sp.coo_matrix(h0).toarray()
    else:
        h = np.array(h0, dtype=np.float64, copy=True)
    if h.ndim != 2:
        raise ValueError(f"initial distress must be an (n, k) array, got shape {h.shape}")
    if h.min(initial=0.0) < 0 or h.max(initial=0.0) > 1:
        raise ValueError("initial distress must be in [0, 1]")
    n, k = h.shape
    # Flat (row-major) positions r * k + c index the (n, k) arrays: cheaper than 2-D fancy indexing.
    hf = h.reshape(-1)
    state = np.zeros(n * k, dtype=np.int8)
    if blocked is not None:
        state[np.asarray(blocked).reshape(-1)] = INACTIVE
    first = np.full(n * k, -1, dtype=np.int32) if rounds_of_distress else None
    start = np.flatnonzero(hf > 0)
    if first is not None:
        first[start] = 0
    prop = start[state[start] == UNDISTRESSED]
    state[prop] = DISTRESSED
    WT = m.WT
    t = 0
    while prop.size:
        t += 1
        pr, pc = np.divmod(prop, k)
        if trace is not None:
            trace(t, pr, pc)
        P = sp.csr_matrix((hf[prop], (pr, pc)), shape=(n, k))
        delta = (WT @ P).tocoo()
        state[prop] = INACTIVE  # they have passed their distress on, once
        pos = delta.data > 0
        flat = delta.row[pos].astype(np.int64) * k + delta.col[pos]
        hf[flat] = np.minimum(1.0, hf[flat] + delta.data[pos])
        prop = flat[state[flat] == UNDISTRESSED]
        state[prop] = DISTRESSED
        if first is not None:
            first[prop] = t
    return h, (first.reshape(n, k) if first is not None else None), t
