"""Mutable storage of one market and a copy-on-write transaction over it.

Every ``Morpho`` entry point touches one market, a few positions and the ledger. A
:class:`Tx` copies the market and each position it writes, stages ledger transfers (checking
balances as they would be at that point of the call), stages the storage writes of a stateful
IRM (``AdaptiveCurveIrm.rateAtTarget``), and writes everything back in :meth:`Tx.commit`. A
failed check raises before the commit, so nothing changes: a revert. Views and quotes run the
same code on a ``Tx`` that is never committed (so a stateful IRM's storage stays as it was).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.engine.protocols.morpho_blue.errors import MorphoError
from defisim.engine.protocols.morpho_blue.types import Market, Position

if TYPE_CHECKING:
    from defisim.engine.protocols.morpho_blue.morpho import MorphoBlue


@dataclass(slots=True)
class MarketState:
    """Mutable ``Market`` storage (see :class:`~defisim.engine.protocols.morpho_blue.types.Market`)."""

    total_supply_assets: int = 0
    total_supply_shares: int = 0
    total_borrow_assets: int = 0
    total_borrow_shares: int = 0
    last_update: int = 0
    fee: int = 0

    def copy(self) -> MarketState:
        return MarketState(self.total_supply_assets, self.total_supply_shares,
                           self.total_borrow_assets, self.total_borrow_shares,
                           self.last_update, self.fee)

    def frozen(self) -> Market:
        return Market(self.total_supply_assets, self.total_supply_shares,
                      self.total_borrow_assets, self.total_borrow_shares,
                      self.last_update, self.fee)


@dataclass(slots=True)
class PositionState:
    """Mutable ``Position`` storage."""

    supply_shares: int = 0
    borrow_shares: int = 0
    collateral: int = 0

    def copy(self) -> PositionState:
        return PositionState(self.supply_shares, self.borrow_shares, self.collateral)

    def frozen(self) -> Position:
        return Position(self.supply_shares, self.borrow_shares, self.collateral)

    def is_empty(self) -> bool:
        return self.supply_shares == 0 and self.borrow_shares == 0 and self.collateral == 0


_EMPTY = PositionState()


class Tx:
    """One call's view of market ``name``: copies on write, commits all at once."""

    __slots__ = ("cash", "irm_writes", "market", "morpho", "moves", "name", "positions", "surplus")

    def __init__(self, morpho: MorphoBlue, name: str) -> None:
        self.morpho = morpho
        self.name = name
        self.market = morpho._markets[name].copy()
        self.positions: dict[str, PositionState] = {}
        self.cash: dict[tuple[str, str], int] = {}
        self.moves: list[tuple[str, str, str, int]] = []
        self.surplus: dict[str, int] = {}
        self.irm_writes: list[Callable[[], None]] = []

    def pos(self, user: str) -> PositionState:
        """Writable copy of ``user``'s position (the same object for the rest of the call)."""
        p = self.positions.get(user)
        if p is None:
            p = self.morpho._positions[self.name].get(user, _EMPTY).copy()
            self.positions[user] = p
        return p

    def pos_ro(self, user: str) -> PositionState:
        """Current position, not to be mutated."""
        p = self.positions.get(user)
        return self.morpho._positions[self.name].get(user, _EMPTY) if p is None else p

    def transfer(self, token: str, src: str, dst: str, amount: int, reason: str) -> None:
        """Stage an ERC-20 transfer; revert with ``reason`` if ``src`` lacks the balance."""
        have = self.morpho.ledger.balance_of(token, src) + self.cash.get((token, src), 0)
        if have < amount:
            raise MorphoError(reason, f"{src} holds {have} {token}, needs {amount}")
        if amount == 0:
            return
        self.cash[(token, src)] = self.cash.get((token, src), 0) - amount
        self.cash[(token, dst)] = self.cash.get((token, dst), 0) + amount
        self.moves.append((token, src, dst, amount))

    def add_surplus(self, token: str, amount: int) -> None:
        """Tokens the contract now holds beyond its books (``zeroFloorSub`` absorbed them)."""
        if amount:
            self.surplus[token] = self.surplus.get(token, 0) + amount

    def commit(self) -> None:
        """Write the market, positions, transfers, surplus and IRM storage back; bump versions
        and rows."""
        m = self.morpho
        m._markets[self.name] = self.market
        for write in self.irm_writes:
            write()
        book = m._positions[self.name]
        for user, p in self.positions.items():
            if p.is_empty():
                book.pop(user, None)
            else:
                book[user] = p
        for token, src, dst, amount in self.moves:
            m.ledger.transfer(token, src, dst, amount)
        for token, amount in self.surplus.items():
            m._surplus[token] = m._surplus.get(token, 0) + amount
        m._committed(self.name, self.positions)
