"""Mutable account storage and a copy-on-write transaction over it.

A margin account (:class:`UnitState`) holds signed collateral and at most one position per
market. A *cross* account may trade every market; an *isolated* one exactly one (dYdX v4 puts
isolated positions in their own subaccounts; Hyperliquid gives each isolated position its own
margin). Every change the exchange makes runs in a :class:`Tx`: it copies each account it
writes, stages the insurance-fund balance change and the vault's AMM trades, and writes it all
back in :meth:`Tx.commit`. A check that fails raises before the commit, so a refused action
changes nothing; quotes run the same code on a ``Tx`` that is never committed.

:func:`apply_trade` is the one place positions change. A trade moves ``delta`` asset base
units into the account's position for ``notional`` quote base units; opening adds the notional
to the position's signed cost basis ``entry`` (positive for a long, negative for a short),
reducing realises ``-sign(delta) * notional - entry_portion`` into collateral. Because both
parties of every trade use the same notional, ``Σ collateral - Σ entry`` is unchanged by any
trade (see ``PerpExchange.invariant_errors``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from defisim.engine.protocols.perp.errors import ZERO_SIZE, PerpError
from defisim.engine.protocols.perp.mathlib import (
    mul_div_floor,
    mul_div_toward_zero,
    sign,
)

if TYPE_CHECKING:
    from defisim.engine.protocols.perp.exchange import PerpExchange
    from defisim.engine.records import SwapExecuted

__all__ = ["PositionState", "Tx", "UnitState", "apply_trade"]


@dataclass(slots=True)
class PositionState:
    """A position: signed ``size`` (asset base units) and signed cost basis ``entry`` (quote
    base units, the notional it was opened for; negative for a short)."""

    size: int = 0
    entry: int = 0

    def copy(self) -> PositionState:
        return PositionState(self.size, self.entry)


@dataclass(slots=True)
class UnitState:
    """A margin account: ``collateral`` (quote base units, may go negative after losses),
    positions by market, and the end of a staged liquidation's cooldown (unix s)."""

    owner: str
    isolated_market: str | None
    collateral: int = 0
    positions: dict[str, PositionState] = field(default_factory=dict)
    cooldown_until: int = 0

    def copy(self) -> UnitState:
        return UnitState(self.owner, self.isolated_market, self.collateral,
                         {m: p.copy() for m, p in self.positions.items()}, self.cooldown_until)


def apply_trade(unit: UnitState, market: str, delta: int, notional: int) -> int:
    """Move ``delta`` (signed asset base units) into ``unit``'s position in ``market`` for
    ``notional`` quote base units (paid by the buyer, received by the seller).

    Reducing a position realises PnL into collateral against the pro-rata part of ``entry``
    (``entry * closed / |size|`` truncated toward zero; all of it on a full close). A trade that
    flips the position splits ``notional`` between the closing part (rounded down) and the
    opening part. Returns the PnL realised (quote base units, signed).
    """
    if delta == 0:
        raise PerpError(ZERO_SIZE, f"trade in {market}")
    if notional < 0:
        raise ValueError(f"notional must be >= 0, got {notional}")
    pos = unit.positions.get(market)
    if pos is None:
        pos = unit.positions[market] = PositionState()
    direction = sign(delta)
    realized = 0
    if pos.size == 0 or sign(pos.size) == direction:
        pos.size += delta
        pos.entry += direction * notional
    else:
        held = abs(pos.size)
        closing = min(abs(delta), held)
        n_close = notional if closing == abs(delta) else mul_div_floor(notional, closing, abs(delta))
        portion = pos.entry if closing == held else mul_div_toward_zero(pos.entry, closing, held)
        realized = -direction * n_close - portion
        unit.collateral += realized
        pos.entry -= portion
        pos.size += direction * closing
        rest = abs(delta) - closing
        if rest:
            pos.size += direction * rest
            pos.entry += direction * (notional - n_close)
    if pos.size == 0:
        del unit.positions[market]
    return realized


class Tx:
    """One action's view of the exchange: copy-on-write accounts, fund delta, planned swaps."""

    __slots__ = ("ex", "fund_delta", "swaps", "units")

    def __init__(self, ex: PerpExchange) -> None:
        self.ex = ex
        self.units: dict[str, UnitState] = {}
        self.fund_delta = 0
        self.swaps: list[tuple[Any, str, int]] = []

    def unit(self, key: str) -> UnitState:
        """Writable copy of account ``key`` (the same object for the rest of the action)."""
        u = self.units.get(key)
        if u is None:
            u = self.units[key] = self.ex._units[key].copy()
        return u

    def unit_ro(self, key: str) -> UnitState:
        """Current state of account ``key``, not to be mutated."""
        u = self.units.get(key)
        return self.ex._units[key] if u is None else u

    def fund_balance(self) -> int:
        """Insurance fund balance as it would be now (quote base units)."""
        return self.ex.fund_balance() + self.fund_delta

    def swap(self, pool: Any, token_in: str, amount_in: int) -> None:
        """Plan the vault's sale of ``amount_in`` of ``token_in`` into ``pool`` (checked by the
        caller: the vault holds it and the output is positive)."""
        self.swaps.append((pool, token_in, amount_in))

    def commit(self, block: int, now: int) -> list[SwapExecuted]:
        """Execute the planned swaps, move the fund's net change, write the accounts back."""
        ex = self.ex
        out: list[SwapExecuted] = []
        for pool, token_in, amount_in in self.swaps:
            record = pool.swap_exact_in(block, now, ex.vault_address, token_in, amount_in, 0)
            if record is None:  # pragma: no cover - the plan checked the output
                raise RuntimeError(f"{pool.name}: planned vault swap failed")
            out.append(record)
        if self.fund_delta > 0:
            ex.ledger.transfer(ex.quote, ex.address, ex.fund_address, self.fund_delta)
        elif self.fund_delta < 0:
            ex.ledger.transfer(ex.quote, ex.fund_address, ex.address, -self.fund_delta)
        ex._write(self.units)
        return out
