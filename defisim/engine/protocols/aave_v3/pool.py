"""Aave V3.6 lending pool in exact integer math (and the base of the 3.0 rule set).

``AavePool(..., version="3.0")`` builds the Aave 3.0 variant instead
(:mod:`~defisim.engine.protocols.aave_v3._v30`), which overrides the entry points below whose
arithmetic or checks differ; everything else here (storage, overlay, views, snapshot,
screen, invariants) is shared.

Each public action mirrors one ``Pool`` entry point and the logic library behind it, in the
contract's order of operations and with its rounding (see each method's docstring):

=====================  ==========================================================
``supply``             ``SupplyLogic.executeSupply``
``withdraw``           ``SupplyLogic.executeWithdraw``
``borrow``             ``BorrowLogic.executeBorrow`` (variable rate only)
``repay``              ``BorrowLogic.executeRepay`` (with underlying)
``account_data``       ``GenericLogic.calculateUserAccountData``
``liquidation_call``   ``LiquidationLogic.executeLiquidationCall`` (receiveAToken=false)
``eliminate_deficit``  supply + ``LiquidationLogic.executeEliminateDeficit`` (Umbrella)
``collect_treasury``   ``PoolLogic.executeMintToTreasury`` + a withdraw by the treasury
``socialize_deficit``  defisim extension (not in Aave): suppliers absorb the deficit
=====================  ==========================================================

Atomicity: every action runs in a :class:`~defisim.engine.protocols.aave_v3._overlay.Overlay` (copy-on-write reserves, balances and
flags); a failed check raises before anything is committed, like a reverted transaction.
``preview_liquidation`` runs the same code and discards the overlay, so preview == apply.

Not modelled (documented deviations): e-mode, isolation mode / debt ceilings, siloed
borrowing, supply/borrow caps, frozen/paused/inactive flags, price-oracle sentinel, grace
periods, flash loans, stable rate (removed in 3.2 anyway), ``receiveAToken=true``, aToken
transfers between users, and ``setUserUseReserveAsCollateral`` beyond the automatic flag.

Units: token amounts are base units of that token; prices are oracle ints with 8 decimals
(USD per whole token, Aave's base currency); "base" values are USD with 8 decimals; indexes
and rates RAY; health factor WAD; percentages bps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from defisim.engine.fixedpoint import (
    PERCENTAGE_FACTOR,
    RAY,
    UINT256_MAX,
    WAD,
    mul_div_down,
    mul_div_up,
    percent_div,
    percent_div_ceil,
    percent_mul,
    ray_div_ceil,
    ray_mul_floor,
    wad_div,
)
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3._overlay import Overlay
from defisim.engine.protocols.aave_v3._rules import AaveRules, rules_for
from defisim.engine.protocols.aave_v3._screen import DEFAULT_MARGIN, HealthScreen
from defisim.engine.protocols.aave_v3.config import ReserveConfig
from defisim.engine.protocols.aave_v3.interest import (
    ReserveCache,
    ReserveState,
    a_balance,
    a_burn_scaled,
    a_mint_scaled,
    a_transfer_scaled,
    v_balance,
    v_burn_scaled,
    v_mint_scaled,
)
from defisim.engine.protocols.aave_v3.outcomes import (
    AaveError,
    AaveSnapshot,
    AccountData,
    AccountSnapshot,
    LiquidationOutcome,
    LiquidationQuote,
    LiquidationRefusal,
    ReserveSnapshot,
)
from defisim.errors import InsufficientBalanceError

__all__ = [
    "AavePool",
    "AaveError",
    "AccountData",
    "LiquidationOutcome",
    "LiquidationRefusal",
    "AaveSnapshot",
    "ReserveSnapshot",
    "AccountSnapshot",
    "MAX_AMOUNT",
    "HEALTH_FACTOR_LIQUIDATION_THRESHOLD",
    "CLOSE_FACTOR_HF_THRESHOLD",
    "DEFAULT_LIQUIDATION_CLOSE_FACTOR",
    "MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD",
    "MIN_LEFTOVER_BASE",
]

MAX_AMOUNT = UINT256_MAX
"""``type(uint256).max``: "everything" for ``withdraw``/``repay``/``debt_to_cover``."""

HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
"""``ValidationLogic.HEALTH_FACTOR_LIQUIDATION_THRESHOLD``: 1.0 (WAD)."""
CLOSE_FACTOR_HF_THRESHOLD = 95 * WAD // 100
"""``LiquidationLogic.CLOSE_FACTOR_HF_THRESHOLD``: at or below 0.95 (WAD) the close factor is 100 %."""
DEFAULT_LIQUIDATION_CLOSE_FACTOR = 5000
"""``LiquidationLogic.DEFAULT_LIQUIDATION_CLOSE_FACTOR``: 50 % (bps)."""
MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 2000 * 10**8
"""``LiquidationLogic.MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD``: 2,000 USD (base, 8 dp)."""
MIN_LEFTOVER_BASE = MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD // 2
"""``LiquidationLogic.MIN_LEFTOVER_BASE``: 1,000 USD (base, 8 dp)."""


# --- liquidation working variables ------------------------------------------------------------------

@dataclass(slots=True)
class _LiqVars:
    """``LiquidationCallLocalVars`` (amounts base units, values USD 8 dp, HF WAD)."""

    total_collateral_base: int = 0
    total_debt_base: int = 0
    health_factor: int = 0
    borrower_collateral_balance: int = 0
    borrower_reserve_debt: int = 0
    collateral_price: int = 0
    debt_price: int = 0
    collateral_unit: int = 0
    debt_unit: int = 0
    liquidation_bonus: int = 0
    max_liquidatable_debt: int = 0
    actual_debt: int = 0
    actual_collateral: int = 0
    protocol_fee: int = 0
    collateral_to_liquidate_base: int = 0


class AavePool:
    """One Aave V3 pool: reserves, scaled balances, flags, lazy interest, liquidations.

    ``reserves`` maps asset symbol to its :class:`ReserveConfig`; its order is the reserve id
    order (``reservesList``), which fixes iteration order exactly as the contract's bitmap.
    ``price(asset)`` is the oracle: USD per whole token with 8 decimals (int). The pool's cash
    is held in ``ledger`` by holder ``name`` (:attr:`address`). ``treasury`` receives
    protocol fees and reserve-factor income as aTokens (default ``"<name>:treasury"``).
    ``created_at`` is the unix time the reserves are initialised (default 0).

    ``version`` picks the rule set, once: ``"3.6"`` (default) is this class, the mirror of
    aave-v3-origin 3.6.0; ``"3.0"`` constructs :class:`~defisim.engine.protocols.aave_v3._v30.AavePoolV30`
    (``@aave/core-v3@1.19.3``), a subclass overriding the functions whose arithmetic differs.
    :attr:`rules` describes the chosen set (:class:`~defisim.engine.protocols.aave_v3._rules.AaveRules`).
    """

    _reserve_state: type[ReserveState] = ReserveState
    """Reserve storage and accrual of this rule set."""
    _screen_margin = DEFAULT_MARGIN
    """Relative float-HF margin of the candidate screen (see ``_screen``)."""

    def __new__(cls, *args: object, version: str = "3.6", **kwargs: object) -> Self:
        """Instantiate the class of ``version``'s rule set (a subclass for 3.0)."""
        impl: type[AavePool] = cls
        if cls is AavePool and rules_for(version).version == "3.0":
            from defisim.engine.protocols.aave_v3._v30 import AavePoolV30

            impl = AavePoolV30
        return super().__new__(impl)  # type: ignore[return-value]

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        reserves: dict[str, ReserveConfig],
        price: Callable[[str], int],
        treasury: str | None = None,
        created_at: int = 0,
        *,
        version: str = "3.6",
    ) -> None:
        self.rules: AaveRules = rules_for(version)
        if self.rules.version != "3.6":
            raise AaveError("UNSUPPORTED_VERSION", f"{type(self).__name__} implements 3.6, not {version}")
        self._setup(name, ledger, reserves, price, treasury, created_at)

    def _setup(
        self,
        name: str,
        ledger: Ledger,
        reserves: dict[str, ReserveConfig],
        price: Callable[[str], int],
        treasury: str | None,
        created_at: int,
    ) -> None:
        """State shared by every rule set: reserves, books, flags, screen."""
        self.name = name
        self.address = name
        self.ledger = ledger
        self.price = price
        self.treasury = treasury if treasury is not None else f"{name}:treasury"
        self._order: list[str] = list(reserves)
        self._col: dict[str, int] = {a: i for i, a in enumerate(self._order)}
        self._state: dict[str, ReserveState] = {}
        for i, (asset, cfg) in enumerate(reserves.items()):
            if asset not in ledger.decimals:
                raise AaveError("ASSET_NOT_LISTED", f"{asset} is not a ledger token")
            if ledger.decimals[asset] != cfg.decimals:
                raise AaveError(
                    "INVALID_DECIMALS",
                    f"{asset}: config has {cfg.decimals} decimals, ledger {ledger.decimals[asset]}",
                )
            self._state[asset] = self._reserve_state(asset, i, cfg, created_at)
        self._a: dict[str, dict[str, int]] = {a: {} for a in self._order}
        self._d: dict[str, dict[str, int]] = {a: {} for a in self._order}
        self._coll: dict[str, set[str]] = {}
        self._borrow: dict[str, set[str]] = {}
        self._screen = HealthScreen(len(self._order))
        self._account_versions: dict[str, int] = {}

    # --- internals ----------------------------------------------------------------------------

    def _reserve(self, asset: str) -> ReserveState:
        r = self._state.get(asset)
        if r is None:
            raise AaveError("ASSET_NOT_LISTED", f"{asset} is not a reserve of {self.name}")
        return r

    def _refresh_row(self, account: str) -> None:
        coll = self._coll.get(account, ())
        self._screen.set_row(
            account,
            [self._a[a].get(account, 0) if a in coll else 0 for a in self._order],
            [self._d[a].get(account, 0) for a in self._order],
        )

    def _check_amount(self, amount: int) -> None:
        if type(amount) is not int or amount < 0 or amount > UINT256_MAX:
            raise AaveError("INVALID_AMOUNT", f"{amount!r} is not a uint256 amount")

    # --- GenericLogic -------------------------------------------------------------------------

    def _account_data(self, tx: Overlay, now: int, user: str) -> AccountData:
        """``GenericLogic.calculateUserAccountData`` over the overlay ``tx`` at ``now``.

        Per reserve in id order, where the user has the collateral or borrowing flag:
        collateral value ``floor(floor(scaled * normalizedIncome / RAY) * price / unit)``
        (``_getUserBalanceInBaseCurrency``); debt value
        ``mulDivCeil(ceil(scaled * normalizedDebt / RAY), price, unit)``
        (``_getUserDebtInBaseCurrency``). ``HF = wadDiv(Σ value_i * LT_i, debt) / 1e4``;
        average LTV / LT are ``Σ value_i * x_i / Σ value_i`` (truncated).
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
            unit = cfg.unit
            price = self.price(asset)
            if is_coll:
                bal = a_balance(tx.a_scaled(asset, user), r.normalized_income(now))
                value = mul_div_down(bal, price, unit)
                total_coll += value
                if cfg.ltv == 0:
                    zero_ltv = True
                else:
                    avg_ltv += value * cfg.ltv
                avg_lt += value * cfg.liquidation_threshold
            if is_borrow:
                debt = v_balance(tx.d_scaled(asset, user), r.normalized_debt(now))
                total_debt += mul_div_up(debt, price, unit)
        hf = UINT256_MAX if total_debt == 0 else wad_div(avg_lt, total_debt) // PERCENTAGE_FACTOR
        if total_coll:
            avg_ltv //= total_coll
            avg_lt //= total_coll
        else:
            avg_ltv = avg_lt = 0
        return AccountData(total_coll, total_debt, avg_ltv, avg_lt, hf, zero_ltv)

    def account_data(self, now: int, account: str) -> AccountData:
        """Exact account data at ``now`` (view; nothing is written)."""
        return self._account_data(Overlay(self), now, account)

    def _validate_health_factor(self, tx: Overlay, now: int, user: str) -> AccountData:
        """``ValidationLogic.validateHealthFactor``: HF >= 1 after the action."""
        data = self._account_data(tx, now, user)
        if data.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise AaveError("HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD")
        return data

    def _validate_hf_and_ltv_zero(self, tx: Overlay, now: int, user: str, asset: str) -> None:
        """``ValidationLogic.validateHFAndLtvzero`` (withdraw of collateral with debt)."""
        data = self._validate_health_factor(tx, now, user)
        if data.has_zero_ltv_collateral and tx.reserve_ro(asset).config.ltv != 0:
            raise AaveError("LTV_VALIDATION_FAILED")

    # --- supply / withdraw ------------------------------------------------------------------------

    def _supply(self, tx: Overlay, now: int, account: str, asset: str, amount: int) -> None:
        """``SupplyLogic.executeSupply`` (onBehalfOf = account) inside ``tx``."""
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        scaled = a_mint_scaled(amount, cache.next_liquidity_index)
        if scaled == 0:
            raise AaveError("INVALID_AMOUNT", "supply rounds to 0 scaled aTokens")
        if account == self.address:
            raise AaveError("SUPPLY_TO_A_TOKEN")
        r.update_interest_rates_and_virtual_balance(cache, amount, 0)
        tx.transfer(asset, account, self.address, amount)
        first = tx.a_mint(asset, account, scaled)
        # validateAutomaticUseAsCollateral: no e-mode / isolation here, so LTV != 0 decides.
        if first and r.config.ltv != 0:
            tx.coll_flags(account).add(asset)

    def supply(self, now: int, account: str, asset: str, amount: int) -> None:
        """Supply ``amount`` (base units) of ``asset`` from ``account``'s ledger balance.

        Mirrors ``SupplyLogic.executeSupply``: accrue, mint ``rayDivFloor(amount, index)``
        scaled aTokens, move the virtual balance, and on the first supply enable the asset as
        collateral when its LTV is non-zero.
        """
        tx = Overlay(self)
        self._supply(tx, now, account, asset, amount)
        tx.commit()

    def withdraw(self, now: int, account: str, asset: str, amount: int) -> int:
        """Withdraw ``amount`` base units (``MAX_AMOUNT`` = all) to ``account``; returns it.

        Mirrors ``SupplyLogic.executeWithdraw``: burn ``rayDivCeil(amount, index)`` scaled
        (all scaled for max, paying ``rayMulFloor(scaled, index)``), then if the asset was
        collateral and the user borrows, require HF >= 1 (``validateHFAndLtvzero``).
        """
        tx = Overlay(self)
        out = self._withdraw(tx, now, account, asset, amount, to=account)
        tx.commit()
        return out

    def _withdraw(self, tx: Overlay, now: int, account: str, asset: str, amount: int, to: str) -> int:
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        user_scaled = tx.a_scaled(asset, account)
        if amount == MAX_AMOUNT:
            scaled = user_scaled
            amount = a_balance(user_scaled, cache.next_liquidity_index)
        else:
            scaled = a_burn_scaled(amount, cache.next_liquidity_index)
        if scaled == 0:
            raise AaveError("INVALID_AMOUNT")
        if scaled > user_scaled:
            raise AaveError("NOT_ENOUGH_AVAILABLE_USER_BALANCE")
        self._rates(tx, r, cache, 0, amount)
        zero_after = tx.a_burn(asset, account, scaled)
        tx.transfer(asset, self.address, to, amount)
        if asset in tx.coll_ro(account):
            if zero_after:
                tx.coll_flags(account).discard(asset)
            if tx.borrow_ro(account):
                self._validate_hf_and_ltv_zero(tx, now, account, asset)
        return amount

    def _rates(self, tx: Overlay, r: ReserveState, cache: ReserveCache, added: int, taken: int) -> None:
        """``updateInterestRatesAndVirtualBalance``; an underflow is a revert (``tx`` unused in 3.6)."""
        try:
            r.update_interest_rates_and_virtual_balance(cache, added, taken)
        except ArithmeticError as exc:
            raise AaveError("ARITHMETIC_UNDERFLOW", str(exc)) from exc

    # --- borrow / repay -----------------------------------------------------------------------------

    def borrow(self, now: int, account: str, asset: str, amount: int) -> None:
        """Borrow ``amount`` base units of ``asset`` at the variable rate, paid to ``account``.

        Mirrors ``BorrowLogic.executeBorrow``: accrue; mint ``rayDivCeil(amount, borrowIndex)``
        scaled debt (``validateBorrow``: non-zero, aToken supply covers it); move rates and
        virtual balance; pay out; then ``validateHFAndLtv``: average LTV != 0, HF >= 1 and
        ``collateral >= percentDivCeil(debt, avgLtv)`` (all in base currency).
        """
        tx = Overlay(self)
        self._execute_borrow(tx, now, account, asset, amount)
        tx.commit()

    def open_position(
        self, now: int, account: str, supplies: dict[str, int], borrows: dict[str, int]
    ) -> None:
        """Supply then borrow for one account as one atomic batch (scenario seeding).

        The same supply and borrow logic in sequence, committed once: nothing is written if
        any step is refused, and the final state equals the separate calls'.
        """
        tx = Overlay(self)
        for asset, amount in supplies.items():
            self._supply(tx, now, account, asset, amount)
        for asset, amount in borrows.items():
            self._execute_borrow(tx, now, account, asset, amount)
        tx.commit()

    def _execute_borrow(self, tx: Overlay, now: int, account: str, asset: str, amount: int) -> None:
        """``BorrowLogic.executeBorrow`` inside ``tx`` (see :meth:`borrow`)."""
        self._check_amount(amount)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        scaled = v_mint_scaled(amount, cache.next_variable_borrow_index)
        if scaled == 0:
            raise AaveError("INVALID_AMOUNT")
        owed = v_balance(scaled, cache.next_variable_borrow_index)
        if a_balance(r.scaled_total_supply, r.normalized_income(now)) < owed:
            raise AaveError("INVALID_AMOUNT", "borrow exceeds the aToken total supply")
        cache.next_scaled_variable_debt = tx.v_mint(asset, account, scaled)
        tx.borrow_flags(account).add(asset)
        self._rates(tx, r, cache, 0, amount)
        tx.transfer(asset, self.address, account, amount)
        data = self._account_data(tx, now, account)
        if data.avg_ltv == 0:
            raise AaveError("LTV_VALIDATION_FAILED")
        if data.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise AaveError("HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD")
        if data.total_collateral_base < percent_div_ceil(data.total_debt_base, data.avg_ltv):
            raise AaveError("COLLATERAL_CANNOT_COVER_NEW_BORROW")

    def repay(self, now: int, account: str, asset: str, amount: int) -> int:
        """Repay up to ``amount`` base units (``MAX_AMOUNT`` = all) of ``account``'s debt.

        Mirrors ``BorrowLogic.executeRepay`` with underlying: payback
        ``min(amount, ceil(scaled * index))``, burn ``rayDivFloor(payback, index)`` scaled,
        clear the borrowing flag when no scaled debt is left. Returns the payback.
        """
        self._check_amount(amount)
        tx = Overlay(self)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        user_scaled = tx.d_scaled(asset, account)
        user_debt = v_balance(user_scaled, cache.next_variable_borrow_index)
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        if user_scaled == 0:
            raise AaveError("NO_DEBT_OF_SELECTED_TYPE")
        payback = min(amount, user_debt)
        no_more, cache.next_scaled_variable_debt = tx.v_burn(
            asset, account, v_burn_scaled(payback, cache.next_variable_borrow_index)
        )
        self._rates(tx, r, cache, payback, 0)
        if no_more:
            tx.borrow_flags(account).discard(asset)
        tx.transfer(asset, account, self.address, payback)
        tx.commit()
        return payback

    # --- liquidation ------------------------------------------------------------------------------

    def _liquidation_vars(
        self,
        tx: Overlay,
        now: int,
        collateral_asset: str,
        debt_asset: str,
        user: str,
        debt_to_cover: int,
        liquidator: str | None,
        stop_after_cap: bool = False,
    ) -> tuple[_LiqVars, ReserveCache, ReserveCache]:
        """First half of ``executeLiquidationCall``: accrue, validate, size (no transfers)."""
        self._check_amount(debt_to_cover)
        v = _LiqVars()
        debt_r = tx.reserve(debt_asset)
        coll_r = tx.reserve(collateral_asset)
        debt_cache = debt_r.cache()
        coll_cache = coll_r.cache()
        # Both caches were taken before either update; for a same-asset liquidation the
        # contract therefore runs _accrueToTreasury twice. Mirrored on purpose.
        debt_r.update_state(debt_cache, now)
        coll_r.update_state(coll_cache, now)

        data = self._account_data(tx, now, user)
        v.total_collateral_base = data.total_collateral_base
        v.total_debt_base = data.total_debt_base
        v.health_factor = data.health_factor
        v.borrower_collateral_balance = a_balance(
            tx.a_scaled(collateral_asset, user), coll_cache.next_liquidity_index
        )
        v.borrower_reserve_debt = v_balance(
            tx.d_scaled(debt_asset, user), debt_cache.next_variable_borrow_index
        )

        # ValidationLogic.validateLiquidationCall
        if liquidator is not None and liquidator == user:
            raise AaveError("SELF_LIQUIDATION")
        if v.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
            raise AaveError("HEALTH_FACTOR_NOT_BELOW_THRESHOLD")
        if collateral_asset not in tx.coll_ro(user):
            raise AaveError("COLLATERAL_CANNOT_BE_LIQUIDATED")
        if v.borrower_reserve_debt == 0:
            raise AaveError("SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER")

        v.liquidation_bonus = coll_r.config.liquidation_bonus
        v.collateral_price = self.price(collateral_asset)
        v.debt_price = self.price(debt_asset)
        v.collateral_unit = coll_r.config.unit
        v.debt_unit = debt_r.config.unit

        reserve_debt_base = mul_div_up(v.borrower_reserve_debt, v.debt_price, v.debt_unit)
        reserve_coll_base = mul_div_down(
            v.borrower_collateral_balance, v.collateral_price, v.collateral_unit
        )
        v.max_liquidatable_debt = v.borrower_reserve_debt
        if (
            reserve_coll_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
            and reserve_debt_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
            and v.health_factor > CLOSE_FACTOR_HF_THRESHOLD
        ):
            default_base = percent_mul(v.total_debt_base, DEFAULT_LIQUIDATION_CLOSE_FACTOR)
            if reserve_debt_base > default_base:
                v.max_liquidatable_debt = mul_div_down(default_base, v.debt_unit, v.debt_price)
        v.actual_debt = min(debt_to_cover, v.max_liquidatable_debt)
        if stop_after_cap:
            return v, debt_cache, coll_cache

        (
            v.actual_collateral,
            v.actual_debt,
            v.protocol_fee,
            v.collateral_to_liquidate_base,
        ) = calculate_available_collateral_to_liquidate(
            liquidation_protocol_fee=coll_r.config.liquidation_protocol_fee,
            collateral_price=v.collateral_price,
            collateral_unit=v.collateral_unit,
            debt_price=v.debt_price,
            debt_unit=v.debt_unit,
            debt_to_cover=v.actual_debt,
            borrower_collateral_balance=v.borrower_collateral_balance,
            liquidation_bonus=v.liquidation_bonus,
        )

        # Dust rule: clear all debt, or all collateral, or leave >= MIN_LEFTOVER_BASE of both.
        if (
            v.actual_debt < v.borrower_reserve_debt
            and v.actual_collateral + v.protocol_fee < v.borrower_collateral_balance
        ):
            debt_left = mul_div_up(
                v.borrower_reserve_debt - v.actual_debt, v.debt_price, v.debt_unit
            )
            coll_left = mul_div_down(
                v.borrower_collateral_balance - v.actual_collateral - v.protocol_fee,
                v.collateral_price,
                v.collateral_unit,
            )
            if debt_left < MIN_LEFTOVER_BASE or coll_left < MIN_LEFTOVER_BASE:
                raise AaveError("MUST_NOT_LEAVE_DUST")
        return v, debt_cache, coll_cache

    def _burn_debt_tokens(
        self,
        tx: Overlay,
        cache: ReserveCache,
        debt_asset: str,
        user: str,
        borrower_reserve_debt: int,
        actual_debt: int,
        has_no_collateral_left: bool,
        deficits: dict[str, int],
    ) -> None:
        """``LiquidationLogic._burnDebtTokens``: burn repaid (or all) debt, book deficit."""
        r = tx.reserve(debt_asset)
        no_more = True
        if borrower_reserve_debt != 0:
            burn = borrower_reserve_debt if has_no_collateral_left else actual_debt
            no_more, cache.next_scaled_variable_debt = tx.v_burn(
                debt_asset, user, v_burn_scaled(burn, cache.next_variable_borrow_index)
            )
        outstanding = borrower_reserve_debt - actual_debt
        if has_no_collateral_left and outstanding != 0:
            r.deficit += outstanding
            deficits[debt_asset] = deficits.get(debt_asset, 0) + outstanding
        if no_more:
            tx.borrow_flags(user).discard(debt_asset)
        self._rates(tx, r, cache, actual_debt, 0)

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
        """``LiquidationLogic.executeLiquidationCall`` (receiveAToken=false) inside ``tx``.

        With ``liquidator=None`` (preview) no underlying moves are staged, so the
        liquidator's balance is not checked.
        """
        v, debt_cache, coll_cache = self._liquidation_vars(
            tx, now, collateral_asset, debt_asset, user, debt_to_cover, liquidator
        )
        coll_r = tx.reserve(collateral_asset)
        collateral_disabled = (
            v.actual_collateral + v.protocol_fee == v.borrower_collateral_balance
        )
        if collateral_disabled:
            tx.coll_flags(user).discard(collateral_asset)
        has_no_collateral_left = v.total_collateral_base == v.collateral_to_liquidate_base
        deficits: dict[str, int] = {}
        self._burn_debt_tokens(
            tx, debt_cache, debt_asset, user, v.borrower_reserve_debt, v.actual_debt,
            has_no_collateral_left, deficits,
        )
        # _burnCollateralATokens (the underlying goes to the liquidator)
        if collateral_asset == debt_asset:
            coll_cache.next_scaled_variable_debt = debt_cache.next_scaled_variable_debt
        self._rates(tx, coll_r, coll_cache, 0, v.actual_collateral)
        tx.a_burn(
            collateral_asset, user, a_burn_scaled(v.actual_collateral, coll_cache.next_liquidity_index)
        )
        # Protocol fee: aTokens to the treasury, capped at what the borrower still holds.
        fee = v.protocol_fee
        if fee != 0:
            fee_scaled = a_transfer_scaled(fee, coll_cache.next_liquidity_index)
            left = tx.a_scaled(collateral_asset, user)
            if fee_scaled > left:
                fee_scaled = left
                fee = a_balance(left, coll_cache.next_liquidity_index)
            tx.a_move(collateral_asset, user, self.treasury, fee_scaled)
        # _burnBadDebt: every other debt of a borrower left without collateral.
        if has_no_collateral_left and tx.borrow_ro(user):
            for asset in [a for a in self._order if a in tx.borrow_ro(user)]:
                r = tx.reserve(asset)
                cache = r.cache()
                r.update_state(cache, now)
                self._burn_debt_tokens(
                    tx, cache, asset, user,
                    v_balance(tx.d_scaled(asset, user), cache.next_variable_borrow_index),
                    0, True, deficits,
                )
        if liquidator is not None:
            tx.transfer(debt_asset, liquidator, self.address, v.actual_debt)
            tx.transfer(collateral_asset, self.address, liquidator, v.actual_collateral)
        after = self._account_data(tx, now, user)
        deficit_items = tuple((a, deficits[a]) for a in self._order if a in deficits)
        return LiquidationOutcome(
            collateral_asset=collateral_asset,
            debt_asset=debt_asset,
            user=user,
            debt_repaid=v.actual_debt,
            collateral_seized=v.actual_collateral,
            protocol_fee=fee,
            health_before=v.health_factor,
            health_after=after.health_factor,
            deficits=deficit_items,
            deficits_usd=tuple(
                (a, mul_div_down(x, self.price(a), tx.reserve_ro(a).config.unit))
                for a, x in deficit_items
            ),
            debt_repaid_usd=mul_div_down(v.actual_debt, v.debt_price, v.debt_unit),
            collateral_seized_usd=mul_div_down(
                v.actual_collateral, v.collateral_price, v.collateral_unit
            ),
            collateral_price=v.collateral_price,
            debt_price=v.debt_price,
            max_liquidatable_debt=v.max_liquidatable_debt,
            collateral_disabled=collateral_disabled,
        )

    def quote_liquidation(
        self, now: int, collateral_asset: str, debt_asset: str, user: str, debt_to_cover: int
    ) -> LiquidationQuote | LiquidationRefusal:
        """The amounts a liquidation would move, without running it (cheap; for planning).

        Runs only the validation and sizing half of ``executeLiquidationCall`` (close factor,
        ``_calculateAvailableCollateralToLiquidate``, the dust rule) on a throwaway overlay, so
        it refuses exactly when :meth:`preview_liquidation` does and its ``debt_repaid`` and
        ``collateral_seized`` equal the preview's. It skips the token burns, rate updates and
        the health factor after.
        """
        try:
            v = self._liquidation_sizing(
                Overlay(self), now, collateral_asset, debt_asset, user, debt_to_cover, False
            )
        except AaveError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)
        return LiquidationQuote(v.actual_debt, v.actual_collateral, v.health_factor)

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
        """Validation and sizing only, for quotes and the close-factor cap (no liquidator)."""
        return self._liquidation_vars(
            tx, now, collateral_asset, debt_asset, user, debt_to_cover, None, stop_after_cap
        )[0]

    def preview_liquidation(
        self, now: int, collateral_asset: str, debt_asset: str, user: str, debt_to_cover: int
    ) -> LiquidationOutcome | LiquidationRefusal:
        """What ``liquidation_call`` would do now, without changing anything.

        Does not check the liquidator's funds or self-liquidation (no liquidator is named).
        """
        try:
            return self._liquidate(Overlay(self), now, None, collateral_asset, debt_asset, user, debt_to_cover)
        except AaveError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)

    def liquidation_call(
        self,
        now: int,
        liquidator: str,
        collateral_asset: str,
        debt_asset: str,
        user: str,
        debt_to_cover: int,
    ) -> LiquidationOutcome | LiquidationRefusal:
        """Liquidate ``user``: repay up to ``debt_to_cover`` of ``debt_asset``, seize collateral.

        Mirrors ``LiquidationLogic.executeLiquidationCall`` with ``receiveAToken=false``: the
        liquidator pays the debt token into the pool and receives the collateral underlying;
        the protocol fee goes to the treasury as aTokens; a borrower left with no collateral
        has all remaining debt burned and booked as reserve deficit (``_burnBadDebt``).
        Expected failures return a :class:`LiquidationRefusal` and change nothing; a
        liquidator without enough debt tokens is refused with
        ``TRANSFER_AMOUNT_EXCEEDS_BALANCE``.
        """
        tx = Overlay(self)
        try:
            out = self._liquidate(tx, now, liquidator, collateral_asset, debt_asset, user, debt_to_cover)
        except AaveError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)
        except InsufficientBalanceError as exc:
            return LiquidationRefusal("TRANSFER_AMOUNT_EXCEEDS_BALANCE", str(exc))
        tx.commit()
        return out

    def max_liquidatable_debt(self, now: int, collateral_asset: str, debt_asset: str, user: str) -> int:
        """Close-factor cap (debt-token base units) a liquidator should pass; 0 if refused.

        ``maxLiquidatableDebt`` of ``executeLiquidationCall``: the user's whole debt in
        ``debt_asset``, or 50 % of total debt (in base) converted to ``debt_asset`` when both
        this reserve's collateral and debt are worth >= 2,000 USD, HF > 0.95 and this debt is
        more than that half. Passing more is equivalent; the actual repayment may be smaller
        when collateral runs out. (Aave 3.0: ``percentMul(debt in debt_asset, 50 %)`` if
        HF > 0.95, else that whole debt.)
        """
        try:
            v = self._liquidation_sizing(
                Overlay(self), now, collateral_asset, debt_asset, user, MAX_AMOUNT, True
            )
        except AaveError:
            return 0
        return v.max_liquidatable_debt

    # --- deficit ---------------------------------------------------------------------------------

    def deficit(self, asset: str) -> int:
        """Reserve deficit (bad debt not yet covered), base units."""
        return self._reserve(asset).deficit

    def unbacked_debt(self, now: int) -> dict[str, int]:
        """Debt still owed by borrowers with no collateral left, per asset (base units at ``now``).

        Under 3.6 a liquidation that takes a borrower's last collateral burns the rest of the
        debt into :meth:`deficit`, so this is normally empty. Aave 3.0 has no deficit: that
        debt stays on the account, unbacked, and this is where it shows (with
        ``LiquidationOutcome.unbacked_debt`` per liquidation). Scans the borrowers; on demand.
        """
        out: dict[str, int] = {}
        for account, assets in self._borrow.items():
            if not assets or any(self._a[a].get(account, 0) for a in self._coll.get(account, ())):
                continue
            for asset in assets:
                debt = self.debt_of(now, account, asset)
                if debt:
                    out[asset] = out.get(asset, 0) + debt
        return {a: out[a] for a in self._order if a in out}

    def deficit_cover_cost(self, now: int, payer: str, asset: str, amount: int) -> int:
        """Underlying ``payer`` must supply for :meth:`eliminate_deficit` to write off ``amount``.

        As ``contracts/src/InsuranceFund.sol`` ``cover`` computes it: target
        ``t = min(amount, deficit)``, scaled aTokens the pool will burn
        ``need = rayDivCeil(t, normalizedIncome)``; the payer supplies
        ``ceil((need - held) * normalizedIncome / RAY)`` when its scaled aTokens ``held`` fall
        short, else nothing. Base units.
        """
        r = self._reserve(asset)
        target = min(amount, r.deficit)
        index = r.normalized_income(now)
        need = ray_div_ceil(target, index)
        held = self._a[asset].get(payer, 0)
        return 0 if held >= need else -(-(need - held) * index // RAY)

    def eliminate_deficit(self, now: int, payer: str, asset: str, amount: int) -> int:
        """Insurance-fund cover: ``payer`` supplies what it needs, then burns it against deficit.

        The on-chain counterpart is ``contracts/src/InsuranceFund.sol`` ``cover`` registered as
        Aave's Umbrella: supply :meth:`deficit_cover_cost` underlying (``executeSupply``), then
        ``executeEliminateDeficit`` writes off exactly ``t = min(amount, deficit)``, burning
        ``rayDivCeil(t, index)`` of the payer's scaled aTokens (refused with
        ``NOT_ENOUGH_AVAILABLE_USER_BALANCE`` if it holds fewer). A rounding remainder stays
        with the payer as aTokens and counts towards the next cover. Returns ``t`` (base
        units). The payer must have no debt and hold the underlying.
        """
        self._check_amount(amount)
        if amount == 0:
            raise AaveError("INVALID_AMOUNT")
        r0 = self._reserve(asset)
        if r0.deficit == 0:
            raise AaveError("RESERVE_NOT_IN_DEFICIT")
        tx = Overlay(self)
        if tx.borrow_ro(payer):
            raise AaveError("USER_CANNOT_HAVE_DEBT")
        cost = self.deficit_cover_cost(now, payer, asset, amount)
        if cost:
            self._supply(tx, now, payer, asset, cost)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        user_scaled = tx.a_scaled(asset, payer)
        write_off = min(amount, r.deficit)
        scaled = a_burn_scaled(write_off, cache.next_liquidity_index)
        if scaled > user_scaled:
            raise AaveError("NOT_ENOUGH_AVAILABLE_USER_BALANCE")
        if asset in tx.coll_ro(payer) and scaled == user_scaled:
            tx.coll_flags(payer).discard(asset)
        tx.a_burn(asset, payer, scaled)
        r.deficit -= write_off
        self._rates(tx, r, cache, 0, 0)
        tx.commit()
        return write_off

    def socialize_deficit(self, now: int, asset: str) -> int:
        """defisim extension (not an Aave function): suppliers absorb the deficit.

        Lowers the liquidity index by ``rayDivCeil(deficit, S)`` where ``S`` is the scaled
        aToken supply plus the treasury's unminted ``accrued_to_treasury``, so every aToken
        holder loses pro rata (rounded against suppliers) and the deficit is written off.
        If the loss would take the index to zero, suppliers are wiped down to an index of 1
        and only the part they can absorb is written off. Returns the amount written off.
        """
        tx = Overlay(self)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        deficit = r.deficit
        supply = r.scaled_total_supply + r.accrued_to_treasury
        if deficit == 0 or supply == 0:
            return 0
        drop = ray_div_ceil(deficit, supply)
        written = deficit
        if drop >= r.liquidity_index:
            drop = r.liquidity_index - 1
            written = min(deficit, ray_mul_floor(supply, drop))
        r.liquidity_index -= drop
        cache.next_liquidity_index = r.liquidity_index
        r.deficit -= written
        self._rates(tx, r, cache, 0, 0)
        tx.commit()
        self._screen._key = None
        return written

    # --- treasury ----------------------------------------------------------------------------------

    def touch_reserve(self, now: int, asset: str) -> None:
        """Accrue ``asset``'s indexes and treasury share to ``now`` and refresh its rates.

        What every action on a reserve does first (``updateState`` then
        ``updateInterestRates`` with no liquidity change). A model of background activity, so
        that interest and treasury income accrue in a world where borrowers sit still.
        """
        tx = Overlay(self)
        r = tx.reserve(asset)
        cache = r.cache()
        r.update_state(cache, now)
        self._rates(tx, r, cache, 0, 0)
        tx.commit()

    def collect_treasury(self, now: int, asset: str, to: str) -> int:
        """Pay the treasury's aToken balance out as underlying to ``to``; returns base units.

        ``PoolLogic.executeMintToTreasury`` (mint ``accrued_to_treasury`` scaled at
        ``getNormalizedIncome``), then a withdrawal by the treasury
        (``executeWithdraw``) of its whole balance, limited to the virtual balance (cash).
        Interest accrued by the withdrawal's own ``updateState`` stays in
        ``accrued_to_treasury`` for next time, as on chain.
        """
        tx = Overlay(self)
        r = tx.reserve(asset)
        if r.accrued_to_treasury:
            accrued = r.accrued_to_treasury
            r.accrued_to_treasury = 0
            tx.a_mint(asset, self.treasury, accrued)
        scaled = tx.a_scaled(asset, self.treasury)
        if scaled == 0:
            tx.commit()
            return 0
        bal = a_balance(scaled, r.normalized_income(now))
        amount = MAX_AMOUNT if bal <= r.virtual_underlying_balance else r.virtual_underlying_balance
        if amount == 0:
            tx.commit()
            return 0
        out = self._withdraw(tx, now, self.treasury, asset, amount, to=to)
        tx.commit()
        return out

    # --- views ----------------------------------------------------------------------------------

    def assets(self) -> list[str]:
        """Reserve assets in reserve-id order."""
        return list(self._order)

    def value_usd(self, asset: str, amount: int) -> int:
        """USD value (8 decimals) of ``amount`` base units at the oracle price, rounded down."""
        return mul_div_down(amount, self.price(asset), self._reserve(asset).config.unit)

    def decimals(self, asset: str) -> int:
        """Decimals of ``asset``'s token (its base units per whole token is ``10**decimals``)."""
        return self._reserve(asset).config.decimals

    def positions(self) -> list[str]:
        """Accounts holding any aToken or debt (treasury included), sorted."""
        seen: set[str] = set()
        for book in self._a.values():
            seen.update(book)
        for book in self._d.values():
            seen.update(book)
        return sorted(seen)

    def debt_of(self, now: int, account: str, asset: str) -> int:
        """Current debt (base units, rounded up as ``VariableDebtToken.balanceOf``)."""
        r = self._reserve(asset)
        return v_balance(self._d[asset].get(account, 0), r.normalized_debt(now))

    def collateral_of(self, now: int, account: str, asset: str) -> int:
        """Current aToken balance (base units, rounded down as ``AToken.balanceOf``)."""
        r = self._reserve(asset)
        return a_balance(self._a[asset].get(account, 0), r.normalized_income(now))

    def normalized_income(self, now: int, asset: str) -> int:
        """``Pool.getReserveNormalizedIncome(asset)`` at ``now`` (RAY; view, nothing written).

        The aToken exchange rate: one scaled aToken is worth this many underlying base units
        (times RAY). It falls only when a deficit is socialised (:meth:`socialize_deficit`).
        """
        return self._reserve(asset).normalized_income(now)

    def scaled_balance_of(self, account: str, asset: str) -> int:
        """``AToken.scaledBalanceOf(account)`` of ``asset``'s aToken (scaled units; view)."""
        self._reserve(asset)
        return self._a[asset].get(account, 0)

    def account_version(self, account: str) -> int:
        """Counts committed changes to ``account``'s balances or flags (for callers' caches).

        Within one timestamp and with unchanged prices, a quote for an account whose version
        has not moved is still exact (indexes at a fixed time do not depend on other actions).
        """
        return self._account_versions.get(account, 0)

    def largest_pair(self, now: int, account: str) -> tuple[str, str] | None:
        """(collateral, debt) assets with the largest USD values for ``account``, or None.

        A liquidator's choice, not protocol math: exact balances, but only over the reserves
        the account's flags name (usually one of each), ties to the lower reserve id.
        """
        coll = self._coll.get(account, ())
        debt = self._borrow.get(account, ())
        if not coll or not debt:
            return None
        return self._largest(now, account, coll, self.collateral_of), self._largest(
            now, account, debt, self.debt_of
        )

    def _largest(self, now: int, account: str, assets: Iterable[str],
                 balance: Callable[[int, str, str], int]) -> str:
        best, best_value = "", -1
        for asset in self._order:
            if asset in assets:
                value = balance(now, account, asset) * self.price(asset) // self._state[asset].config.unit
                if value > best_value:
                    best, best_value = asset, value
        return best

    def is_collateral(self, account: str, asset: str) -> bool:
        """Whether ``account`` uses ``asset`` as collateral."""
        return asset in self._coll.get(account, ())

    def _screen_inputs(self, now: int) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        rs = [self._state[a] for a in self._order]
        return (
            [r.normalized_income(now) for r in rs],
            [r.normalized_debt(now) for r in rs],
            [self.price(a) for a in self._order],
            [r.config.unit for r in rs],
            [r.config.liquidation_threshold for r in rs],
        )

    def liquidation_candidates(self, now: int) -> Sequence[str]:
        """Accounts that *may* be liquidatable at ``now``, largest debt first (float screen).

        Cheap: no exact check. Every exactly-liquidatable account is in the list (see
        ``_screen``); callers confirm with :meth:`preview_liquidation` or :meth:`account_data`.
        """
        return self._screen.candidates(*self._screen_inputs(now), margin=self._screen_margin)

    def liquidatable_accounts(self, now: int) -> list[str]:
        """Accounts whose exact health factor is below 1 at ``now``, largest debt first.

        The float screen (``_screen.HealthScreen``) proposes candidates with float HF below
        ``1 + 1e-6``; each is confirmed with :meth:`account_data`. The screen recomputes all
        rows only when a price or an index changed since the last call.
        """
        cands = self._screen.candidates(*self._screen_inputs(now), margin=self._screen_margin)
        return [
            a for a in cands
            if self.account_data(now, a).health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD
        ]

    def health_factors_estimate(self, now: int) -> np.ndarray:
        """Float64 health factors of accounts with debt (for plots; not exact)."""
        return self._screen.estimates(*self._screen_inputs(now))

    def snapshot(self, now: int) -> AaveSnapshot:
        """Frozen state: stored reserve data and every account's scaled balances and flags.

        Reserve fields are the *stored* values (as of each reserve's last update, like
        ``getReserveData``), not accrued to ``now``; ``timestamp`` records ``now``.
        """
        reserves = tuple(
            ReserveSnapshot(
                asset=a,
                liquidity_index=r.liquidity_index,
                variable_borrow_index=r.variable_borrow_index,
                current_liquidity_rate=r.current_liquidity_rate,
                current_variable_borrow_rate=r.current_variable_borrow_rate,
                scaled_total_supply=r.scaled_total_supply,
                scaled_total_debt=r.scaled_total_debt,
                virtual_underlying_balance=r.virtual_underlying_balance,
                accrued_to_treasury=r.accrued_to_treasury,
                deficit=r.deficit,
                last_update_timestamp=r.last_update_timestamp,
            )
            for a, r in ((a, self._state[a]) for a in self._order)
        )
        accounts = tuple(
            AccountSnapshot(
                account=acct,
                scaled_collateral=tuple(
                    (a, self._a[a][acct]) for a in self._order if acct in self._a[a]
                ),
                scaled_debt=tuple((a, self._d[a][acct]) for a in self._order if acct in self._d[a]),
                collateral_enabled=tuple(a for a in self._order if a in self._coll.get(acct, ())),
            )
            for acct in self._all_accounts()
        )
        return AaveSnapshot(self.name, now, reserves, accounts)

    def _all_accounts(self) -> Iterator[str]:
        seen = set(self.positions())
        seen.update(a for a, s in self._coll.items() if s)
        seen.update(a for a, s in self._borrow.items() if s)
        return iter(sorted(seen))

    def invariant_errors(self) -> list[str]:
        """Every broken accounting rule (empty when consistent).

        Per reserve: the pool's ledger cash equals the virtual underlying balance; account
        scaled aToken / debt balances sum to the scaled totals; nothing negative. Per account:
        scaled debt implies the borrowing flag.
        """
        errors: list[str] = []
        for a in self._order:
            r = self._state[a]
            cash = self.ledger.balance_of(a, self.address)
            if cash != r.virtual_underlying_balance:
                errors.append(f"{a}: pool cash {cash} != virtual balance {r.virtual_underlying_balance}")
            sa = sum(self._a[a].values())
            if sa != r.scaled_total_supply:
                errors.append(f"{a}: sum of scaled aTokens {sa} != scaled total {r.scaled_total_supply}")
            sd = sum(self._d[a].values())
            if sd != r.scaled_total_debt:
                errors.append(f"{a}: sum of scaled debt {sd} != scaled total {r.scaled_total_debt}")
            for label, value in (
                ("virtual balance", r.virtual_underlying_balance),
                ("deficit", r.deficit),
                ("accrued_to_treasury", r.accrued_to_treasury),
                ("liquidity index", r.liquidity_index - 1),
                ("borrow index", r.variable_borrow_index - RAY),
            ):
                if value < 0:
                    errors.append(f"{a}: negative {label}")
            errors.extend(f"{a}: {h} has negative scaled aTokens" for h, b in self._a[a].items() if b < 0)
            for h, b in self._d[a].items():
                if b < 0:
                    errors.append(f"{a}: {h} has negative scaled debt")
                elif b > 0 and a not in self._borrow.get(h, ()):
                    errors.append(f"{a}: {h} has debt but no borrowing flag")
        return errors


def calculate_available_collateral_to_liquidate(
    *,
    liquidation_protocol_fee: int,
    collateral_price: int,
    collateral_unit: int,
    debt_price: int,
    debt_unit: int,
    debt_to_cover: int,
    borrower_collateral_balance: int,
    liquidation_bonus: int,
) -> tuple[int, int, int, int]:
    """(collateral to liquidator, debt to repay, protocol fee, collateral value in base).

    Mirrors ``LiquidationLogic._calculateAvailableCollateralToLiquidate``:

    * ``base = debtPrice * debtToCover * collUnit / (collPrice * debtUnit)`` (floor),
      ``max = percentMul(base, bonus)``;
    * if ``max > balance``: take the whole balance and repay
      ``percentDivCeil(collPrice * balance * debtUnit / (debtPrice * collUnit), bonus)``;
    * value = ``collateral * collPrice / collUnit`` (floor, *before* the fee);
    * fee = ``percentMul(collateral - percentDiv(collateral, bonus), protocolFee)``,
      subtracted from the liquidator's collateral.

    Amounts base units, prices 8 dp, bonus/fee bps (bonus includes 100 %).
    """
    base_collateral = (debt_price * debt_to_cover * collateral_unit) // (
        collateral_price * debt_unit
    )
    max_collateral = percent_mul(base_collateral, liquidation_bonus)
    if max_collateral > borrower_collateral_balance:
        collateral = borrower_collateral_balance
        debt_needed = percent_div_ceil(
            (collateral_price * collateral * debt_unit) // (debt_price * collateral_unit),
            liquidation_bonus,
        )
    else:
        collateral = max_collateral
        debt_needed = debt_to_cover
    value_base = collateral * collateral_price // collateral_unit
    fee = 0
    if liquidation_protocol_fee != 0:
        bonus_collateral = collateral - percent_div(collateral, liquidation_bonus)
        fee = percent_mul(bonus_collateral, liquidation_protocol_fee)
        collateral -= fee
    return collateral, debt_needed, fee, value_base
