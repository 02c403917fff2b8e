"""Interest-rate models: ``IIrm.borrowRate(marketParams, market)`` -> per-second rate (WAD).

``Morpho._accrueInterest`` calls the IRM with the market *as stored before the accrual*
(old totals, old ``lastUpdate``); :class:`~defisim.engine.protocols.morpho_blue.types.Market`
is that value.

* :class:`FixedRateIrm` (kind ``fixed``): a constant per-second rate (WAD).
* :class:`LinearUtilizationIrm` (kind ``linear-utilization``): ``mocks/IrmMock.sol`` exactly:
  0 on an empty market, else ``wDivDown(totalBorrowAssets, totalSupplyAssets) / 365 days``
  (x % utilisation is x % APR, not compounded).
* :class:`~defisim.engine.protocols.morpho_blue.adaptive_curve_irm.AdaptiveCurveIrm` (kind
  ``adaptive-curve``, its own module): Morpho's mainnet IRM. It stores a rate at target per
  market and reads ``block.timestamp``, so it is a :class:`StatefulIrm`: Morpho stages its
  storage write in the transaction (:meth:`StatefulIrm.stage_borrow_rate`) and the write
  lands only when the transaction commits, as a reverted call or a view (an accrual
  preview, a health factor) leaves the contract's storage untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeAlias

from defisim.engine.protocols.morpho_blue.constants import SECONDS_PER_YEAR
from defisim.engine.protocols.morpho_blue.mathlib import w_div_down
from defisim.engine.protocols.morpho_blue.types import Market, MarketParams

__all__ = ["AnyIrm", "FixedRateIrm", "Irm", "LinearUtilizationIrm", "StatefulIrm"]


class Irm(Protocol):
    """What ``Morpho`` needs from an IRM."""

    kind: ClassVar[str]

    def borrow_rate(self, params: MarketParams, market: Market) -> int:
        """Borrow rate per second (WAD) for the stored ``market`` (pre-accrual)."""
        ...


class StatefulIrm(Protocol):
    """An IRM with storage that reads ``block.timestamp`` (``now``, unix seconds).

    :meth:`borrow_rate` is ``IIrm.borrowRate`` (what Morpho calls; it updates the storage),
    :meth:`borrow_rate_view` is ``IIrm.borrowRateView``, and :meth:`stage_borrow_rate` is
    ``borrowRate`` with its storage write returned instead of done, for Morpho's transactions.
    """

    kind: ClassVar[str]

    def borrow_rate(self, params: MarketParams, market: Market, now: int) -> int:
        """``borrowRate``: per-second rate (WAD); updates the IRM's storage."""
        ...

    def borrow_rate_view(self, params: MarketParams, market: Market, now: int) -> int:
        """``borrowRateView``: the same rate; no storage change."""
        ...

    def stage_borrow_rate(self, params: MarketParams, market: Market, now: int) -> tuple[int, Callable[[], None]]:
        """``(rate, write)``: ``borrowRate``'s answer and its storage write, not yet done."""
        ...


AnyIrm: TypeAlias = Irm | StatefulIrm
"""What a market's ``irm`` may be (besides ``None``, ``address(0)``)."""


@dataclass(frozen=True, slots=True)
class FixedRateIrm:
    """A constant borrow rate: ``rate_per_second`` WAD (e.g. ``5e16 // 365 days`` for 5 % APR)."""

    rate_per_second: int
    kind: ClassVar[str] = "fixed"

    def __post_init__(self) -> None:
        if type(self.rate_per_second) is not int or self.rate_per_second < 0:
            raise ValueError(f"rate_per_second ({self.rate_per_second!r}) must be a non-negative int (WAD)")

    def borrow_rate(self, params: MarketParams, market: Market) -> int:
        """``rate_per_second``, whatever the market state."""
        return self.rate_per_second


@dataclass(frozen=True, slots=True)
class LinearUtilizationIrm:
    """``IrmMock.borrowRateView``: utilisation (WAD, rounded down) divided by 365 days."""

    kind: ClassVar[str] = "linear-utilization"

    def borrow_rate(self, params: MarketParams, market: Market) -> int:
        """0 if ``totalSupplyAssets == 0``; else ``tBA.wDivDown(tSA) / 365 days`` (truncating)."""
        if market.total_supply_assets == 0:
            return 0
        utilization = w_div_down(market.total_borrow_assets, market.total_supply_assets)
        return utilization // SECONDS_PER_YEAR
