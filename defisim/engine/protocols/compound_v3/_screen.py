"""Fast float screen of Comet accounts (numpy float64): picks absorption candidates.

The exact layer (``comet.py``) decides; this module only narrows the search. It keeps one
row per account with the float principal and collateral balances, updated when an account
changes. For all rows at once it computes, in USD with 8 decimals,

* ``debt = -principal * baseBorrowIndex / 1e15 * basePrice / baseScale`` (borrowers only),
* ``cap = Σ_i collateral_i * price_i / scale_i * liquidateCF_i / 1e18``.

Why the margin is safe: ``isLiquidatable`` sums ``signedMulPrice(presentValue(principal))``
(the debt rounded down twice, so at most the real debt) and, per collateral,
``mulFactor(mulPrice(..))`` (each at most 2 units below the real value). So an exactly
liquidatable account has ``cap < debt + 2k`` in real numbers (``k`` collaterals). Candidates
are rows with ``cap < debt * (1 + 1e-6) + 2k + 2``: the relative part covers float64 rounding
and a borrow index up to ``INDEX_DRIFT`` stale, the absolute part the integer rounding, so no
liquidatable account is missed.

Cost: results are cached and recomputed only when a price changes, a row changes, or the
borrow index has drifted by more than ``INDEX_DRIFT`` (interest), so a block without a price
move costs a few comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CometScreen"]

MARGIN = 1e-6
INDEX_DRIFT = 1e-7
"""Relative borrow-index movement tolerated before the rows are re-evaluated."""


class CometScreen:
    """Float rows (principal, collateral per asset) of one Comet's accounts."""

    __slots__ = ("_cache", "_coll", "_edits", "_found", "_index_basis", "_principal", "assets", "keys",
                 "rows")

    def __init__(self, assets: Sequence[str], capacity: int = 256) -> None:
        self.assets = list(assets)
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self._principal = np.zeros(capacity)
        self._coll = np.zeros((capacity, max(1, len(self.assets))))
        self._edits = 0
        self._cache: tuple[tuple[object, ...], np.ndarray, np.ndarray] | None = None
        self._index_basis = 0.0
        self._found: list[str] | None = None

    def set_row(self, account: str, principal: int, collateral: dict[str, int]) -> None:
        """Store ``account``'s principal and collateral balances (exact ints, as floats)."""
        row = self.rows.get(account)
        if row is None:
            if principal == 0 and not any(collateral.values()):
                return
            row = len(self.keys)
            if row == self._principal.shape[0]:
                grown = np.zeros(2 * row)
                grown[:row] = self._principal
                self._principal = grown
                coll = np.zeros((2 * row, self._coll.shape[1]))
                coll[:row] = self._coll
                self._coll = coll
            self.rows[account] = row
            self.keys.append(account)
        self._principal[row] = float(principal)
        for j, asset in enumerate(self.assets):
            self._coll[row, j] = float(collateral.get(asset, 0))
        self._edits += 1

    def _evaluate(
        self, base_price: int, base_scale: int, borrow_index: int, prices: Sequence[int],
        scales: Sequence[int], factors: Sequence[int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(cap, debt) in USD 1e8 for every row (debt 0 for non-borrowers), cached."""
        key = (base_price, tuple(prices), self._edits)
        cache = self._cache
        index = float(borrow_index)
        if cache is not None and cache[0] == key and abs(index - self._index_basis) <= INDEX_DRIFT * self._index_basis:
            return cache[1], cache[2]
        n = len(self.keys)
        weights = np.array([p / s * f / 1e18 for p, s, f in zip(prices, scales, factors, strict=True)])
        cap = self._coll[:n, : len(weights)] @ weights if len(weights) else np.zeros(n)
        debt = np.maximum(-self._principal[:n], 0.0) * (index / 1e15 * base_price / base_scale)
        self._index_basis = index
        self._cache = (key, cap, debt)
        self._found = None
        return cap, debt

    def candidates(
        self, base_price: int, base_scale: int, borrow_index: int, prices: Sequence[int],
        scales: Sequence[int], factors: Sequence[int],
    ) -> list[str]:
        """Accounts that may be liquidatable, largest USD debt first (ties: row order)."""
        cap, debt = self._evaluate(base_price, base_scale, borrow_index, prices, scales, factors)
        if self._found is None:
            margin = 2.0 * len(self.assets) + 2.0
            rows = np.flatnonzero((debt > 0.0) & (cap < debt * (1.0 + MARGIN) + margin))
            order = rows[np.lexsort((rows, -debt[rows]))]
            self._found = [self.keys[r] for r in order.tolist()]
        return self._found

    def estimates(
        self, base_price: int, base_scale: int, borrow_index: int, prices: Sequence[int],
        scales: Sequence[int], factors: Sequence[int],
    ) -> np.ndarray:
        """Float health factors ``cap / debt`` of rows with debt (row order)."""
        cap, debt = self._evaluate(base_price, base_scale, borrow_index, prices, scales, factors)
        has_debt = debt > 0.0
        return cap[has_debt] / debt[has_debt]
