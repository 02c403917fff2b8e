"""Copy-on-write overlay of an Aave pool's state: one action's changes, committed or dropped.

A failed check raises before :meth:`Overlay.commit`, so nothing is written, like a reverted
transaction; a preview simply never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from defisim.engine.protocols.aave_v3.interest import ReserveState
from defisim.engine.protocols.aave_v3.outcomes import AaveError
from defisim.errors import InsufficientBalanceError

if TYPE_CHECKING:
    from defisim.engine.protocols.aave_v3.pool import AavePool


@dataclass(slots=True)
class Overlay:
    """Copy-on-write view of the pool for one action; ``commit`` writes it back."""

    pool: AavePool
    reserves: dict[str, ReserveState] = field(default_factory=dict)
    a: dict[tuple[str, str], int] = field(default_factory=dict)
    d: dict[tuple[str, str], int] = field(default_factory=dict)
    coll: dict[str, set[str]] = field(default_factory=dict)
    borrow: dict[str, set[str]] = field(default_factory=dict)
    moves: list[tuple[str, str, str, int]] = field(default_factory=list)
    cash: dict[tuple[str, str], int] = field(default_factory=dict)

    # reserves
    def reserve(self, asset: str) -> ReserveState:
        """Writable copy of a reserve (the same object for the rest of the action)."""
        r = self.reserves.get(asset)
        if r is None:
            r = self.pool._reserve(asset).copy()
            self.reserves[asset] = r
        return r

    def reserve_ro(self, asset: str) -> ReserveState:
        """Current reserve state, not to be mutated."""
        r = self.reserves.get(asset)
        return self.pool._reserve(asset) if r is None else r

    # balances
    def a_scaled(self, asset: str, account: str) -> int:
        v = self.a.get((asset, account))
        return self.pool._a[asset].get(account, 0) if v is None else v

    def d_scaled(self, asset: str, account: str) -> int:
        v = self.d.get((asset, account))
        return self.pool._d[asset].get(account, 0) if v is None else v

    def coll_flags(self, account: str) -> set[str]:
        s = self.coll.get(account)
        if s is None:
            s = set(self.pool._coll.get(account, ()))
            self.coll[account] = s
        return s

    def borrow_flags(self, account: str) -> set[str]:
        s = self.borrow.get(account)
        if s is None:
            s = set(self.pool._borrow.get(account, ()))
            self.borrow[account] = s
        return s

    def coll_ro(self, account: str) -> set[str] | frozenset[str]:
        s = self.coll.get(account)
        return self.pool._coll.get(account, frozenset()) if s is None else s

    def borrow_ro(self, account: str) -> set[str] | frozenset[str]:
        s = self.borrow.get(account)
        return self.pool._borrow.get(account, frozenset()) if s is None else s

    # token movements (scaled tokens: ScaledBalanceTokenBase)
    def a_mint(self, asset: str, account: str, scaled: int) -> bool:
        """``_mintScaled`` on the aToken; returns True if the balance was zero before."""
        if scaled == 0:
            raise AaveError("INVALID_MINT_AMOUNT")
        before = self.a_scaled(asset, account)
        self.a[(asset, account)] = before + scaled
        self.reserve(asset).scaled_total_supply += scaled
        return before == 0

    def a_burn(self, asset: str, account: str, scaled: int) -> bool:
        """``_burnScaled`` on the aToken; returns True if the balance is zero after."""
        if scaled == 0:
            raise AaveError("INVALID_BURN_AMOUNT")
        before = self.a_scaled(asset, account)
        if scaled > before:
            raise AaveError("ARITHMETIC_UNDERFLOW", f"burn {scaled} scaled > balance {before}")
        self.a[(asset, account)] = before - scaled
        self.reserve(asset).scaled_total_supply -= scaled
        return before == scaled

    def a_move(self, asset: str, src: str, dst: str, scaled: int) -> None:
        """Scaled aToken transfer (``AToken._transfer``)."""
        before = self.a_scaled(asset, src)
        if scaled > before:
            raise AaveError("ARITHMETIC_UNDERFLOW", f"transfer {scaled} scaled > balance {before}")
        self.a[(asset, src)] = before - scaled
        self.a[(asset, dst)] = self.a_scaled(asset, dst) + scaled

    def v_mint(self, asset: str, account: str, scaled: int) -> int:
        """``VariableDebtToken.mint``; returns the new scaled total supply."""
        if scaled == 0:
            raise AaveError("INVALID_MINT_AMOUNT")
        self.d[(asset, account)] = self.d_scaled(asset, account) + scaled
        r = self.reserve(asset)
        r.scaled_total_debt += scaled
        return r.scaled_total_debt

    def v_burn(self, asset: str, account: str, scaled: int) -> tuple[bool, int]:
        """``VariableDebtToken.burn``; returns (no debt left, new scaled total supply)."""
        if scaled == 0:
            raise AaveError("INVALID_BURN_AMOUNT")
        before = self.d_scaled(asset, account)
        if scaled > before:
            raise AaveError("ARITHMETIC_UNDERFLOW", f"burn {scaled} scaled debt > {before}")
        self.d[(asset, account)] = before - scaled
        r = self.reserve(asset)
        r.scaled_total_debt -= scaled
        return before == scaled, r.scaled_total_debt

    # underlying movements (ledger), checked now, applied at commit
    def cash_of(self, token: str, holder: str) -> int:
        """``holder``'s ledger balance of ``token`` including this action's staged moves."""
        return self.pool.ledger.balance_of(token, holder) + self.cash.get((token, holder), 0)

    def transfer(self, token: str, src: str, dst: str, amount: int) -> None:
        if amount == 0:
            return
        have = self.pool.ledger.balance_of(token, src) + self.cash.get((token, src), 0)
        if have < amount:
            raise InsufficientBalanceError(token, src, have, amount)
        self.cash[(token, src)] = self.cash.get((token, src), 0) - amount
        self.cash[(token, dst)] = self.cash.get((token, dst), 0) + amount
        self.moves.append((token, src, dst, amount))

    def commit(self) -> None:
        """Write every change back to the pool and the ledger; refresh screen rows."""
        pool = self.pool
        pool._state.update(self.reserves)
        touched: set[str] = set()
        for changes, books in ((self.a, pool._a), (self.d, pool._d)):
            for (asset, acct), v in changes.items():
                book = books[asset]
                if v:
                    book[acct] = v
                else:
                    book.pop(acct, None)
                touched.add(acct)
        for acct, s in self.coll.items():
            pool._coll[acct] = s
            touched.add(acct)
        for acct, s in self.borrow.items():
            pool._borrow[acct] = s
            touched.add(acct)
        for token, src, dst, amount in self.moves:
            pool.ledger.transfer(token, src, dst, amount)
        for acct in touched:
            pool._refresh_row(acct)
            pool._account_versions[acct] = pool._account_versions.get(acct, 0) + 1
