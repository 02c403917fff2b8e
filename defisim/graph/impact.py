"""The DebtRank impact matrix: who passes distress to whom, and how much.

Fast layer (numpy float64, scipy.sparse). Built once per graph and cached on the
:class:`~defisim.graph.io.ExposureGraph`.

Distress ``h_j`` in [0, 1] is the fraction of node j's buffer ``E_j`` that is lost. The impact
of i on j is Battiston et al. (2012)::

    W_ij = min(1, A_ij / E_j)

where ``A_ij`` (USD) is the sum of ``value_usd`` over every edge that carries distress from i to
j, and ``E_j`` (USD) is j's buffer. With ``E_j = 0`` any positive exposure gives ``W_ij = 1``.
A node fully distressed (h_i = 1) thus costs j the whole exposure ``A_ij`` (capped at j's
buffer); a partly distressed one passes on ``h_i W_ij``. Note the cap is per link, as in the
paper: with an exposure four times j's buffer, a 30 % fall of i passes on 0.3, not
``min(1, 0.3 * 4)``; DebtRank is linear below full distress and so understates partial shocks
on exposures larger than the buffer (the buffer should therefore include the
over-collateralisation that absorbs them).

Edge kinds, direction of impact and meaning (the file edge reads ``source kind target``):

========================  ================  ===================================================
kind (file direction)     impact            meaning of ``value_usd`` / why
========================  ================  ===================================================
collateral_held_in        asset -> protocol the collateral's USD value; a price fall of the
  asset|pool -> protocol  (or account)      asset (h = fractional drop) costs the holder that
  |account                                  share of it, against the holder's buffer
debt_owed_to              account|protocol  the debt in USD; the debtor's distress (an
  account|protocol ->     -> protocol       account's positions going bad, a protocol owing a
  protocol                                  D3M-style facility) costs the creditor
token_issued_by           issuer -> token   REVERSED: the issuer's distress passes to its
  asset -> protocol|pool  (reversed)        token (stablecoin, receipt token, LST, LP share);
                                            value = the token supply the issuer backs, so with
                                            value = the token's market value, W = 1
oracle_feeds              oracle ->         the collateral the protocol prices with this
  oracle -> protocol      protocol          oracle; a wrong oracle (h = its mispricing share)
                                            puts that collateral at risk
oracle_reads_pool         pool -> oracle    REVERSED: a distressed pool (drained, moved price)
  oracle -> pool          (reversed)        moves the oracle that reads it; value = the pool
                                            liquidity the oracle reads
liquidations_sell_into    protocol -> pool  the collateral the protocol's liquidations would
  protocol -> pool                          sell into the pool; W = min(1, value / liquidity)
========================  ================  ===================================================

Buffer ``E_j`` per node kind (USD): protocol and account: ``equity_usd`` as the file states it
(protocol: reserves + insurance fund / surplus buffer + the over-collateralisation that absorbs
collateral losses before lenders lose; account: collateral minus debt). asset: ``equity_usd``
if given, else ``value_usd`` (market value, so distress = fractional price drop). pool:
``equity_usd`` if given, else ``value_usd`` (liquidity). oracle: ``equity_usd`` if given, else
the sum of the values of the pools it reads (so each pool moves the oracle by its share of the
oracle's inputs: a single-source oracle follows its pool fully, a median over four equal pools
moves a quarter per pool), or 1.0 if it reads none (any distress passes in full).

Economic value weights ``v_j = value_usd_j / Σ_k value_usd_k`` (uniform if every value is 0).
Values overlap (an asset held in a protocol counts in both), as in DebtRank's use of v as
systemic relevance rather than a partition of wealth. Loss in USD of a node: ``h_j E_j``
(the buffer destroyed), 0 for oracles (their distress is a mispricing, not a loss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from defisim.graph.io import ExposureGraph, as_exposure_graph

__all__ = ["IMPACT_DIRECTION", "ImpactMatrix", "impact_matrix"]

LAYER = "fast"

IMPACT_DIRECTION: dict[str, bool] = {
    "collateral_held_in": False,
    "debt_owed_to": False,
    "token_issued_by": True,
    "oracle_feeds": False,
    "oracle_reads_pool": True,
    "liquidations_sell_into": False,
}
"""Edge kind -> ``True`` if distress runs against the file direction (target -> source)."""


@dataclass(frozen=True, slots=True)
class ImpactMatrix:
    """Arrays indexed by node position ``ids[i]``; matrices are n x n CSR.

    ``W[i, j]``: impact of i on j (dimensionless, [0, 1]); ``WT`` its transpose (CSR, used by
    the propagation); ``A[i, j]``: USD exposure carrying distress from i to j; ``E``: buffers
    (USD); ``value``: ``value_usd``; ``v``: relative economic value (sums to 1); ``collateral``:
    USD of ``collateral_held_in`` edges into each node; ``kinds``: node kinds.
    """

    ids: tuple[str, ...]
    index: dict[str, int]
    kinds: np.ndarray
    value: np.ndarray
    E: np.ndarray
    v: np.ndarray
    collateral: np.ndarray
    A: sp.csr_matrix
    W: sp.csr_matrix
    WT: sp.csr_matrix

    @property
    def n(self) -> int:
        return len(self.ids)

    def loss_usd(self, h: np.ndarray) -> np.ndarray:
        """USD lost for distress ``h`` (shape (n,) or (n, k)): ``h * E``, 0 for oracles."""
        scale = np.where(self.kinds == "oracle", 0.0, self.E)
        return h * (scale[:, None] if h.ndim == 2 else scale)


def impact_matrix(graph: ExposureGraph) -> ImpactMatrix:
    """The impact matrix of ``graph`` (cached on the graph)."""
    graph = as_exposure_graph(graph)
    cached = graph._cache.get("impact")
    if cached is None:
        cached = _build(graph)
        graph._cache["impact"] = cached
    return cached


def _build(graph: ExposureGraph) -> ImpactMatrix:
    nodes = graph.file.nodes
    ids = tuple(n.id for n in nodes)
    index = {nid: i for i, nid in enumerate(ids)}
    n = len(ids)
    kinds = np.array([node.kind for node in nodes], dtype=object)
    value = np.array([node.value_usd for node in nodes], dtype=np.float64)
    given = np.array([np.nan if node.equity_usd is None else node.equity_usd for node in nodes])
    edges = graph.file.edges
    src = np.fromiter((index[e.source] for e in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[e.target] for e in edges), dtype=np.int64, count=len(edges))
    val = np.fromiter((e.value_usd for e in edges), dtype=np.float64, count=len(edges))
    reverse = np.fromiter((IMPACT_DIRECTION[e.kind] for e in edges), dtype=bool, count=len(edges))
    is_collateral = np.fromiter((e.kind == "collateral_held_in" for e in edges), dtype=bool,
                                count=len(edges))
    is_read = np.fromiter((e.kind == "oracle_reads_pool" for e in edges), dtype=bool, count=len(edges))
    frm = np.where(reverse, dst, src)
    to = np.where(reverse, src, dst)
    A = sp.csr_matrix((val, (frm, to)), shape=(n, n))  # duplicates summed
    A.sum_duplicates()
    # Buffers: stated equity, else the per-kind default documented above.
    E = value.copy()
    reads = np.bincount(to[is_read], weights=val[is_read], minlength=n)
    oracle = kinds == "oracle"
    E[oracle] = np.where(reads[oracle] > 0, reads[oracle], 1.0)
    E = np.where(np.isnan(given), E, given)
    collateral = np.bincount(dst[is_collateral], weights=val[is_collateral], minlength=n)
    # W_ij = min(1, A_ij / E_j); E_j = 0 -> 1 for any positive exposure.
    W = A.copy().tocoo()
    Ej = E[W.col]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(Ej > 0, W.data / Ej, np.where(W.data > 0, 1.0, 0.0))
    W = sp.csr_matrix((np.minimum(1.0, ratio), (W.row, W.col)), shape=(n, n))
    W.eliminate_zeros()
    total = value.sum()
    v = value / total if total > 0 else np.full(n, 1.0 / max(n, 1))
    return ImpactMatrix(ids=ids, index=index, kinds=kinds, value=value, E=E, v=v,
                        collateral=collateral, A=A, W=W, WT=W.T.tocsr())
