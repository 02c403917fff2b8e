"""Aave 3.0 rule set: :class:`AavePoolV30`, built by ``AavePool(..., version="3.0")``.

Mirrors ``@aave/core-v3@1.19.3`` (sources in ``node_modules/@aave/core-v3/contracts``). It
overrides only what differs from 3.6; storage, the copy-on-write overlay, snapshots, the
screen and the views are shared with :class:`~defisim.engine.protocols.aave_v3.pool.AavePool`.

==========================  =========================================================
``_supply``                 ``SupplyLogic.executeSupply`` + ``validateSupply``
``_withdraw``               ``SupplyLogic.executeWithdraw`` + ``validateWithdraw``
``_execute_borrow``         ``BorrowLogic.executeBorrow`` + ``validateBorrow`` (before mint)
``repay``                   ``BorrowLogic.executeRepay`` (underlying)
``_account_data``           ``GenericLogic.calculateUserAccountData``
``_liquidate``              ``LiquidationLogic.executeLiquidationCall`` (receiveAToken=false)
``collect_treasury``        ``PoolLogic.executeMintToTreasury`` + treasury withdraw
``eliminate_deficit``       no-op (3.0 has no deficit), returns 0
``socialize_deficit``       no-op, returns 0
==========================  =========================================================

Rounding: every scaled conversion is half-up (``ScaledBalanceTokenBase._mintScaled`` /
``_burnScaled`` / ``_transfer``: ``amount.rayDiv(index)``; ``balanceOf``:
``scaled.rayMul(index)``), with the token's checks (``INVALID_MINT_AMOUNT`` /
``INVALID_BURN_AMOUNT`` when the scaled amount is 0; a burn above the balance underflows).

Bad debt: when a liquidation takes a borrower's last collateral, the rest of the debt simply
stays on the account (no deficit, no ``_burnBadDebt``): ``LiquidationOutcome.deficits`` is
empty and ``LiquidationOutcome.unbacked_debt`` lists it; :meth:`AavePool.unbacked_debt`
sums it over the pool.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.fixedpoint import (
    PERCENTAGE_FACTOR,
    RAY,
    UINT256_MAX,
    mul_div_down,
    percent_div,
    percent_mul,
    ray_div,
    ray_mul,
    wad_div,
)
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3._interest_v30 import ReserveStateV30
from defisim.engine.protocols.aave_v3._overlay import Overlay
from defisim.engine.protocols.aave_v3._rules import rules_for
from defisim.engine.protocols.aave_v3._screen import margin_for_truncated_average
from defisim.engine.protocols.aave_v3.config import ReserveConfig
from defisim.engine.protocols.aave_v3.interest import ReserveCache, ReserveState
from defisim.engine.protocols.aave_v3.outcomes import (
    AaveError,
    AccountData,
    LiquidationOutcome,
)
from defisim.engine.protocols.aave_v3.pool import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    MAX_AMOUNT,
    AavePool,
    _LiqVars,
)

__all__ = ["AavePoolV30", "calculate_available_collateral_to_liquidate_v30"]


class AavePoolV30(AavePool):
    """An Aave 3.0 pool (see the module docstring); construct with ``AavePool(..., version="3.0")``.

    Every reserve's ``optimal_usage_ratio`` must be in ``(0, RAY]``: the v1 strategy's
    constructor requires ``<= RAY``, and at 0 every rate update divides by zero.
    """

    _reserve_state: type[ReserveState] = ReserveStateV30

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        reserves: dict[str, ReserveConfig],
        price: Callable[[str], int],
        treasury: str | None = None,
        created_at: int = 0,
        *,
        version: str = "3.0",
    ) -> None:
        self.rules = rules_for(version)
        if self.rules.version != "3.0":
            raise AaveError("UNSUPPORTED_VERSION", f"AavePoolV30 implements 3.0, not {version}")
        for asset, cfg in reserves.items():
            if not 0 < cfg.optimal_usage_ratio <= RAY:
                raise AaveError(
                    "INVALID_OPTIMAL_USAGE_RATIO",
                    f"{asset}: optimal_usage_ratio {cfg.optimal_usage_ratio} must be in (0, RAY]",
                )
        self._setup(name, ledger, reserves, price, treasury, created_at)
        lts = [c.liquidation_threshold for c in reserves.values() if c.liquidation_threshold > 0]
        self._screen_margin = margin_for_truncated_average(min(lts) if lts else 0)

    # --- rates: the aToken's actual underlying balance ---------------------------------------

    def _rates(self, tx: Overlay, r: ReserveState, cache: ReserveCache, added: int, taken: int) -> None:
        """``ReserveLogic.updateInterestRates`` with ``balanceOf(aToken)`` as of this point of ``tx``."""
        cash = tx.cash_of(r.asset, self.address)
        try:
            r.update_interest_rates(cache, added, taken, cash)  # type: ignore[attr-defined]
        except ArithmeticError as exc:
            raise AaveError("ARITHMETIC_UNDERFLOW", str(exc)) from exc

    # --- GenericLogic -------------------------------------------------------------------------

    def _account_data(self, tx: Overlay, now: int, user: str) -> AccountData:
        """``GenericLogic.calculateUserAccountData`` (3.0) over ``tx`` at ``now``.

        Per reserve in id order: collateral (only if ``LT != 0`` and enabled) is
        ``rayMul(scaled, normalizedIncome) * price / unit`` (floor); debt is
        ``rayMul(scaled, normalizedDebt) * price / unit`` (floor, not ceil). Averages
        ``Σ value_i * x_i / totalCollateral`` truncated, then
        ``HF = wadDiv(percentMul(totalCollateral, avgLT), totalDebt)``.
        """
        coll = tx.coll_ro(user)
        borrow = tx.borrow_ro(user)
        if not coll and not borrow:
            return AccountData(0, 0, 0, 0, UINT256_MAX, False)
        total_coll = total_debt = avg_ltv = avg_lt = 0
        zero_ltv = False
        for asset in self._order:
            is_coll = asset in coll
            is_borrow = asset in borrow
            if not (is_coll or is_borrow):
                continue
            r = tx.reserve_ro(asset)
            cfg = r.config
            price = self.price(asset)
            if is_coll and cfg.liquidation_threshold != 0:
                bal = ray_mul(tx.a_scaled(asset, user), r.normalized_income(now))
                value = mul_div_down(bal, price, cfg.unit)
                total_coll += value
                if cfg.ltv != 0:
                    avg_ltv += value * cfg.ltv
                else:
                    zero_ltv = True
                avg_lt += value * cfg.liquidation_threshold
            if is_borrow:
                scaled = tx.d_scaled(asset, user)
                debt = ray_mul(scaled, r.normalized_debt(now)) if scaled else 0
                total_debt += mul_div_down(debt, price, cfg.unit)
        if total_coll:
            avg_ltv //= total_coll
            avg_lt //= total_coll
        else:
            avg_ltv = avg_lt = 0
        hf = UINT256_MAX if total_debt == 0 else wad_div(percent_mul(total_coll, avg_lt), total_debt)
        return AccountData(total_coll, total_debt, avg_ltv, avg_lt, hf, zero_ltv)

    # --- supply / withdraw ------------------------------------------------------------------------

    def _supply(self, tx: Overlay, now: int, account: str, asset: str, amount: int) -> None:
        """``SupplyLogic.executeSupply`` (3.0): accrue, ``validateSupply`` (amount != 0), rates
        with ``amount`` added, transfer in, mint ``rayDiv(amount, index)`` scaled (0 reverts
        ``INVALID_MINT_AMOUNT``), enable collateral on the first supply if LTV != 0."""
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        self._rates(tx, r, cache, amount, 0)
        tx.transfer(asset, account, self.address, amount)
        first = tx.a_mint(asset, account, ray_div(amount, cache.next_liquidity_index))
        if first and r.config.ltv != 0:
            tx.coll_flags(account).add(asset)

    def _withdraw(self, tx: Overlay, now: int, account: str, asset: str, amount: int, to: str) -> int:
        """``SupplyLogic.executeWithdraw`` (3.0).

        ``userBalance = rayMul(scaled, index)``; ``MAX_AMOUNT`` withdraws it; ``validateWithdraw``
        (non-zero, ``<= userBalance``); rates with ``amount`` taken; the collateral flag is
        cleared iff ``amount == userBalance``; burn ``rayDiv(amount, index)``; then, if it was
        collateral and the user borrows, ``validateHFAndLtv``.
        """
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        user_balance = ray_mul(tx.a_scaled(asset, account), cache.next_liquidity_index)
        if amount == MAX_AMOUNT:
            amount = user_balance
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        if amount > user_balance:
            raise AaveError("NOT_ENOUGH_AVAILABLE_USER_BALANCE")
        self._rates(tx, r, cache, 0, amount)
        is_collateral = asset in tx.coll_ro(account)
        if is_collateral and amount == user_balance:
            tx.coll_flags(account).discard(asset)
        tx.a_burn(asset, account, ray_div(amount, cache.next_liquidity_index))
        tx.transfer(asset, self.address, to, amount)
        if is_collateral and tx.borrow_ro(account):
            self._validate_hf_and_ltv_zero(tx, now, account, asset)
        return amount

    # --- borrow / repay ------------------------------------------------------------------------------

    def _execute_borrow(self, tx: Overlay, now: int, account: str, asset: str, amount: int) -> None:
        """``BorrowLogic.executeBorrow`` (3.0, variable rate) inside ``tx``.

        ``validateBorrow`` runs *before* the mint, on the account as it is: amount != 0;
        collateral != 0 (``COLLATERAL_BALANCE_IS_ZERO``); avg LTV != 0; HF > 1 (strict);
        ``percentDiv(debtBase + price * amount / unit, avgLtv) <= collateralBase``. Then mint
        ``rayDiv(amount, borrowIndex)`` scaled, rates with ``amount`` taken (an underflow of
        the aToken's cash reverts), pay out. No health check after the borrow.
        """
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        data = self._account_data(tx, now, account)
        if data.total_collateral_base == 0:
            raise AaveError("COLLATERAL_BALANCE_IS_ZERO")
        if data.avg_ltv == 0:
            raise AaveError("LTV_VALIDATION_FAILED")
        if data.health_factor <= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise AaveError("HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD")
        amount_base = mul_div_down(self.price(asset), amount, r.config.unit)
        needed = percent_div(data.total_debt_base + amount_base, data.avg_ltv)
        if needed > data.total_collateral_base:
            raise AaveError("COLLATERAL_CANNOT_COVER_NEW_BORROW")
        cache.next_scaled_variable_debt = tx.v_mint(
            asset, account, ray_div(amount, cache.next_variable_borrow_index)
        )
        tx.borrow_flags(account).add(asset)
        self._rates(tx, r, cache, 0, amount)
        tx.transfer(asset, self.address, account, amount)

    def repay(self, now: int, account: str, asset: str, amount: int) -> int:
        """Repay up to ``amount`` (``MAX_AMOUNT`` = all) of ``account``'s debt; returns the payback.

        ``BorrowLogic.executeRepay`` (3.0, underlying): debt ``rayMul(scaled, index)``;
        ``validateRepay`` (amount != 0, then debt != 0); payback ``min(amount, debt)``; burn
        ``rayDiv(payback, index)``; rates with payback added; the borrowing flag is cleared
        iff ``debt - payback == 0``.
        """
        self._check_amount(amount)
        tx = Overlay(self)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        user_scaled = tx.d_scaled(asset, account)
        debt = ray_mul(user_scaled, cache.next_variable_borrow_index) if user_scaled else 0
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        if debt == 0:
            raise AaveError("NO_DEBT_OF_SELECTED_TYPE")
        payback = min(amount, debt)
        _, cache.next_scaled_variable_debt = tx.v_burn(
            asset, account, ray_div(payback, cache.next_variable_borrow_index)
        )
        self._rates(tx, r, cache, payback, 0)
        if debt - payback == 0:
            tx.borrow_flags(account).discard(asset)
        tx.transfer(asset, account, self.address, payback)
        tx.commit()
        return payback

    # --- liquidation ----------------------------------------------------------------------------

    def _size_liquidation(
        self,
        tx: Overlay,
        now: int,
        collateral_asset: str,
        debt_asset: str,
        user: str,
        debt_to_cover: int,
        stop_after_cap: bool = False,
    ) -> tuple[_LiqVars, ReserveCache]:
        """``executeLiquidationCall`` (3.0) up to ``_calculateAvailableCollateralToLiquidate``.

        Only the debt reserve is accrued here (the collateral reserve is accrued later, in
        ``_burnCollateralATokens``). ``_calculateDebt``: the user's debt in the debt reserve,
        close factor 50 % if HF > 0.95 else 100 %, ``maxLiquidatableDebt =
        percentMul(reserveDebt, closeFactor)``. Then ``validateLiquidationCall`` (HF < 1;
        collateral enabled with LT != 0; reserve debt != 0). No self-liquidation check.
        """
        self._check_amount(debt_to_cover)
        v = _LiqVars()
        debt_r = tx.reserve(debt_asset)
        debt_cache = debt_r.cache()
        debt_r.update_state(debt_cache, now)

        data = self._account_data(tx, now, user)
        v.total_collateral_base = data.total_collateral_base
        v.total_debt_base = data.total_debt_base
        v.health_factor = data.health_factor

        # _calculateDebt
        scaled_debt = tx.d_scaled(debt_asset, user)
        v.borrower_reserve_debt = (
            ray_mul(scaled_debt, debt_r.normalized_debt(now)) if scaled_debt else 0
        )
        close_factor = (
            self.rules.default_close_factor
            if v.health_factor > self.rules.close_factor_hf_threshold
            else PERCENTAGE_FACTOR
        )
        v.max_liquidatable_debt = percent_mul(v.borrower_reserve_debt, close_factor)
        v.actual_debt = min(debt_to_cover, v.max_liquidatable_debt)

        # ValidationLogic.validateLiquidationCall
        if v.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise AaveError("HEALTH_FACTOR_NOT_BELOW_THRESHOLD")
        coll_r = tx.reserve_ro(collateral_asset)
        if coll_r.config.liquidation_threshold == 0 or collateral_asset not in tx.coll_ro(user):
            raise AaveError("COLLATERAL_CANNOT_BE_LIQUIDATED")
        if v.borrower_reserve_debt == 0:
            raise AaveError("SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER")
        if stop_after_cap:
            return v, debt_cache

        v.liquidation_bonus = coll_r.config.liquidation_bonus
        v.collateral_price = self.price(collateral_asset)
        v.debt_price = self.price(debt_asset)
        v.collateral_unit = coll_r.config.unit
        v.debt_unit = debt_r.config.unit
        v.borrower_collateral_balance = ray_mul(
            tx.a_scaled(collateral_asset, user), coll_r.normalized_income(now)
        )
        v.actual_collateral, v.actual_debt, v.protocol_fee = (
            calculate_available_collateral_to_liquidate_v30(
                liquidation_protocol_fee=coll_r.config.liquidation_protocol_fee,
                collateral_price=v.collateral_price,
                collateral_unit=v.collateral_unit,
                debt_price=v.debt_price,
                debt_unit=v.debt_unit,
                debt_to_cover=v.actual_debt,
                borrower_collateral_balance=v.borrower_collateral_balance,
                liquidation_bonus=v.liquidation_bonus,
            )
        )
        return v, debt_cache

    def _liquidation_sizing(
        self,
        tx: Overlay,
        now: int,
        collateral_asset: str,
        debt_asset: str,
        user: str,
        debt_to_cover: int,
        stop_after_cap: bool,
    ) -> _LiqVars:
        return self._size_liquidation(
            tx, now, collateral_asset, debt_asset, user, debt_to_cover, stop_after_cap
        )[0]

    def _liquidate(
        self,
        tx: Overlay,
        now: int,
        liquidator: str | None,
        collateral_asset: str,
        debt_asset: str,
        user: str,
        debt_to_cover: int,
    ) -> LiquidationOutcome:
        """``LiquidationLogic.executeLiquidationCall`` (3.0, receiveAToken=false) inside ``tx``.

        After sizing, in the contract's order: clear the borrowing flag if the whole reserve
        debt is repaid, clear the collateral flag if ``collateral + fee == balance``; burn
        ``rayDiv(actualDebt, idx)`` scaled debt; debt-reserve rates (``actualDebt`` added);
        accrue the collateral reserve (fresh cache), its rates (collateral taken), burn
        ``rayDiv(collateral, idx)`` aTokens and pay the underlying to the liquidator; move the
        fee to the treasury as ``rayDiv(fee, idx)`` scaled, capped at the user's scaled balance
        (fee then ``rayMul(userScaled, idx)``); finally the liquidator pays the debt in.
        Nothing is written off. With ``liquidator=None`` (preview) no underlying moves.
        """
        v, debt_cache = self._size_liquidation(
            tx, now, collateral_asset, debt_asset, user, debt_to_cover
        )
        if v.borrower_reserve_debt == v.actual_debt:
            tx.borrow_flags(user).discard(debt_asset)
        collateral_disabled = v.actual_collateral + v.protocol_fee == v.borrower_collateral_balance
        if collateral_disabled:
            tx.coll_flags(user).discard(collateral_asset)

        # _burnDebtTokens: no stable debt, so the variable debt always covers actualDebt.
        debt_r = tx.reserve(debt_asset)
        _, debt_cache.next_scaled_variable_debt = tx.v_burn(
            debt_asset, user, ray_div(v.actual_debt, debt_cache.next_variable_borrow_index)
        )
        self._rates(tx, debt_r, debt_cache, v.actual_debt, 0)

        # _burnCollateralATokens
        coll_r = tx.reserve(collateral_asset)
        coll_cache = coll_r.cache()
        coll_r.update_state(coll_cache, now)
        self._rates(tx, coll_r, coll_cache, 0, v.actual_collateral)
        tx.a_burn(
            collateral_asset, user, ray_div(v.actual_collateral, coll_cache.next_liquidity_index)
        )
        if liquidator is not None:
            tx.transfer(collateral_asset, self.address, liquidator, v.actual_collateral)

        # Protocol fee to the treasury (transferOnLiquidation), capped by the user's balance.
        fee = v.protocol_fee
        if fee != 0:
            index = coll_r.normalized_income(now)
            user_scaled = tx.a_scaled(collateral_asset, user)
            if ray_div(fee, index) > user_scaled:
                fee = ray_mul(user_scaled, index)
            tx.a_move(collateral_asset, user, self.treasury, ray_div(fee, index))

        if liquidator is not None:
            tx.transfer(debt_asset, liquidator, self.address, v.actual_debt)
        after = self._account_data(tx, now, user)
        return LiquidationOutcome(
            collateral_asset=collateral_asset,
            debt_asset=debt_asset,
            user=user,
            debt_repaid=v.actual_debt,
            collateral_seized=v.actual_collateral,
            protocol_fee=fee,
            health_before=v.health_factor,
            health_after=after.health_factor,
            deficits=(),
            deficits_usd=(),
            debt_repaid_usd=mul_div_down(v.actual_debt, v.debt_price, v.debt_unit),
            collateral_seized_usd=mul_div_down(
                v.actual_collateral, v.collateral_price, v.collateral_unit
            ),
            collateral_price=v.collateral_price,
            debt_price=v.debt_price,
            max_liquidatable_debt=v.max_liquidatable_debt,
            collateral_disabled=collateral_disabled,
            unbacked_debt=self._unbacked_of(tx, now, user),
        )

    def _unbacked_of(self, tx: Overlay, now: int, user: str) -> tuple[tuple[str, int], ...]:
        """``(asset, debt)`` of ``user`` if no enabled collateral balance is left, else ``()``."""
        borrow = tx.borrow_ro(user)
        if not borrow or any(tx.a_scaled(a, user) for a in tx.coll_ro(user)):
            return ()
        out = []
        for asset in self._order:
            scaled = tx.d_scaled(asset, user)
            if asset in borrow and scaled:
                out.append((asset, ray_mul(scaled, tx.reserve_ro(asset).normalized_debt(now))))
        return tuple(out)

    # --- deficit: none in 3.0 ----------------------------------------------------------------------

    def eliminate_deficit(self, now: int, payer: str, asset: str, amount: int) -> int:
        """No-op: Aave 3.0 books no deficit, so there is nothing to cover. Returns 0."""
        self._check_amount(amount)
        self._reserve(asset)
        return 0

    def socialize_deficit(self, now: int, asset: str) -> int:
        """No-op: Aave 3.0 books no deficit. Returns 0."""
        self._reserve(asset)
        return 0

    # --- treasury ------------------------------------------------------------------------------------

    def collect_treasury(self, now: int, asset: str, to: str) -> int:
        """Pay the treasury's aToken balance out as underlying to ``to``; returns base units.

        ``PoolLogic.executeMintToTreasury`` (3.0): ``amount = rayMul(accrued, normalizedIncome)``
        minted as ``rayDiv(amount, normalizedIncome)`` scaled (``AToken.mintToTreasury``); then
        the treasury withdraws its whole balance, limited to the reserve's cash.
        """
        tx = Overlay(self)
        r = tx.reserve(asset)
        if r.accrued_to_treasury:
            accrued = r.accrued_to_treasury
            r.accrued_to_treasury = 0
            income = r.normalized_income(now)
            to_mint = ray_mul(accrued, income)
            if to_mint:
                tx.a_mint(asset, self.treasury, ray_div(to_mint, income))
        scaled = tx.a_scaled(asset, self.treasury)
        if scaled == 0:
            tx.commit()
            return 0
        bal = ray_mul(scaled, r.normalized_income(now))
        cash = tx.cash_of(asset, self.address)
        amount = MAX_AMOUNT if bal <= cash else cash
        if amount == 0:
            tx.commit()
            return 0
        out = self._withdraw(tx, now, self.treasury, asset, amount, to=to)
        tx.commit()
        return out

    # --- views -----------------------------------------------------------------------------------------

    def debt_of(self, now: int, account: str, asset: str) -> int:
        """Current debt (base units, ``VariableDebtToken.balanceOf``: half-up ``rayMul``)."""
        r = self._reserve(asset)
        return ray_mul(self._d[asset].get(account, 0), r.normalized_debt(now))

    def collateral_of(self, now: int, account: str, asset: str) -> int:
        """Current aToken balance (base units, ``AToken.balanceOf``: half-up ``rayMul``)."""
        r = self._reserve(asset)
        return ray_mul(self._a[asset].get(account, 0), r.normalized_income(now))


def calculate_available_collateral_to_liquidate_v30(
    *,
    liquidation_protocol_fee: int,
    collateral_price: int,
    collateral_unit: int,
    debt_price: int,
    debt_unit: int,
    debt_to_cover: int,
    borrower_collateral_balance: int,
    liquidation_bonus: int,
) -> tuple[int, int, int]:
    """(collateral to liquidator, debt to repay, protocol fee) of Aave 3.0.

    Mirrors ``LiquidationLogic._calculateAvailableCollateralToLiquidate`` (3.0):

    * ``base = debtPrice * debtToCover * collUnit / (collPrice * debtUnit)`` (floor),
      ``max = percentMul(base, bonus)``;
    * if ``max > balance``: take the whole balance and repay
      ``percentDiv(collPrice * balance * debtUnit / (debtPrice * collUnit), bonus)`` (half up;
      3.6 rounds this up);
    * fee = ``percentMul(collateral - percentDiv(collateral, bonus), protocolFee)``, subtracted
      from the liquidator's collateral.

    Amounts base units, prices 8 dp, bonus/fee bps (bonus includes 100 %).
    """
    base_collateral = (debt_price * debt_to_cover * collateral_unit) // (
        collateral_price * debt_unit
    )
    max_collateral = percent_mul(base_collateral, liquidation_bonus)
    if max_collateral > borrower_collateral_balance:
        collateral = borrower_collateral_balance
        debt_needed = percent_div(
            (collateral_price * collateral * debt_unit) // (debt_price * collateral_unit),
            liquidation_bonus,
        )
    else:
        collateral = max_collateral
        debt_needed = debt_to_cover
    if liquidation_protocol_fee != 0:
        bonus_collateral = collateral - percent_div(collateral, liquidation_bonus)
        fee = percent_mul(bonus_collateral, liquidation_protocol_fee)
        return collateral - fee, debt_needed, fee
    return collateral, debt_needed, 0
