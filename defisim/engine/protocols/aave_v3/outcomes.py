"""Values the Aave pool returns: errors, account data, liquidation outcomes and snapshots.

Units as in :mod:`~defisim.engine.protocols.aave_v3.pool`: token amounts in base units,
"base" values USD with 8 decimals, health factors WAD, percentages bps.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.errors import DefisimError


class AaveError(DefisimError, ValueError):
    """An action the contract would revert. ``reason`` is the Aave error name.

    Aave 3.6 uses custom errors (``HealthFactorNotBelowThreshold()``); ``reason`` is that
    name in SCREAMING_SNAKE_CASE (``HEALTH_FACTOR_NOT_BELOW_THRESHOLD``); Aave 3.0 reverts with
    numeric strings (``'45'``), and ``reason`` is the name of that ``Errors`` constant. Solidity arithmetic
    panics (e.g. a withdrawal larger than the pool's cash) are ``ARITHMETIC_UNDERFLOW``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AccountData:
    """``GenericLogic.calculateUserAccountData`` output.

    ``total_collateral_base``/``total_debt_base``: USD 8 dp; ``avg_ltv`` and
    ``avg_liquidation_threshold``: bps; ``health_factor``: WAD (``MAX_AMOUNT`` with no debt).
    """

    total_collateral_base: int
    total_debt_base: int
    avg_ltv: int
    avg_liquidation_threshold: int
    health_factor: int
    has_zero_ltv_collateral: bool


@dataclass(frozen=True, slots=True)
class LiquidationOutcome:
    """A liquidation that succeeds (or would, for a preview). Amounts in token base units.

    ``debt_repaid``: debt-token units paid by the liquidator; ``collateral_seized``:
    collateral-token units the liquidator receives (underlying); ``protocol_fee``:
    collateral-token units moved as aTokens to the treasury; ``health_before/after``: WAD;
    ``deficits``: ``(asset, debt-token units)`` newly booked as reserve deficit (bad debt);
    ``*_usd``: USD 8 dp at the oracle prices used (rounded down); ``max_liquidatable_debt``:
    the close-factor cap in debt-token units. ``unbacked_debt``: ``(asset, debt-token units)``
    still owed by a borrower left with no collateral at all after this liquidation and *not*
    written off (Aave 3.0 has no deficit accounting; always empty in 3.6, where such debt is
    booked in ``deficits``).
    """

    collateral_asset: str
    debt_asset: str
    user: str
    debt_repaid: int
    collateral_seized: int
    protocol_fee: int
    health_before: int
    health_after: int
    deficits: tuple[tuple[str, int], ...]
    deficits_usd: tuple[tuple[str, int], ...]
    debt_repaid_usd: int
    collateral_seized_usd: int
    collateral_price: int
    debt_price: int
    max_liquidatable_debt: int
    collateral_disabled: bool
    unbacked_debt: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class LiquidationRefusal:
    """A liquidation the contract would revert; ``reason`` is the Aave error name."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReserveSnapshot:
    """Stored state of one reserve (as ``getReserveData`` returns it) plus totals.

    Indexes and rates RAY; scaled totals in scaled units; ``virtual_underlying_balance`` and
    ``deficit`` base units; ``accrued_to_treasury`` scaled aTokens; timestamps unix seconds.
    """

    asset: str
    liquidity_index: int
    variable_borrow_index: int
    current_liquidity_rate: int
    current_variable_borrow_rate: int
    scaled_total_supply: int
    scaled_total_debt: int
    virtual_underlying_balance: int
    accrued_to_treasury: int
    deficit: int
    last_update_timestamp: int


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Scaled balances (non-zero only) and flags of one account, assets in reserve order."""

    account: str
    scaled_collateral: tuple[tuple[str, int], ...]
    scaled_debt: tuple[tuple[str, int], ...]
    collateral_enabled: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AaveSnapshot:
    """Frozen, ``==``-comparable state of the whole pool at ``timestamp``."""

    name: str
    timestamp: int
    reserves: tuple[ReserveSnapshot, ...]
    accounts: tuple[AccountSnapshot, ...]


@dataclass(frozen=True, slots=True)
class LiquidationQuote:
    """Amounts of a possible liquidation (see :meth:`AavePool.quote_liquidation`).

    ``debt_repaid`` in debt-token base units, ``collateral_seized`` (to the liquidator) in
    collateral-token base units, ``health_before`` WAD.
    """

    debt_repaid: int
    collateral_seized: int
    health_before: int
