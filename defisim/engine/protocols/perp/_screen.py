"""Fast float screen of margin accounts (numpy float64): picks liquidation candidates.

The exact layer (``exchange.py``) decides; this module only narrows the search. One row per
account holds its collateral, the sum of its positions' cost bases, and its position size per
market (whole tokens). For all rows at once, at the markets' mark prices ``P``:

* ``equity = collateral + Σ_m size_m · P_m - Σ entry``   (quote base units),
* ``mmr    = Σ_m |size_m| · P_m · mmf_m``,
* ``notional = Σ_m |size_m| · P_m``.

Why no liquidatable account is missed: the exact check rounds each position's value down
(at most one base unit per market below the real value) and each requirement up (at most one
above), so an exactly liquidatable account has ``equity < mmr + 2·M`` in real numbers, M the
number of markets. Candidates are rows with
``equity < mmr · (1 + 1e-6) + notional · 1e-9 + 2·M + 2``: the relative parts cover float64
rounding of the large products, the absolute part the integer rounding.

Cost: the arrays are re-evaluated only when a mark price or a row changed; a block without
either costs a tuple comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["AccountScreen"]

MARGIN = 1e-6
NOTIONAL_MARGIN = 1e-9


class AccountScreen:
    """Float rows of every margin account (see module docstring)."""

    __slots__ = (
        "_cache",
        "_coll",
        "_edits",
        "_entry",
        "_factor",
        "_found",
        "_mmf",
        "_sizes",
        "keys",
        "markets",
        "rows",
    )

    def __init__(self, capacity: int = 256) -> None:
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self.markets: list[str] = []
        self._factor: list[float] = []
        self._mmf: list[float] = []
        self._coll = np.zeros(capacity)
        self._entry = np.zeros(capacity)
        self._sizes = np.zeros((capacity, 0))
        self._edits = 0
        self._cache: tuple[object, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._found: list[str] | None = None

    def add_market(self, market: str, asset_unit: int, quote_unit: int, mmf_ppm: int) -> None:
        """A new column: ``size * price * factor`` is quote base units for a price in 1e8 USD."""
        self.markets.append(market)
        self._factor.append(quote_unit / asset_unit / 1e8)
        self._mmf.append(mmf_ppm / 1e6)
        grown = np.zeros((self._sizes.shape[0], len(self.markets)))
        grown[:, : self._sizes.shape[1]] = self._sizes
        self._sizes = grown
        self._edits += 1

    def set_row(self, key: str, collateral: int, positions: Mapping[str, tuple[int, int]]) -> None:
        """Store account ``key``: collateral and ``{market: (size, entry)}`` (exact ints)."""
        row = self.rows.get(key)
        if row is None:
            row = len(self.keys)
            if row == self._coll.shape[0]:
                self._coll = np.concatenate([self._coll, np.zeros(row)])
                self._entry = np.concatenate([self._entry, np.zeros(row)])
                self._sizes = np.concatenate([self._sizes, np.zeros((row, self._sizes.shape[1]))])
            self.rows[key] = row
            self.keys.append(key)
        self._coll[row] = float(collateral)
        self._entry[row] = float(sum(entry for _, entry in positions.values()))
        self._sizes[row, :] = 0.0
        for market, (size, _) in positions.items():
            self._sizes[row, self.markets.index(market)] = float(size)
        self._edits += 1

    def _evaluate(self, prices: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(equity, mmr, notional, has_positions) per row at ``prices`` (column order), cached."""
        key = (tuple(prices), self._edits)
        cache = self._cache
        if cache is not None and cache[0] == key:
            return cache[1], cache[2], cache[3], cache[4]
        n = len(self.keys)
        unit_value = np.asarray([p * f for p, f in zip(prices, self._factor, strict=True)])
        sizes = self._sizes[:n]
        value = sizes @ unit_value if unit_value.size else np.zeros(n)
        notional = np.abs(sizes) @ unit_value if unit_value.size else np.zeros(n)
        mmr = np.abs(sizes) @ (unit_value * np.asarray(self._mmf)) if unit_value.size else np.zeros(n)
        equity = self._coll[:n] + value - self._entry[:n]
        has = np.any(sizes != 0.0, axis=1) if unit_value.size else np.zeros(n, dtype=bool)
        self._cache = (key, equity, mmr, notional, has)
        self._found = None
        return equity, mmr, notional, has

    def candidates(self, prices: Sequence[int], exclude: str | None = None) -> list[str]:
        """Keys of accounts that may be liquidatable, largest notional first (ties: row order)."""
        equity, mmr, notional, has = self._evaluate(prices)
        if self._found is None:
            slack = 2.0 * len(self.markets) + 2.0
            hit = has & (equity < mmr * (1.0 + MARGIN) + notional * NOTIONAL_MARGIN + slack)
            rows = np.flatnonzero(hit)
            order = rows[np.lexsort((rows, -notional[rows]))]
            self._found = [self.keys[r] for r in order.tolist()]
        return [k for k in self._found if k != exclude]

    def estimates(self, prices: Sequence[int], exclude: str | None = None) -> np.ndarray:
        """Float health ``equity / mmr`` of accounts with positions (row order)."""
        equity, mmr, _, has = self._evaluate(prices)
        if exclude is not None and exclude in self.rows:
            has = has.copy()
            has[self.rows[exclude]] = False
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(equity[has], 0.0) / mmr[has]
