"""What-ifs: removing a node, and the smallest shock that makes distress systemic.

**Systemic** (:class:`Systemic`) is a threshold on one measure of a DebtRank outcome:

- ``defaults`` (default, threshold 1): the number of protocols, other than the shocked node,
  that end fully distressed (``h >= 1``: their whole buffer lost, i.e. insolvent);
- ``R``: DebtRank (induced distress, a fraction of total value);
- ``R_full``: full impact, the shock included;
- ``loss_usd``: USD lost by the nodes other than the shocked one (``Σ h E``).

``Systemic.parse("defaults>=1")``, ``"R>=0.05"``, ``"loss_usd>=1e9"``.

**Critical shock** (:func:`critical_shock`): the smallest shock size f in (0, 1] on a node (an
asset: price drop; a protocol: collateral loss; other: distress) at which the outcome is
systemic, by batched bisection: each step evaluates ``grid`` sizes evenly inside the current
bracket [lo, hi] as columns of one DebtRank batch and keeps the first systemic one, until
``hi - lo <= tol``. Every measure above except R is non-decreasing in f (a larger shock gives
larger distress everywhere, with the same propagation order), so the answer is the threshold to
within ``tol``; R can dip where feedback into the shocked node is capped at 1, so for R the
answer is the smallest systemic size found on the grid.

**Node removal** (:func:`removal_whatif`): node x is removed when it never passes distress on
(it starts inactive) and its own loss is not counted; ``v`` keeps its normalisation, so R with
and without x are comparable. Removing a node the shock never reaches changes nothing, so the
candidates are the distressed nodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from defisim.graph.debtrank import DebtRankResult, debtrank, propagate
from defisim.graph.impact import ImpactMatrix, impact_matrix
from defisim.graph.io import ExposureGraph, as_exposure_graph
from defisim.graph.schema import GraphError
from defisim.graph.shocks import (
    ResolvedShock,
    initial_distress,
    initial_level,
    resolve_shock,
    scaled_shock,
)

__all__ = ["CriticalShock", "RemovalEffect", "Systemic", "critical_shock", "removal_whatif"]

LAYER = "fast"

Measure = Literal["defaults", "R", "R_full", "loss_usd"]
_FULL = 1.0 - 1e-12


@dataclass(frozen=True, slots=True)
class Systemic:
    """Outcome is systemic when ``measure >= threshold`` (see the module docstring)."""

    measure: Measure = "defaults"
    threshold: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Systemic:
        """``"defaults>=1"``, ``"R>=0.05"``, ``"R_full>=0.1"``, ``"loss_usd>=1e9"``."""
        match = re.fullmatch(r"\s*(defaults|R_full|R|loss_usd)\s*>=\s*([0-9.eE+-]+)\s*", text)
        if match is None:
            raise GraphError(f"cannot read systemic criterion {text!r}; write MEASURE>=X with "
                             "MEASURE one of defaults, R, R_full, loss_usd (e.g. defaults>=1)")
        try:
            threshold = float(match[2])
        except ValueError:
            raise GraphError(f"not a number in systemic criterion {text!r}") from None
        if not np.isfinite(threshold) or threshold <= 0:
            raise GraphError(f"systemic threshold must be a positive number, got {match[2]}")
        return cls(match[1], threshold)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.measure}>={self.threshold:g}"

    def values(self, m: ImpactMatrix, h: np.ndarray, h0: np.ndarray) -> np.ndarray:
        """The measure for each column of ``h`` (n, k) given the shocks ``h0`` (n, k)."""
        shocked = h0 > 0
        if self.measure == "defaults":
            protocol = (m.kinds == "protocol")[:, None]
            return ((h >= _FULL) & protocol & ~shocked).sum(axis=0).astype(np.float64)
        if self.measure == "R":
            return m.v @ (h - h0)
        if self.measure == "R_full":
            return m.v @ h
        return np.where(shocked, 0.0, m.loss_usd(h)).sum(axis=0)

    def holds(self, m: ImpactMatrix, h: np.ndarray, h0: np.ndarray) -> np.ndarray:
        return self.values(m, h, h0) >= self.threshold * (1 - 1e-12)


@dataclass(frozen=True, slots=True)
class CriticalShock:
    """``size``: smallest systemic shock size found (None: not systemic even at 1.0);
    ``bracket``: (largest size found not systemic, ``size``); ``result``: DebtRank at ``size``."""

    node: str
    kind: str
    systemic: Systemic
    size: float | None
    bracket: tuple[float, float]
    evaluations: int
    result: DebtRankResult | None


def critical_shock(graph: ExposureGraph, node: str, systemic: Systemic | None = None,
                   kind: str | None = None, tol: float = 1e-4, grid: int = 16) -> CriticalShock:
    """Smallest shock size on ``node`` that is systemic (see the module docstring)."""
    graph = as_exposure_graph(graph)
    crit = systemic or Systemic()
    m = impact_matrix(graph)
    probe = scaled_shock(graph, node, 1.0, kind=kind)
    i = m.index[node]
    evaluations = 0

    def evaluate(sizes: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        evaluations += len(sizes)
        h0 = np.zeros((m.n, len(sizes)))
        h0[i, :] = initial_level(m, node, sizes, probe.kind)
        h, _, _ = propagate(m, h0, rounds_of_distress=False)
        return crit.holds(m, h, h0)

    if not evaluate(np.array([1.0]))[0]:
        return CriticalShock(node, probe.kind, crit, None, (1.0, 1.0), evaluations, None)
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        sizes = lo + (hi - lo) * np.arange(1, grid + 1) / (grid + 1)
        ok = evaluate(sizes)
        first = int(np.argmax(ok)) if ok.any() else grid
        new_hi = sizes[first] if first < grid else hi
        new_lo = sizes[first - 1] if first > 0 else lo
        lo, hi = float(new_lo), float(new_hi)
    result = debtrank(graph, scaled_shock(graph, node, hi, kind=probe.kind))
    return CriticalShock(node, probe.kind, crit, hi, (lo, hi), evaluations, result)


@dataclass(frozen=True, slots=True)
class RemovalEffect:
    """R of the shock with and without ``node``; ``delta_R = R_before - R_after``."""

    node: str
    kind: str
    R_before: float
    R_after: float
    loss_before_usd: float
    loss_after_usd: float

    @property
    def delta_R(self) -> float:
        return self.R_before - self.R_after


def removal_whatif(graph: ExposureGraph, shock: object, nodes: Sequence[str] | None = None,
                   limit: int = 200, batch: int = 256) -> list[RemovalEffect]:
    """R and USD loss of ``shock`` with each node removed, largest drop in R first.

    ``nodes``: candidates (default: the nodes the shock distresses, except the shocked ones,
    the ``limit`` with the largest USD loss). Losses exclude the shocked nodes' own loss.
    """
    graph = as_exposure_graph(graph)
    m = impact_matrix(graph)
    resolved: ResolvedShock = resolve_shock(graph, shock)
    base = debtrank(graph, resolved)
    h0 = initial_distress(graph, resolved)
    shocked = h0 > 0
    if nodes is None:
        cand = np.flatnonzero((base.h > 0) & ~shocked)
        cand = cand[np.argsort(-base.loss_usd[cand], kind="stable")][:limit]
    else:
        unknown = [x for x in nodes if x not in m.index]
        if unknown:
            raise GraphError(f"unknown node(s) for removal: {', '.join(map(repr, unknown))}")
        cand = np.array([m.index[x] for x in nodes], dtype=np.int64)
    base_loss = float(np.where(shocked, 0.0, base.loss_usd).sum())
    out: list[RemovalEffect] = []
    for start in range(0, len(cand), batch):
        part = cand[start:start + batch]
        k = len(part)
        H0 = np.repeat(h0[:, None], k, axis=1)
        H0[part, np.arange(k)] = 0.0
        blocked = np.zeros((m.n, k), dtype=bool)
        blocked[part, np.arange(k)] = True
        h, _, _ = propagate(m, H0, blocked=blocked, rounds_of_distress=False)
        h[part, np.arange(k)] = 0.0  # a removed node's own loss does not count
        R = m.v @ (h - H0)
        loss = np.where(shocked[:, None], 0.0, m.loss_usd(h)).sum(axis=0)
        for j, x in enumerate(part):
            out.append(RemovalEffect(m.ids[x], str(m.kinds[x]), base.R, float(R[j]),
                                     base_loss, float(loss[j])))
    out.sort(key=lambda e: (-e.delta_R, e.node))
    return out
