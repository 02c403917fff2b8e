"""Fast float screen of health factors (numpy float64), used only to pick candidates.

The exact layer (``pool.py``) decides who is liquidatable; this module only narrows the
search. It keeps, per account row and reserve column, the *scaled* collateral (only where the
account uses the reserve as collateral) and the *scaled* debt as float64, updated row by row
when an account changes. Per reserve it builds two weights from the exact ints:

* collateral weight ``liquidityIndex/RAY * price/unit * LT/1e4``,
* debt weight ``borrowIndex/RAY * price/unit``,

and computes ``num = C @ wc`` and ``den = D @ wd`` for all rows, only when the weights
changed since the last call (a price or an index moved). ``HF_float = num / den``.

Why a relative margin suffices: the exact health factor rounds every collateral term *down*
(aToken balance floor, base value floor) and every debt term *up* (debt balance ceil,
``mulDivCeil`` base value), so ``HF_exact <= HF_float`` up to float64 rounding (~1e-15
relative). Every exactly-liquidatable account therefore has ``HF_float < 1 + margin`` for any
margin well above 1e-15; candidates are then confirmed with the exact integer health factor.

Interest moves the indexes every second. Rebuilding all rows each block would cost
accounts x blocks, so the weights are rebuilt only when a price or threshold changes or an
index has drifted by more than ``INDEX_DRIFT`` (1e-7, i.e. about every few blocks at typical
rates); the float HF error this allows (~2e-7) stays inside the margin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["HealthScreen", "DEFAULT_MARGIN", "margin_for_truncated_average"]

_RAY = 1e27
_BPS = 1e4
DEFAULT_MARGIN = 1e-6
"""Relative float-HF margin of :meth:`HealthScreen.candidates` (3.6 rounding, see above)."""


def margin_for_truncated_average(min_threshold_bps: int) -> float:
    """Margin when the exact HF truncates the average threshold to whole bps (Aave 3.0).

    3.0 computes ``percentMul(totalCollateral, floor(Σ value_i * LT_i / totalCollateral))``:
    the truncation lowers the exact HF by less than ``1 / avgLT`` relative, and ``avgLT`` is at
    least the smallest positive threshold. So every exactly-liquidatable account has
    ``HF_float < 1 + DEFAULT_MARGIN + 1 / min LT`` (e.g. ``1.3e-4`` for LT 75 %).
    """
    if min_threshold_bps <= 0:
        return DEFAULT_MARGIN
    return DEFAULT_MARGIN + 1.0 / min_threshold_bps
INDEX_DRIFT = 1e-7
"""Relative index movement tolerated before the weights are rebuilt. Interest moves indexes
about 4e-8 per block at 10 %/year; a stale index shifts a float HF by at most ~2x this, far
inside the 1e-6 candidate margin, so no liquidatable account is missed."""
_DRIFT_DEN = 10**7


class HealthScreen:
    """Rows of float scaled balances per account, with cached vectorised HF terms."""

    __slots__ = ("n_reserves", "rows", "accounts", "_coll", "_debt", "_num", "_den", "_key", "_wc", "_wd",
                 "_edits", "_cached", "_basis")

    def __init__(self, n_reserves: int, capacity: int = 1024) -> None:
        self.n_reserves = n_reserves
        self.rows: dict[str, int] = {}
        self.accounts: list[str] = []
        self._coll = np.zeros((capacity, n_reserves))
        self._debt = np.zeros((capacity, n_reserves))
        self._num = np.zeros(capacity)
        self._den = np.zeros(capacity)
        self._key: tuple[int, ...] | None = None
        self._wc = np.zeros(n_reserves)
        self._wd = np.zeros(n_reserves)
        self._edits = 0
        self._cached: tuple[object, Sequence[str]] | None = None
        self._basis: tuple[tuple[int, ...], ...] | None = None

    def _row(self, account: str) -> int:
        row = self.rows.get(account)
        if row is None:
            row = len(self.accounts)
            if row == self._coll.shape[0]:
                new_cap = 2 * row
                for name in ("_coll", "_debt"):
                    old = getattr(self, name)
                    grown = np.zeros((new_cap, self.n_reserves))
                    grown[:row] = old
                    setattr(self, name, grown)
                for name in ("_num", "_den"):
                    old = getattr(self, name)
                    grown = np.zeros(new_cap)
                    grown[:row] = old
                    setattr(self, name, grown)
            self.rows[account] = row
            self.accounts.append(account)
        return row

    def set_row(self, account: str, coll_scaled: Sequence[int], debt_scaled: Sequence[int]) -> None:
        """Store an account's scaled collateral (0 where not enabled) and scaled debt."""
        row = self._row(account)
        self._edits += 1
        c = self._coll[row]
        d = self._debt[row]
        c[:] = coll_scaled
        d[:] = debt_scaled
        if self._key is not None:
            self._num[row] = float(c @ self._wc)
            self._den[row] = float(d @ self._wd)

    def _refresh(
        self,
        key: tuple[int, ...],
        liquidity_indexes: Sequence[int],
        borrow_indexes: Sequence[int],
        prices: Sequence[int],
        units: Sequence[int],
        thresholds_bps: Sequence[int],
    ) -> None:
        if key == self._key:
            return
        p = np.array([float(x) for x in prices]) / np.array([float(u) for u in units])
        self._wc = np.array([float(i) for i in liquidity_indexes]) / _RAY * p * (
            np.array([float(t) for t in thresholds_bps]) / _BPS
        )
        self._wd = np.array([float(i) for i in borrow_indexes]) / _RAY * p
        n = len(self.accounts)
        self._num[:n] = self._coll[:n] @ self._wc
        self._den[:n] = self._debt[:n] @ self._wd
        self._key = key
        self._basis = (tuple(liquidity_indexes), tuple(borrow_indexes))

    def _weights_key(
        self,
        liquidity_indexes: Sequence[int],
        borrow_indexes: Sequence[int],
        prices: Sequence[int],
        thresholds_bps: Sequence[int],
    ) -> tuple[int, ...]:
        """The key of the weights to use: the current one while prices and thresholds are
        unchanged and no index has moved more than ``INDEX_DRIFT`` since the last rebuild."""
        if self._key is not None and self._basis is not None:
            n = len(prices)
            li, bi = self._basis
            if (
                tuple(prices) == self._key[2 * n : 3 * n]
                and tuple(thresholds_bps) == self._key[3 * n :]
                and all(abs(x - y) * _DRIFT_DEN <= y for x, y in zip(liquidity_indexes, li, strict=True))
                and all(abs(x - y) * _DRIFT_DEN <= y for x, y in zip(borrow_indexes, bi, strict=True))
            ):
                return self._key
        return (*liquidity_indexes, *borrow_indexes, *prices, *thresholds_bps)

    def candidates(
        self,
        liquidity_indexes: Sequence[int],
        borrow_indexes: Sequence[int],
        prices: Sequence[int],
        units: Sequence[int],
        thresholds_bps: Sequence[int],
        margin: float = DEFAULT_MARGIN,
    ) -> Sequence[str]:
        """Accounts with debt whose float HF is below ``1 + margin``, largest debt first.

        Ties in debt value keep row order (stable sort), so the order is deterministic.
        """
        key = self._weights_key(liquidity_indexes, borrow_indexes, prices, thresholds_bps)
        if self._cached is not None and self._cached[0] == (key, self._edits, margin):
            return self._cached[1]
        self._refresh(key, liquidity_indexes, borrow_indexes, prices, units, thresholds_bps)
        n = len(self.accounts)
        num, den = self._num[:n], self._den[:n]
        rows = np.flatnonzero((den > 0.0) & (num < den * (1.0 + margin)))
        found = _Names(self.accounts, rows, den[rows])
        self._cached = ((key, self._edits, margin), found)
        return found

    def estimates(
        self,
        liquidity_indexes: Sequence[int],
        borrow_indexes: Sequence[int],
        prices: Sequence[int],
        units: Sequence[int],
        thresholds_bps: Sequence[int],
    ) -> np.ndarray:
        """Float HF of every account with debt (row order)."""
        key = self._weights_key(liquidity_indexes, borrow_indexes, prices, thresholds_bps)
        self._refresh(key, liquidity_indexes, borrow_indexes, prices, units, thresholds_bps)
        n = len(self.accounts)
        num, den = self._num[:n], self._den[:n]
        has_debt = den > 0.0
        return num[has_debt] / den[has_debt]


class _Names(Sequence[str]):
    """Account names of the selected rows, largest debt first (ties: row order).

    Callers usually read only the first few, so only a prefix is sorted (``np.argpartition``)
    until someone reads past it; names are looked up when read.
    """

    __slots__ = ("_accounts", "_rows", "_debt", "_sorted")

    PREFIX = 256

    def __init__(self, accounts: list[str], rows: np.ndarray, debt: np.ndarray) -> None:
        self._accounts = accounts
        self._rows = rows
        self._debt = debt
        self._sorted = 0  # rows[:_sorted] are in final order

    def _order(self, upto: int) -> None:
        n = len(self._rows)
        if upto <= self._sorted:
            return
        if upto < n // 2 and self._sorted == 0:
            # the largest ``upto`` debts, then a stable sort of just those (ties by row)
            top = np.argpartition(-self._debt, upto - 1)[:upto]
            cut = -self._debt[top].min()
            head = np.flatnonzero(-self._debt < cut)
            ties = np.flatnonzero(-self._debt == cut)
            head = np.concatenate([head, ties[: upto - len(head)]])
            head = head[np.lexsort((self._rows[head], -self._debt[head]))]
            rest = np.setdiff1d(np.arange(n), head, assume_unique=True)
            perm = np.concatenate([head, rest])
        else:
            perm = np.lexsort((self._rows, -self._debt))
            upto = n
        self._rows, self._debt = self._rows[perm], self._debt[perm]
        self._sorted = upto

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            self._order(len(self._rows))
            return [self._accounts[i] for i in self._rows[index]]
        if index < 0:
            index += len(self._rows)
        if index >= self._sorted:
            self._order(max(self.PREFIX, 2 * self._sorted, index + 1))
        return self._accounts[self._rows[index]]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self[i] for i in range(len(self._rows)))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented
