"""Reserve state and its lazy accrual: indexes, rates, treasury accrual (exact ints).

Mirrors, for one reserve:

* ``ReserveLogic.cache`` / ``updateState`` / ``_updateIndexes`` / ``_accrueToTreasury``,
* ``ReserveLogic.updateInterestRatesAndVirtualBalance``,
* ``ReserveLogic.getNormalizedIncome`` / ``getNormalizedDebt`` (the view-side indexes),
* ``DefaultReserveInterestRateStrategyV2.calculateInterestRates``,
* ``TokenMath`` (scaled-amount conversions with directed rounding, Aave 3.5+).

Units: indexes and rates are RAY; scaled balances are "scaled base units" (base units divided
by the index); ``virtual_underlying_balance`` and ``deficit`` are token base units;
``accrued_to_treasury`` is a *scaled* aToken amount (as in the contract); timestamps are unix
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.engine.fixedpoint import (
    PERCENTAGE_FACTOR,
    RAY,
    compounded_interest,
    linear_interest,
    percent_mul,
    ray_div,
    ray_div_ceil,
    ray_div_floor,
    ray_mul,
    ray_mul_ceil,
    ray_mul_floor,
)
from defisim.engine.protocols.aave_v3.config import ReserveConfig

__all__ = [
    "ReserveState",
    "ReserveCache",
    "calculate_interest_rates",
    "a_mint_scaled",
    "a_burn_scaled",
    "a_transfer_scaled",
    "a_balance",
    "v_mint_scaled",
    "v_burn_scaled",
    "v_balance",
]


# --- TokenMath: scaled amounts with directed rounding ---------------------------------------

def a_mint_scaled(amount: int, liquidity_index: int) -> int:
    """Scaled aTokens minted for ``amount`` supplied: floor (``getATokenMintScaledAmount``)."""
    return ray_div_floor(amount, liquidity_index)


def a_burn_scaled(amount: int, liquidity_index: int) -> int:
    """Scaled aTokens burned to withdraw ``amount``: ceil (``getATokenBurnScaledAmount``)."""
    return ray_div_ceil(amount, liquidity_index)


def a_transfer_scaled(amount: int, liquidity_index: int) -> int:
    """Scaled aTokens moved by a transfer of ``amount``: ceil (``getATokenTransferScaledAmount``)."""
    return ray_div_ceil(amount, liquidity_index)


def a_balance(scaled: int, liquidity_index: int) -> int:
    """aToken balance (base units) of a scaled balance: floor (``getATokenBalance``)."""
    return ray_mul_floor(scaled, liquidity_index)


def v_mint_scaled(amount: int, borrow_index: int) -> int:
    """Scaled debt minted for ``amount`` borrowed: ceil (``getVTokenMintScaledAmount``)."""
    return ray_div_ceil(amount, borrow_index)


def v_burn_scaled(amount: int, borrow_index: int) -> int:
    """Scaled debt burned for ``amount`` repaid: floor (``getVTokenBurnScaledAmount``)."""
    return ray_div_floor(amount, borrow_index)


def v_balance(scaled: int, borrow_index: int) -> int:
    """Debt (base units) of a scaled debt balance: ceil (``getVTokenBalance``)."""
    return ray_mul_ceil(scaled, borrow_index)


# --- reserve state ----------------------------------------------------------------------------

class ReserveState:
    """Mutable storage of one reserve (``DataTypes.ReserveData`` plus token totals).

    ``scaled_total_supply`` / ``scaled_total_debt`` are the aToken / variable-debt-token
    ``scaledTotalSupply`` (scaled units). ``accrued_to_treasury`` is scaled aTokens owed to the
    treasury but not yet minted.
    """

    __slots__ = (
        "asset",
        "id",
        "config",
        "liquidity_index",
        "variable_borrow_index",
        "current_liquidity_rate",
        "current_variable_borrow_rate",
        "last_update_timestamp",
        "scaled_total_supply",
        "scaled_total_debt",
        "virtual_underlying_balance",
        "accrued_to_treasury",
        "deficit",
    )

    def __init__(self, asset: str, reserve_id: int, config: ReserveConfig, now: int) -> None:
        """A freshly initialised reserve (``ReserveLogic.init``): both indexes at RAY."""
        self.asset = asset
        self.id = reserve_id
        self.config = config
        self.liquidity_index = RAY
        self.variable_borrow_index = RAY
        self.current_liquidity_rate = 0
        self.current_variable_borrow_rate = 0
        self.last_update_timestamp = now
        self.scaled_total_supply = 0
        self.scaled_total_debt = 0
        self.virtual_underlying_balance = 0
        self.accrued_to_treasury = 0
        self.deficit = 0

    def copy(self) -> ReserveState:
        """A shallow copy (all fields are ints or immutable), for pure previews."""
        cls = type(self)
        new = cls.__new__(cls)
        new.asset, new.id, new.config = self.asset, self.id, self.config
        new.liquidity_index = self.liquidity_index
        new.variable_borrow_index = self.variable_borrow_index
        new.current_liquidity_rate = self.current_liquidity_rate
        new.current_variable_borrow_rate = self.current_variable_borrow_rate
        new.last_update_timestamp = self.last_update_timestamp
        new.scaled_total_supply = self.scaled_total_supply
        new.scaled_total_debt = self.scaled_total_debt
        new.virtual_underlying_balance = self.virtual_underlying_balance
        new.accrued_to_treasury = self.accrued_to_treasury
        new.deficit = self.deficit
        return new

    # --- views --------------------------------------------------------------------------

    def normalized_income(self, now: int) -> int:
        """Liquidity index at ``now`` without writing it (``getNormalizedIncome``), RAY."""
        if now == self.last_update_timestamp:
            return self.liquidity_index
        return ray_mul(
            linear_interest(self.current_liquidity_rate, self.last_update_timestamp, now),
            self.liquidity_index,
        )

    def normalized_debt(self, now: int) -> int:
        """Variable borrow index at ``now`` without writing it (``getNormalizedDebt``), RAY."""
        if now == self.last_update_timestamp:
            return self.variable_borrow_index
        return ray_mul(
            compounded_interest(self.current_variable_borrow_rate, self.last_update_timestamp, now),
            self.variable_borrow_index,
        )

    # --- state transitions --------------------------------------------------------------

    def cache(self) -> ReserveCache:
        """Snapshot the fields the logic libraries read (``ReserveLogic.cache``)."""
        return ReserveCache(
            reserve_factor=self.config.reserve_factor,
            curr_liquidity_index=self.liquidity_index,
            next_liquidity_index=self.liquidity_index,
            curr_variable_borrow_index=self.variable_borrow_index,
            next_variable_borrow_index=self.variable_borrow_index,
            curr_liquidity_rate=self.current_liquidity_rate,
            curr_variable_borrow_rate=self.current_variable_borrow_rate,
            last_update_timestamp=self.last_update_timestamp,
            curr_scaled_variable_debt=self.scaled_total_debt,
            next_scaled_variable_debt=self.scaled_total_debt,
        )

    def update_state(self, cache: ReserveCache, now: int) -> None:
        """Accrue indexes and treasury share up to ``now`` (``ReserveLogic.updateState``).

        No-op when ``cache.last_update_timestamp == now``. Note that the check reads the
        *cache*, as the contract does: two caches of the same reserve taken before the first
        update both accrue (this matters only for same-asset liquidations, see ``pool.py``).
        """
        if now < cache.last_update_timestamp:
            raise ValueError(
                f"time went backwards for reserve {self.asset}: {now} < {cache.last_update_timestamp}"
            )
        if cache.last_update_timestamp == now:
            return
        self._update_indexes(cache, now)
        self._accrue_to_treasury(cache)
        self.last_update_timestamp = now
        cache.last_update_timestamp = now

    def _update_indexes(self, cache: ReserveCache, now: int) -> None:
        """``ReserveLogic._updateIndexes``: linear supply index, compounded borrow index."""
        if cache.curr_liquidity_rate != 0:
            growth = linear_interest(cache.curr_liquidity_rate, cache.last_update_timestamp, now)
            cache.next_liquidity_index = ray_mul(growth, cache.curr_liquidity_index)
            self.liquidity_index = cache.next_liquidity_index
        if cache.curr_scaled_variable_debt != 0:
            growth = compounded_interest(
                cache.curr_variable_borrow_rate, cache.last_update_timestamp, now
            )
            cache.next_variable_borrow_index = ray_mul(growth, cache.curr_variable_borrow_index)
            self.variable_borrow_index = cache.next_variable_borrow_index

    def _accrue_to_treasury(self, cache: ReserveCache) -> None:
        """``ReserveLogic._accrueToTreasury``: reserve-factor share of accrued debt interest.

        ``accrued = rayMulFloor(currScaledDebt, nextBorrowIndex - currBorrowIndex)``;
        ``toMint = percentMul(accrued, reserveFactor)``; stored scaled with
        ``rayDivFloor(toMint, nextLiquidityIndex)``.
        """
        if cache.reserve_factor == 0:
            return
        accrued = ray_mul_floor(
            cache.curr_scaled_variable_debt,
            cache.next_variable_borrow_index - cache.curr_variable_borrow_index,
        )
        to_mint = percent_mul(accrued, cache.reserve_factor)
        if to_mint != 0:
            self.accrued_to_treasury += a_mint_scaled(to_mint, cache.next_liquidity_index)

    def update_interest_rates_and_virtual_balance(
        self, cache: ReserveCache, liquidity_added: int, liquidity_taken: int
    ) -> None:
        """New rates after an action, then move the virtual balance (base units).

        Mirrors ``ReserveLogic.updateInterestRatesAndVirtualBalance``: total debt is
        ``rayMulCeil(nextScaledDebt, nextBorrowIndex)``; the deficit enters the strategy as
        ``unbacked``. Raises :class:`ArithmeticError` where the contract would underflow.
        """
        total_debt = v_balance(cache.next_scaled_variable_debt, cache.next_variable_borrow_index)
        liq_rate, var_rate = calculate_interest_rates(
            self.config,
            unbacked=self.deficit,
            liquidity_added=liquidity_added,
            liquidity_taken=liquidity_taken,
            total_debt=total_debt,
            virtual_underlying_balance=self.virtual_underlying_balance,
        )
        new_virtual = self.virtual_underlying_balance + liquidity_added - liquidity_taken
        if new_virtual < 0:
            raise ArithmeticError(
                f"virtual balance of {self.asset} would go negative ({new_virtual})"
            )
        self.current_liquidity_rate = liq_rate
        self.current_variable_borrow_rate = var_rate
        self.virtual_underlying_balance = new_virtual


@dataclass(slots=True)
class ReserveCache:
    """``DataTypes.ReserveCache``: the working copy of a reserve during one action."""

    reserve_factor: int
    curr_liquidity_index: int
    next_liquidity_index: int
    curr_variable_borrow_index: int
    next_variable_borrow_index: int
    curr_liquidity_rate: int
    curr_variable_borrow_rate: int
    last_update_timestamp: int
    curr_scaled_variable_debt: int
    next_scaled_variable_debt: int


def calculate_interest_rates(
    config: ReserveConfig,
    *,
    unbacked: int,
    liquidity_added: int,
    liquidity_taken: int,
    total_debt: int,
    virtual_underlying_balance: int,
) -> tuple[int, int]:
    """(liquidity rate, variable borrow rate), both yearly RAY.

    Mirrors ``DefaultReserveInterestRateStrategyV2.calculateInterestRates`` with
    ``usingVirtualBalance``:

    * no debt: ``(0, base)``;
    * ``available = virtual + added - taken`` (reverts on underflow);
    * ``borrowUsage = rayDiv(debt, available + debt)``,
      ``supplyUsage = rayDiv(debt, available + debt + unbacked)``;
    * above the kink: ``base + slope1 + rayMul(slope2, rayDiv(usage - opt, RAY - opt))``,
      else ``base + rayDiv(rayMul(slope1, usage), opt)``;
    * ``liquidityRate = percentMul(rayMul(varRate, supplyUsage), 1e4 - reserveFactor)``.
    """
    var_rate = config.base_variable_borrow_rate
    if total_debt == 0:
        return 0, var_rate
    available = virtual_underlying_balance + liquidity_added - liquidity_taken
    if available < 0:
        raise ArithmeticError("available liquidity underflow in calculateInterestRates")
    available_plus_debt = available + total_debt
    borrow_usage = ray_div(total_debt, available_plus_debt)
    supply_usage = ray_div(total_debt, available_plus_debt + unbacked)
    opt = config.optimal_usage_ratio
    if borrow_usage > opt:
        excess = ray_div(borrow_usage - opt, RAY - opt)
        var_rate += config.variable_rate_slope1 + ray_mul(config.variable_rate_slope2, excess)
    else:
        var_rate += ray_div(ray_mul(config.variable_rate_slope1, borrow_usage), opt)
    liq_rate = percent_mul(
        ray_mul(var_rate, supply_usage), PERCENTAGE_FACTOR - config.reserve_factor
    )
    return liq_rate, var_rate
