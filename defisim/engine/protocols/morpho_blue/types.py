"""Morpho Blue's storage structs as frozen values: ``MarketParams``, ``Market``, ``Position``.

Field names are the contract's, in snake_case; units: token base units (assets, collateral),
plain ints (shares), unix seconds (``last_update``), WAD (``fee``, ``lltv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from defisim.engine.protocols.morpho_blue.irm import AnyIrm

__all__ = ["Market", "MarketParams", "Position", "PriceOracle"]


class PriceOracle(Protocol):
    """``IOracle``: ``price()`` of one collateral base unit in loan base units, times 1e36."""

    def price(self) -> int:
        """The price, scaled by ``ORACLE_PRICE_SCALE`` (1e36)."""
        ...


@dataclass(frozen=True, slots=True)
class MarketParams:
    """``MarketParams``: what identifies a market.

    On chain the market id is ``keccak256(abi.encode(marketParams))``; in the simulator a
    market is identified by ``name``. ``loan_token`` and ``collateral_token`` are ledger token
    symbols; ``oracle`` has ``price()`` (1e36 scale); ``irm`` is ``None`` for ``address(0)``
    (no interest), a stateless :class:`~defisim.engine.protocols.morpho_blue.irm.Irm` or a
    stateful one (``AdaptiveCurveIrm``, whose storage is keyed by ``name``); ``lltv`` is WAD
    (``0.86e18``).
    """

    name: str
    loan_token: str
    collateral_token: str
    oracle: PriceOracle
    irm: AnyIrm | None
    lltv: int


@dataclass(frozen=True, slots=True)
class Market:
    """``Market`` as ``Morpho.market(id)`` returns it (stored, not accrued to now).

    Assets in loan-token base units; ``last_update`` unix seconds; ``fee`` WAD share of
    interest paid to ``feeRecipient`` as supply shares.
    """

    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int


@dataclass(frozen=True, slots=True)
class Position:
    """``Position`` as ``Morpho.position(id, user)`` returns it.

    ``collateral`` in collateral-token base units; shares plain ints.
    """

    supply_shares: int
    borrow_shares: int
    collateral: int
