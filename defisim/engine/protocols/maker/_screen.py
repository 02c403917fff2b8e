"""Fast float screen of vaults (numpy float64): which urns may be unsafe. The Vat decides.

Per ilk one row per urn with float ``ink`` and ``art``, updated when the urn changes. An urn
is unsafe when ``ink * spot < art * rate`` (exact ints in the Vat). Candidates are rows with
``art > 0`` and ``ink * spot < art * rate * (1 + MARGIN)``: float64 products are off by about
1e-16 relative, and the rows are re-evaluated only when ``spot`` or a row changes or ``rate``
has drifted by more than ``RATE_DRIFT`` (stability fees), both far below ``MARGIN``, so no
unsafe urn is missed. A block without a price move costs a few comparisons.
"""

from __future__ import annotations

import numpy as np

__all__ = ["IlkScreen"]

MARGIN = 1e-6
RATE_DRIFT = 1e-7


class IlkScreen:
    """Float rows ``(ink, art)`` of one ilk's urns."""

    __slots__ = ("_art", "_cache", "_edits", "_ink", "keys", "rows")

    def __init__(self, capacity: int = 256) -> None:
        self.keys: list[str] = []
        self.rows: dict[str, int] = {}
        self._ink = np.zeros(capacity)
        self._art = np.zeros(capacity)
        self._edits = 0
        self._cache: tuple[tuple[int, int], float, np.ndarray, np.ndarray, np.ndarray] | None = None

    def set_row(self, urn: str, ink: int, art: int) -> None:
        """Store the urn's ``ink`` and ``art`` (exact wad ints, kept as floats)."""
        row = self.rows.get(urn)
        if row is None:
            if not ink and not art:
                return
            row = len(self.keys)
            if row == self._ink.shape[0]:
                self._ink = np.concatenate([self._ink, np.zeros(row)])
                self._art = np.concatenate([self._art, np.zeros(row)])
            self.rows[urn] = row
            self.keys.append(urn)
        self._ink[row] = float(ink)
        self._art[row] = float(art)
        self._edits += 1

    def _evaluate(self, spot: int, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(collateral value ``ink*spot``, debt ``art*rate``, candidate mask), cached."""
        cache = self._cache
        rate_f = float(rate)
        if (cache is not None and cache[0] == (spot, self._edits)
                and abs(rate_f - cache[1]) <= RATE_DRIFT * cache[1]):
            return cache[2], cache[3], cache[4]
        n = len(self.keys)
        value = self._ink[:n] * float(spot)
        debt = self._art[:n] * rate_f
        mask = (self._art[:n] > 0.0) & (value < debt * (1.0 + MARGIN))
        self._cache = ((spot, self._edits), rate_f, value, debt, mask)
        return value, debt, mask

    def candidates(self, spot: int, rate: int) -> list[tuple[str, float]]:
        """``(urn, float debt in rad)`` of urns that may be unsafe."""
        _, debt, mask = self._evaluate(spot, rate)
        rows = np.flatnonzero(mask)
        return [(self.keys[r], float(debt[r])) for r in rows.tolist()]

    def estimates(self, spot: int, rate: int) -> np.ndarray:
        """Float health ``ink * spot / (art * rate)`` of urns with debt."""
        value, debt, _ = self._evaluate(spot, rate)
        has = debt > 0.0
        return value[has] / debt[has]
