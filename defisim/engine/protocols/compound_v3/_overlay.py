"""Mutable storage of one Comet and a copy-on-write transaction over it.

Every ``Comet`` entry point touches the aggregates, a few accounts and the ledger. A
:class:`Tx` copies the aggregates (``TotalsBasic`` and ``totalsCollateral``), each account it
writes and each absorber's points, stages ledger transfers (checking balances as they would
be at that point of the call), and writes everything back in :meth:`Tx.commit`. A failed
check raises before the commit, so nothing changes: a revert. Views run the same code on a
``Tx`` that is never committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3.errors import CometError
from defisim.engine.protocols.compound_v3.types import (
    LiquidatorPoints,
    TotalsBasic,
    UserBasic,
)

if TYPE_CHECKING:
    from defisim.engine.protocols.compound_v3.comet import Comet


@dataclass(slots=True)
class TotalsState:
    """Mutable ``TotalsBasic`` storage (see :class:`~.types.TotalsBasic`)."""

    base_supply_index: int
    base_borrow_index: int
    tracking_supply_index: int = 0
    tracking_borrow_index: int = 0
    total_supply_base: int = 0
    total_borrow_base: int = 0
    last_accrual_time: int = 0
    pause_flags: int = 0

    def copy(self) -> TotalsState:
        return TotalsState(self.base_supply_index, self.base_borrow_index, self.tracking_supply_index,
                           self.tracking_borrow_index, self.total_supply_base, self.total_borrow_base,
                           self.last_accrual_time, self.pause_flags)

    def frozen(self) -> TotalsBasic:
        return TotalsBasic(self.base_supply_index, self.base_borrow_index, self.tracking_supply_index,
                           self.tracking_borrow_index, self.total_supply_base, self.total_borrow_base,
                           self.last_accrual_time, self.pause_flags)


@dataclass(slots=True)
class UserState:
    """Mutable ``UserBasic`` plus the account's ``userCollateral`` balances (asset -> units)."""

    principal: int = 0
    base_tracking_index: int = 0
    base_tracking_accrued: int = 0
    assets_in: int = 0
    collateral: dict[str, int] = field(default_factory=dict)

    def copy(self) -> UserState:
        return UserState(self.principal, self.base_tracking_index, self.base_tracking_accrued,
                         self.assets_in, dict(self.collateral))

    def frozen(self) -> UserBasic:
        return UserBasic(self.principal, self.base_tracking_index, self.base_tracking_accrued, self.assets_in)

    def is_empty(self) -> bool:
        return (self.principal == 0 and self.base_tracking_index == 0 and self.base_tracking_accrued == 0
                and self.assets_in == 0 and not any(self.collateral.values()))


_EMPTY = UserState()


class Tx:
    """One call's view of the Comet: copies on write, commits all at once."""

    __slots__ = ("cash", "collateral_totals", "comet", "dust", "moves", "points", "totals", "users")

    def __init__(self, comet: Comet) -> None:
        self.comet = comet
        self.totals = comet._totals.copy()
        self.collateral_totals = dict(comet._collateral_totals)
        self.users: dict[str, UserState] = {}
        self.points: dict[str, LiquidatorPoints] = {}
        self.cash: dict[tuple[str, str], int] = {}
        self.moves: list[tuple[str, str, str, int]] = []
        self.dust = [0, 0]
        """Principal the totals count beyond the accounts' sum, (supply, borrow): see
        ``Comet.rounding_dust``."""

    def user(self, account: str) -> UserState:
        """Writable copy of ``account`` (the same object for the rest of the call)."""
        u = self.users.get(account)
        if u is None:
            u = self.comet._users.get(account, _EMPTY).copy()
            self.users[account] = u
        return u

    def user_ro(self, account: str) -> UserState:
        """Current state of ``account``, not to be mutated."""
        u = self.users.get(account)
        return self.comet._users.get(account, _EMPTY) if u is None else u

    def liquidator_points(self, absorber: str) -> LiquidatorPoints:
        """Current points of ``absorber`` (zeros if it never absorbed)."""
        p = self.points.get(absorber)
        if p is None:
            p = self.comet._points.get(absorber, LiquidatorPoints(0, 0, 0))
        return p

    def balance_of(self, token: str, holder: str) -> int:
        """``IERC20.balanceOf(holder)`` including this call's staged transfers."""
        return self.comet.ledger.balance_of(token, holder) + self.cash.get((token, holder), 0)

    def transfer(self, token: str, src: str, dst: str, amount: int) -> None:
        """Stage an ERC-20 transfer; revert if ``src`` lacks the balance."""
        have = self.balance_of(token, src)
        if have < amount:
            raise CometError(E.TRANSFER_EXCEEDS_BALANCE, f"{src} holds {have} {token}, needs {amount}")
        if amount == 0:
            return
        self.cash[(token, src)] = self.cash.get((token, src), 0) - amount
        self.cash[(token, dst)] = self.cash.get((token, dst), 0) + amount
        self.moves.append((token, src, dst, amount))

    def commit(self) -> None:
        """Write aggregates, accounts, points and transfers back; bump versions and rows."""
        c = self.comet
        c._totals = self.totals
        c._collateral_totals = self.collateral_totals
        for account, u in self.users.items():
            for asset in [a for a, b in u.collateral.items() if b == 0]:
                del u.collateral[asset]
            if u.is_empty():
                c._users.pop(account, None)
            else:
                c._users[account] = u
        c._points.update(self.points)
        c._dust_supply += self.dust[0]
        c._dust_borrow += self.dust[1]
        for token, src, dst, amount in self.moves:
            c.ledger.transfer(token, src, dst, amount)
        c._committed(self.users)
