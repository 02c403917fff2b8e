"""Exposure-weighted centrality: how much of the system's value depends on a node.

A random walk starts at a node chosen in proportion to economic value ``v`` (see
:mod:`defisim.graph.impact`). At each step it continues with probability ``alpha`` from node j
to a node i that j is exposed to (an impact edge i -> j), choosing i in proportion to the USD
exposure ``A_ij``; otherwise (and from a node exposed to nothing) it restarts by ``v``. The
centrality ``c_i`` is the walk's long-run share of time at i: PageRank on the reversed exposure
graph, weighted by USD, with the restart by value::

    c = (1 - alpha) v + alpha (T c + (Σ_{j dangling} c_j) v),   T_ij = A_ij / Σ_k A_kj

so ``Σ c = 1``; a node scores high when valuable nodes are exposed to it, directly or through
chains of exposure. ``alpha = 0`` gives back ``v``. Also :func:`exposure_totals`: the USD a node
passes on (out) and receives (in) along impact edges.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from defisim.graph.impact import impact_matrix
from defisim.graph.io import ExposureGraph, as_exposure_graph

__all__ = ["exposure_centrality", "exposure_totals"]

LAYER = "fast"


def exposure_centrality(graph: ExposureGraph, alpha: float = 0.85, tol: float = 1e-12,
                        max_iter: int = 10_000) -> dict[str, float]:
    """Exposure-weighted centrality per node id (dimensionless, sums to 1); see the module."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    m = impact_matrix(as_exposure_graph(graph))
    A = m.A
    col = np.asarray(A.sum(axis=0)).ravel()  # Σ_i A_ij: exposure of j to everything
    dangling = col <= 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, col))
    T = (A @ sp.diags(inv)).tocsr()  # T_ij = A_ij / Σ_k A_kj
    c = m.v.copy()
    for _ in range(max_iter):
        nxt = (1.0 - alpha) * m.v + alpha * (T @ c + c[dangling].sum() * m.v)
        if np.abs(nxt - c).sum() < tol:
            c = nxt
            break
        c = nxt
    return {nid: float(x) for nid, x in zip(m.ids, c, strict=True)}


def exposure_totals(graph: ExposureGraph) -> dict[str, tuple[float, float]]:
    """``{id: (usd_out, usd_in)}``: USD exposure a node passes on / receives (impact direction)."""
    m = impact_matrix(as_exposure_graph(graph))
    out = np.asarray(m.A.sum(axis=1)).ravel()
    inc = np.asarray(m.A.sum(axis=0)).ravel()
    return {nid: (float(o), float(i)) for nid, o, i in zip(m.ids, out, inc, strict=True)}
