"""Cascade paths: the chains of exposure that carry the most loss.

Along a path ``n0 -> n1 -> ... -> nk`` of impact edges (see :mod:`defisim.graph.impact`), the
share of n0's distress that reaches nk is ``strength = Π W_{n_i n_{i+1}}`` (each factor in
[0, 1]), and the USD nk would lose if n0 failed fully and only this path carried it is
``loss_usd = strength * E_nk``. For each (source, end) pair the strongest path is found with
Dijkstra on edge costs ``-ln W`` (non-negative because W <= 1; a tiny cost per hop breaks ties
toward fewer hops), and pairs are ranked by ``loss_usd``. Oracles are not ends (their
distress is a mispricing, not a USD loss), but paths pass through them.

Cycles are fine (a loop never makes a path stronger, since every factor is <= 1); self-loops
never reach here (the schema refuses them). ``min_hops=2`` keeps only pairs whose strongest
link is indirect: the cross-protocol cascades that a table of direct exposures does not show.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from defisim.graph.impact import IMPACT_DIRECTION, impact_matrix
from defisim.graph.io import ExposureGraph, as_exposure_graph

__all__ = ["ExposurePath", "largest_exposure_paths"]

LAYER = "fast"

_HOP_COST = 1e-12


@dataclass(frozen=True, slots=True)
class ExposurePath:
    """A path of impact edges; ``hops[i]`` are the edge kinds joining ``nodes[i]`` to
    ``nodes[i+1]`` (``~`` marks a kind whose impact runs against the file direction)."""

    nodes: tuple[str, ...]
    hops: tuple[tuple[str, ...], ...]
    strength: float
    loss_usd: float

    def __str__(self) -> str:
        parts = [self.nodes[0]]
        for kinds, node in zip(self.hops, self.nodes[1:], strict=True):
            parts.append(f"-[{'+'.join(kinds)}]-> {node}")
        return " ".join(parts)


def largest_exposure_paths(graph: ExposureGraph, k: int = 10, sources: Sequence[str] | None = None,
                           min_hops: int = 1, max_sources: int = 200) -> list[ExposurePath]:
    """The ``k`` (source, end) pairs with the largest ``loss_usd``, each by its strongest path.

    ``sources``: where paths start (default: the ``max_sources`` non-oracle nodes with the
    largest ``value_usd``). ``min_hops``: the strongest path must have at least this many hops.
    """
    graph = as_exposure_graph(graph)
    m = impact_matrix(graph)
    if sources is None:
        candidates = np.flatnonzero(m.kinds != "oracle")
        order = candidates[np.argsort(-m.value[candidates], kind="stable")]
        src = order[:max_sources]
    else:
        src = np.array([m.index[s] for s in sources], dtype=np.int64)
    if src.size == 0 or m.W.nnz == 0 or k <= 0:
        return []
    W = m.W.tocoo()
    cost = sp.csr_matrix((-np.log(W.data) + _HOP_COST, (W.row, W.col)), shape=W.shape)
    dist, pred = dijkstra(cost, directed=True, indices=src, return_predecessors=True)
    ends_ok = (m.kinds != "oracle") & (m.E > 0)
    score = np.exp(-dist) * np.where(ends_ok, m.E, 0.0)[None, :]
    score[np.arange(len(src)), src] = 0.0
    score[~np.isfinite(dist)] = 0.0
    out: list[ExposurePath] = []
    done: set[int] = set()
    flat = score.ravel()
    take = min(max(4 * k, 64), flat.size)
    while len(out) < k:
        # the ``take`` best pairs, best first (argpartition: no full sort of sources x n)
        top = np.argpartition(-flat, take - 1)[:take] if take < flat.size else np.arange(flat.size)
        top = top[np.lexsort((top, -flat[top]))]
        for f in top:
            f = int(f)
            if f in done:
                continue
            done.add(f)
            row, end = divmod(f, m.n)
            if flat[f] <= 0 or len(out) >= k:
                break
            chain = [end]
            while chain[-1] != src[row]:
                chain.append(int(pred[row, chain[-1]]))
            chain.reverse()
            if len(chain) - 1 < min_hops:
                continue
            strength = float(np.prod([m.W[a, b] for a, b in itertools.pairwise(chain)]))
            out.append(ExposurePath(
                nodes=tuple(m.ids[i] for i in chain),
                hops=tuple(_hop_kinds(graph, m.ids[a], m.ids[b]) for a, b in itertools.pairwise(chain)),
                strength=strength, loss_usd=strength * float(m.E[end]),
            ))
        else:
            if take == flat.size:
                break
            take = min(4 * take, flat.size)
            continue
        break
    out.sort(key=lambda p: (-p.loss_usd, p.nodes))
    return out


def _hop_kinds(graph: ExposureGraph, a: str, b: str) -> tuple[str, ...]:
    """Edge kinds that carry impact from a to b (``~``: the file edge runs b -> a)."""
    kinds = set()
    for data in (graph.nx.get_edge_data(a, b) or {}).values():
        if not IMPACT_DIRECTION[data["kind"]]:
            kinds.add(data["kind"])
    for data in (graph.nx.get_edge_data(b, a) or {}).values():
        if IMPACT_DIRECTION[data["kind"]]:
            kinds.add("~" + data["kind"])
    return tuple(sorted(kinds))
