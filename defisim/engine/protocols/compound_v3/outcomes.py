"""Values the Comet model returns: absorb and buy results, and the frozen snapshot.

Units: base amounts in base-token base units (signed where the contract's are), collateral in
its own base units, USD values 8 decimals (``mulPrice``, rounded down), health factors WAD
(``2**256 - 1`` without debt), gas spend in wei.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.protocols.compound_v3.types import LiquidatorPoints, TotalsBasic

__all__ = [
    "AbsorbResult",
    "AbsorbedAccount",
    "AccountSnapshot",
    "BuyResult",
    "CometSnapshot",
    "SeizedCollateral",
]


@dataclass(frozen=True, slots=True)
class SeizedCollateral:
    """One ``AbsorbCollateral`` event: ``amount`` of ``asset`` taken, worth ``value_usd``
    (``mulPrice`` at the feed price, before the liquidation factor)."""

    asset: str
    amount: int
    value_usd: int


@dataclass(frozen=True, slots=True)
class AbsorbedAccount:
    """What ``absorbInternal`` did to one account, plus defisim's reserve accounting.

    Contract quantities: ``old_principal``/``new_principal`` (signed), ``old_balance``
    (``presentValue(oldPrincipal)``, negative for a borrower), ``collateral`` (the
    ``AbsorbCollateral`` events), ``delta_value`` (``Σ mulFactor(value, liquidationFactor)``,
    USD 1e8), ``delta_balance`` (``divPrice(deltaValue, basePrice, baseScale)``),
    ``base_paid_out`` and ``value_of_base_paid_out`` (the ``AbsorbDebt`` event),
    ``repay_amount``/``supply_amount`` (principal moved in the totals), ``base_price``.

    defisim's accounting (documented, not contract state): ``debt_absorbed = -old_balance``;
    ``collateral_value_base = divPrice(Σ value, basePrice, baseScale)`` (collateral at the
    feed price, no liquidation factor); ``shortfall = max(0, debt_absorbed -
    collateral_value_base)``: debt the collateral does not cover, the loss the reserves
    absorb. ``reserve_equity_before`` is ``getReserves()`` plus the collateral the protocol
    already held (``getCollateralReserves``) valued at the feeds, before this account;
    ``reserves_drawn = min(shortfall, max(reserve_equity_before, 0))`` is the part the
    reserves (Comet's insurance fund) cover and ``uncovered = shortfall - reserves_drawn``
    the part that leaves suppliers under-backed. ``reserves_before``/``reserves_after``:
    ``getReserves()`` around this account. ``health_before``: WAD health at the liquidate
    collateral factors.
    """

    account: str
    old_principal: int
    new_principal: int
    old_balance: int
    collateral: tuple[SeizedCollateral, ...]
    delta_value: int
    delta_balance: int
    base_paid_out: int
    value_of_base_paid_out: int
    repay_amount: int
    supply_amount: int
    base_price: int
    debt_absorbed: int
    debt_absorbed_usd: int
    collateral_value_usd: int
    collateral_value_base: int
    shortfall: int
    shortfall_usd: int
    reserve_equity_before: int
    reserves_drawn: int
    uncovered: int
    reserves_before: int
    reserves_after: int
    health_before: int


@dataclass(frozen=True, slots=True)
class AbsorbResult:
    """One ``absorb(absorber, accounts)`` call: each account's outcome in order, the
    absorber's points after the call, and the ``gas_used``/``base_fee`` they were charged."""

    absorber: str
    accounts: tuple[AbsorbedAccount, ...]
    points: LiquidatorPoints
    gas_used: int
    base_fee: int


@dataclass(frozen=True, slots=True)
class BuyResult:
    """One ``buyCollateral``: ``base_amount`` paid (``doTransferIn``'s received amount),
    ``collateral_amount`` (``quoteCollateral``) sent to ``recipient``; ``reserves_before``
    is the ``getReserves()`` the sale was allowed on (below ``targetReserves``)."""

    buyer: str
    asset: str
    base_amount: int
    collateral_amount: int
    recipient: str
    reserves_before: int


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """One non-empty account: ``userBasic`` fields and its non-zero collateral balances
    (sorted by asset)."""

    account: str
    principal: int
    base_tracking_index: int
    base_tracking_accrued: int
    assets_in: int
    collateral: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CometSnapshot:
    """Frozen, ``==``-comparable state of a Comet at ``timestamp``.

    Stored values (``totalsBasic``, ``totalsCollateral``, ``userBasic``, ``userCollateral``,
    ``liquidatorPoints``), not accrued to ``timestamp``. Collateral totals in asset order,
    accounts and points sorted by name.
    """

    name: str
    timestamp: int
    totals: TotalsBasic
    collateral_totals: tuple[tuple[str, int], ...]
    accounts: tuple[AccountSnapshot, ...]
    liquidator_points: tuple[tuple[str, LiquidatorPoints], ...]
