"""Fast float screen of Morpho positions (numpy float64): picks liquidation candidates.

The exact layer (``morpho.py``) decides; this module only narrows the search. Per market it
keeps one row per user with the float collateral and borrow shares, updated when a position
changes. For all rows at once it computes

* ``cap = collateral * price / 1e36 * lltv / 1e18`` (the real-valued ``maxBorrow``),
* ``debt = borrowShares * (totalBorrowAssets + 1) / (totalBorrowShares + 1e6)``.

Why the margin is safe: the exact check (``Morpho._isHealthy``) rounds ``maxBorrow`` down
twice (at most 2 base units below ``cap``) and ``borrowed`` up once (at most 1 above
``debt``), so an exactly unhealthy position has ``cap < debt + 3`` in real numbers. Candidates
are rows with ``cap < debt * (1 + 1e-6) + 4``: the relative part covers float64 rounding
(~1e-15) and a share price up to ``SHARE_PRICE_DRIFT`` stale, the absolute part the integer
rounding, so no liquidatable position is missed.

Cost: results are cached and recomputed only when the market's oracle price changes, a row
changes, or the share price has drifted by more than ``SHARE_PRICE_DRIFT`` (interest), so a
block without a price move costs a few comparisons.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MarketScreen", "merge_candidates"]

MARGIN = 1e-6
ABSOLUTE_MARGIN = 4.0
"""Loan-token base units: covers the three integer roundings of ``_isHealthy`` (see module)."""
SHARE_PRICE_DRIFT = 1e-7
"""Relative share-price movement tolerated before the rows are re-evaluated."""


class MarketScreen:
    """Float rows (collateral, borrow shares) of one market's users."""

    __slots__ = ("_cache", "_coll", "_edits", "_found", "_shares", "_sp_basis", "epoch", "keys", "rows")

    def __init__(self, capacity: int = 256) -> None:
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self._coll = np.zeros(capacity)
        self._shares = np.zeros(capacity)
        self._edits = 0
        self._cache: tuple[tuple[object, ...], np.ndarray, np.ndarray, np.ndarray] | None = None
        self._sp_basis = 0.0
        self._found: tuple[np.ndarray, np.ndarray] | None = None
        self.epoch = 0
        """Increments whenever the rows are re-evaluated (callers' caches key on it)."""

    def set_row(self, user: str, key: str, collateral: int, borrow_shares: int) -> None:
        """Store ``user``'s collateral (base units) and borrow shares (exact ints, as floats)."""
        row = self.rows.get(user)
        if row is None:
            if not borrow_shares and not collateral:
                return
            row = len(self.keys)
            if row == self._coll.shape[0]:
                for name in ("_coll", "_shares"):
                    old = getattr(self, name)
                    grown = np.zeros(2 * row)
                    grown[:row] = old
                    setattr(self, name, grown)
            self.rows[user] = row
            self.keys.append(key)
        self._coll[row] = float(collateral)
        self._shares[row] = float(borrow_shares)
        self._edits += 1

    def _evaluate(
        self, price: int, lltv: int, total_borrow_assets: int, total_borrow_shares: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cap, debt, has_debt) for every row, cached (see module docstring)."""
        sp = (total_borrow_assets + 1) / (total_borrow_shares + 1e6)
        cache = self._cache
        if (
            cache is not None
            and cache[0][:3] == (price, lltv, self._edits)
            and abs(sp - self._sp_basis) <= SHARE_PRICE_DRIFT * self._sp_basis
        ):
            return cache[1], cache[2], cache[3]
        n = len(self.keys)
        cap_w = price / 1e36 * (lltv / 1e18)
        cap = self._coll[:n] * cap_w
        debt = self._shares[:n] * sp
        has_debt = self._shares[:n] > 0.0
        self._sp_basis = sp
        self._cache = ((price, lltv, self._edits), cap, debt, has_debt)
        self._found = None
        self.epoch += 1
        return cap, debt, has_debt

    def candidates(
        self, price: int, lltv: int, total_borrow_assets: int, total_borrow_shares: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, float debt in loan base units) of rows that may be unhealthy."""
        cap, debt, has_debt = self._evaluate(price, lltv, total_borrow_assets, total_borrow_shares)
        if self._found is None:
            rows = np.flatnonzero(has_debt & (cap < debt * (1.0 + MARGIN) + ABSOLUTE_MARGIN))
            self._found = (rows, debt[rows])
        return self._found

    def estimates(
        self, price: int, lltv: int, total_borrow_assets: int, total_borrow_shares: int
    ) -> np.ndarray:
        """Float health factors ``cap / debt`` of rows with debt (row order)."""
        cap, debt, has_debt = self._evaluate(price, lltv, total_borrow_assets, total_borrow_shares)
        return cap[has_debt] / debt[has_debt]


def merge_candidates(
    parts: Sequence[tuple[MarketScreen, np.ndarray, np.ndarray, int, int]],
) -> list[str]:
    """Position keys of all markets' candidates, largest USD debt first.

    ``parts``: per market ``(screen, rows, debt, loan_usd_e8, loan_decimals)``. Ties keep
    market order, then row order (deterministic).
    """
    keys: list[str] = []
    usd: list[np.ndarray] = []
    order_market: list[np.ndarray] = []
    order_row: list[np.ndarray] = []
    for i, (screen, rows, debt, loan_usd, decimals) in enumerate(parts):
        if rows.size == 0:
            continue
        keys.extend(screen.keys[r] for r in rows.tolist())
        usd.append(debt * (loan_usd / 1e8 / 10.0**decimals))
        order_market.append(np.full(rows.size, i))
        order_row.append(rows)
    if not keys:
        return []
    value = np.concatenate(usd)
    perm = np.lexsort((np.concatenate(order_row), np.concatenate(order_market), -value))
    return [keys[i] for i in perm.tolist()]
