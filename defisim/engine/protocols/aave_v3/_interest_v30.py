"""Aave 3.0 reserve accrual and rates (``@aave/core-v3@1.19.3``), exact ints.

What differs from 3.6 (``interest.py``), function by function:

* ``MathUtils.calculateCompoundedInterest``: 3.0 expands in ``exp`` with per-second powers
  (``basePowerTwo = rayMul(rate, rate) / SPY²``, ``basePowerThree = rayMul(basePowerTwo, rate)
  / SPY``); 3.6 expands in ``x = rate * exp / SPY``. Different integers for any ``exp > 1``.
  ``calculateLinearInterest`` is the same in both.
* ``ReserveLogic.updateState``: skips when the *stored* ``lastUpdateTimestamp`` is now (3.6
  reads the cache's copy).
* ``ReserveLogic._accrueToTreasury``: ``rayMul(scaled, nextIdx) - rayMul(scaled, currIdx)``
  (half up), ``percentMul``, stored as ``rayDiv(toMint, nextLiquidityIndex)`` (half up).
* ``ReserveLogic.updateInterestRates``: total variable debt ``rayMul(nextScaled, nextIdx)``;
  ``DefaultReserveInterestRateStrategy`` (v1) reads the aToken's *actual* underlying
  balance; no virtual balance exists in 3.0.
* ``ScaledBalanceTokenBase``: every scaled conversion is half-up ``rayDiv``/``rayMul``.

Units as in ``interest.py``: indexes and rates RAY, amounts base units, scaled amounts scaled
units. ``virtual_underlying_balance`` of a 3.0 reserve is kept equal to the aToken's
underlying balance (cash) after each action: what a 3.0 chain read of ``balanceOf(aToken)``
returns, and what the pool's invariant check compares with the ledger.
"""

from __future__ import annotations

from defisim.engine.fixedpoint import (
    PERCENTAGE_FACTOR,
    RAY,
    SECONDS_PER_YEAR,
    UINT256_MAX,
    FixedPointOverflow,
    linear_interest,
    percent_mul,
    ray_div,
    ray_mul,
    wad_to_ray,
)
from defisim.engine.protocols.aave_v3.config import ReserveConfig
from defisim.engine.protocols.aave_v3.interest import ReserveCache, ReserveState

__all__ = [
    "ReserveStateV30",
    "calculate_interest_rates_v30",
    "compounded_interest_v30",
]

_SPY2 = SECONDS_PER_YEAR * SECONDS_PER_YEAR


def _checked(value: int) -> int:
    """A checked ``uint256`` result (the 0.8 compiler reverts on overflow)."""
    if value > UINT256_MAX:
        raise FixedPointOverflow(f"{value} overflows uint256")
    return value


def compounded_interest_v30(rate_ray: int, last_update: int, now: int) -> int:
    """Growth factor (RAY) of ``MathUtils.calculateCompoundedInterest`` in Aave 3.0.

    ``exp = now - last``; ``RAY`` if 0; else with ``bp2 = rayMul(rate, rate) / SPY²`` and
    ``bp3 = rayMul(bp2, rate) / SPY`` (truncating)::

        RAY + rate * exp / SPY + exp * (exp - 1) * bp2 / 2 + exp * (exp - 1) * (exp - 2) * bp3 / 6

    with ``exp - 2`` taken as 0 when ``exp <= 2``. Products are checked as in the contract.
    """
    exp = now - last_update
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    base_power_two = ray_mul(rate_ray, rate_ray) // _SPY2
    base_power_three = ray_mul(base_power_two, rate_ray) // SECONDS_PER_YEAR
    second_term = _checked(exp * exp_minus_one * base_power_two) // 2
    third_term = _checked(exp * exp_minus_one * exp_minus_two * base_power_three) // 6
    return _checked(RAY + _checked(rate_ray * exp) // SECONDS_PER_YEAR + second_term + third_term)


def calculate_interest_rates_v30(
    config: ReserveConfig,
    *,
    liquidity_added: int,
    liquidity_taken: int,
    total_variable_debt: int,
    underlying_balance: int,
    unbacked: int = 0,
) -> tuple[int, int]:
    """(liquidity rate, variable borrow rate), yearly RAY, of the 3.0 v1 strategy.

    Mirrors ``DefaultReserveInterestRateStrategy.calculateInterestRates`` with no stable debt
    (stable borrowing disabled: ``totalStableDebt = averageStableBorrowRate = 0``, so the
    stable-rate parameters change neither rate):

    * with debt: ``available = balanceOf(aToken) + added - taken`` (reverts on underflow),
      ``borrowUsage = rayDiv(debt, available + debt)``, ``supplyUsage`` the same plus
      ``unbacked`` in the denominator; no debt: both usages 0 and nothing is read;
    * above the kink ``base + slope1 + rayMul(slope2, rayDiv(usage - opt, RAY - opt))``,
      else ``base + rayDiv(rayMul(slope1, usage), opt)`` (also at zero usage, so
      ``opt == 0`` reverts);
    * ``overall = rayDiv(rayMul(wadToRay(debt), varRate), wadToRay(debt))`` (0 with no debt;
      *not* always ``varRate``: it rounds twice), then
      ``liquidityRate = percentMul(rayMul(overall, supplyUsage), 1e4 - reserveFactor)``.
    """
    var_rate = config.base_variable_borrow_rate
    total_debt = total_variable_debt
    borrow_usage = supply_usage = 0
    if total_debt != 0:
        available = underlying_balance + liquidity_added - liquidity_taken
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
    if total_debt == 0:
        overall = 0
    else:
        debt_ray = wad_to_ray(total_debt)
        overall = ray_div(ray_mul(wad_to_ray(total_variable_debt), var_rate), debt_ray)
    liq_rate = percent_mul(ray_mul(overall, supply_usage), PERCENTAGE_FACTOR - config.reserve_factor)
    return liq_rate, var_rate


class ReserveStateV30(ReserveState):
    """A reserve under Aave 3.0 rules (see the module docstring for each difference)."""

    __slots__ = ()

    def normalized_debt(self, now: int) -> int:
        """``ReserveLogic.getNormalizedDebt`` with 3.0's compounded interest, RAY."""
        if now == self.last_update_timestamp:
            return self.variable_borrow_index
        return ray_mul(
            compounded_interest_v30(self.current_variable_borrow_rate, self.last_update_timestamp, now),
            self.variable_borrow_index,
        )

    def update_state(self, cache: ReserveCache, now: int) -> None:
        """``ReserveLogic.updateState`` (3.0): no-op when the *stored* timestamp is ``now``."""
        if now < self.last_update_timestamp:
            raise ValueError(
                f"time went backwards for reserve {self.asset}: {now} < {self.last_update_timestamp}"
            )
        if self.last_update_timestamp == now:
            return
        self._update_indexes(cache, now)
        self._accrue_to_treasury(cache)
        self.last_update_timestamp = now
        cache.last_update_timestamp = now

    def _update_indexes(self, cache: ReserveCache, now: int) -> None:
        """``ReserveLogic._updateIndexes`` (3.0): linear supply index, 3.0 compounded borrow index."""
        if cache.curr_liquidity_rate != 0:
            growth = linear_interest(cache.curr_liquidity_rate, cache.last_update_timestamp, now)
            cache.next_liquidity_index = ray_mul(growth, cache.curr_liquidity_index)
            self.liquidity_index = cache.next_liquidity_index
        if cache.curr_scaled_variable_debt != 0:
            growth = compounded_interest_v30(
                cache.curr_variable_borrow_rate, cache.last_update_timestamp, now
            )
            cache.next_variable_borrow_index = ray_mul(growth, cache.curr_variable_borrow_index)
            self.variable_borrow_index = cache.next_variable_borrow_index

    def _accrue_to_treasury(self, cache: ReserveCache) -> None:
        """``ReserveLogic._accrueToTreasury`` (3.0, no stable debt), all half up.

        ``accrued = rayMul(currScaledDebt, nextIdx) - rayMul(currScaledDebt, currIdx)``;
        ``toMint = percentMul(accrued, reserveFactor)``; stored scaled with
        ``rayDiv(toMint, nextLiquidityIndex)``.
        """
        if cache.reserve_factor == 0:
            return
        scaled = cache.curr_scaled_variable_debt
        accrued = ray_mul(scaled, cache.next_variable_borrow_index) - ray_mul(
            scaled, cache.curr_variable_borrow_index
        )
        to_mint = percent_mul(accrued, cache.reserve_factor)
        if to_mint != 0:
            self.accrued_to_treasury += ray_div(to_mint, cache.next_liquidity_index)

    def update_interest_rates_and_virtual_balance(
        self, cache: ReserveCache, liquidity_added: int, liquidity_taken: int
    ) -> None:
        """Not available in 3.0: rates need the aToken's balance (:meth:`update_interest_rates`)."""
        raise TypeError("Aave 3.0 reserves update rates with update_interest_rates(..., underlying_balance)")

    def update_interest_rates(
        self, cache: ReserveCache, liquidity_added: int, liquidity_taken: int, underlying_balance: int
    ) -> None:
        """``ReserveLogic.updateInterestRates`` (3.0); ``underlying_balance`` = ``balanceOf(aToken)`` now.

        Total variable debt is ``rayMul(nextScaledDebt, nextBorrowIndex)`` (half up); ``unbacked``
        is 0 (no bridges). Afterwards the cash mirror ``virtual_underlying_balance`` moves by
        ``added - taken`` (the transfer that follows in the same action). Raises
        :class:`ArithmeticError` where the contract would underflow.
        """
        total_debt = ray_mul(cache.next_scaled_variable_debt, cache.next_variable_borrow_index)
        liq_rate, var_rate = calculate_interest_rates_v30(
            self.config,
            liquidity_added=liquidity_added,
            liquidity_taken=liquidity_taken,
            total_variable_debt=total_debt,
            underlying_balance=underlying_balance,
        )
        new_cash = self.virtual_underlying_balance + liquidity_added - liquidity_taken
        if new_cash < 0:
            raise ArithmeticError(f"underlying balance of {self.asset} would go negative ({new_cash})")
        self.current_liquidity_rate = liq_rate
        self.current_variable_borrow_rate = var_rate
        self.virtual_underlying_balance = new_cash
