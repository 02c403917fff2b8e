"""Compound III (Comet) in exact integer math: one market, one base asset, several collaterals.

Each public action mirrors one ``Comet.sol`` entry point statement by statement (the
compound-finance/comet repository, ``contracts/Comet.sol``, ``CometCore.sol``,
``CometMath.sol``): the same checks in the same order with the same custom errors,
``accrueInternal`` where the contract calls it, the same rounding (:mod:`.cometmath`), and
token transfers through the shared :class:`~defisim.engine.ledger.Ledger` (the contract's
balance is the ledger holder :attr:`Comet.address`).

=========================  ===================================================================
``supply``                 ``supplyTo(dst, asset, amount)`` (``supplyBase`` / ``supplyCollateral``)
``withdraw``               ``withdrawFrom(src, to, asset, amount)`` (``withdrawBase`` /
                           ``withdrawCollateral``); ``allow`` for managers
``absorb``                 ``absorb(absorber, accounts)`` (``absorbInternal`` per account,
                           ``liquidatorPoints``)
``buy_collateral``         ``buyCollateral(asset, minAmount, baseAmount, recipient)``
``quote_collateral``       ``quoteCollateral``
``get_reserves``           ``getReserves``; ``get_collateral_reserves``: ``getCollateralReserves``
``accrue_account``         ``accrueAccount``; ``pause``: ``pause``
=========================  ===================================================================

Atomicity: every action runs in a :class:`~defisim.engine.protocols.compound_v3._overlay.Tx`
and is committed only when every check passed, like a transaction that did not revert.
``now`` is ``block.timestamp`` (unix seconds); ``sender`` is ``msg.sender``.

Views the contract computes on *stored* indices (``isLiquidatable``,
``isBorrowCollateralized``) are offered here after accrual to ``now`` (what ``absorb`` or a
withdrawal at ``now`` sees); views that accrue in the contract (``getReserves``,
``balanceOf``, ``borrowBalanceOf``, ``totalSupply``, ``totalBorrow``) do the same here.

Liquidator-facing interface: Comet has no third-party liquidation call; underwater accounts
are *absorbed* by the protocol (:meth:`Comet.absorb`) and the collateral is sold from the
store front (:meth:`Comet.buy_collateral`). :meth:`Comet.liquidation_candidates` (a float
screen, no liquidatable account missed) feeds the absorber agent;
:meth:`Comet.largest_pair` returns ``None``, so the generic liquidator ignores Comet.

Not modelled: ``transfer``/``transferAsset``, signatures (``allowBySig``), ``withdrawReserves``,
``approveThis``, the ERC-20 wrapper's events, reentrancy guards, governor and pause-guardian
authorisation (owner functions are plain methods), fee-on-transfer tokens (``doTransferIn``
returns the amount asked), and price-feed decimals (every defisim feed has 8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3._overlay import TotalsState, Tx, UserState
from defisim.engine.protocols.compound_v3._screen import CometScreen
from defisim.engine.protocols.compound_v3.cometmath import (
    accrued_interest_indices,
    checked_add,
    checked_sub,
    div_base_wei,
    div_price,
    get_rate,
    mul_factor,
    mul_price,
    present_value,
    present_value_borrow,
    present_value_supply,
    principal_value,
    repay_and_supply_amount,
    safe64,
    safe128,
    signed256,
    signed_mul_price,
    unsigned256,
    utilization,
    withdraw_and_borrow_amount,
)
from defisim.engine.protocols.compound_v3.constants import (
    BASE_ACCRUAL_SCALE,
    BASE_INDEX_SCALE,
    FACTOR_DESCALE,
    FACTOR_SCALE,
    MAX_ASSETS,
    MAX_BASE_DECIMALS,
    MAX_COLLATERAL_FACTOR,
    NO_DEBT,
    PACKED_ASSETS,
    PAUSE_ABSORB_OFFSET,
    PAUSE_BUY_OFFSET,
    PAUSE_SUPPLY_OFFSET,
    PAUSE_TRANSFER_OFFSET,
    PAUSE_WITHDRAW_OFFSET,
    SECONDS_PER_YEAR,
    TIMESTAMP_LIMIT,
    UINT16_MAX,
    UINT64_MAX,
    UINT104_MAX,
    UINT128_MAX,
    UINT256_MAX,
    WAD,
)
from defisim.engine.protocols.compound_v3.errors import CometError
from defisim.engine.protocols.compound_v3.outcomes import (
    AbsorbedAccount,
    AbsorbResult,
    AccountSnapshot,
    BuyResult,
    CometSnapshot,
    SeizedCollateral,
)
from defisim.engine.protocols.compound_v3.types import (
    AssetConfig,
    AssetInfo,
    CometConfiguration,
    LiquidatorPoints,
    TotalsBasic,
    UserBasic,
)

__all__ = ["MAX_AMOUNT", "Comet", "pack_asset_info"]

MAX_AMOUNT = UINT256_MAX
"""``type(uint256).max``: supply repays the whole borrow, withdraw takes the whole balance."""


def pack_asset_info(config: AssetConfig, offset: int, decimals: int) -> AssetInfo:
    """``getPackedAssetInternal`` then ``getAssetInfo``: checks, and 4-decimal factors.

    ``borrowCF >= liquidateCF`` reverts ``BorrowCFTooLarge`` (before and after descaling),
    ``liquidateCF > 1e18`` ``LiquidateCFTooLarge``, token decimals that differ from the config
    ``BadDecimals``. Factors are stored as ``uint16(factor / 1e14)`` and read back times 1e14;
    the supply cap as ``uint64(cap / 10**decimals)`` whole tokens, read back times the scale.
    """
    if decimals != config.decimals:
        raise CometError(E.BAD_DECIMALS, f"{config.asset} has {decimals} decimals, config says {config.decimals}")
    if config.borrow_collateral_factor >= config.liquidate_collateral_factor:
        raise CometError(E.BORROW_CF_TOO_LARGE, config.asset)
    if config.liquidate_collateral_factor > MAX_COLLATERAL_FACTOR:
        raise CometError(E.LIQUIDATE_CF_TOO_LARGE, config.asset)
    bcf = (config.borrow_collateral_factor // FACTOR_DESCALE) & UINT16_MAX
    lcf = (config.liquidate_collateral_factor // FACTOR_DESCALE) & UINT16_MAX
    lf = (config.liquidation_factor // FACTOR_DESCALE) & UINT16_MAX
    if bcf >= lcf:
        raise CometError(E.BORROW_CF_TOO_LARGE, f"{config.asset} (after keeping 4 decimals)")
    scale = 10**config.decimals
    cap_whole = (config.supply_cap // scale) & UINT64_MAX
    return AssetInfo(
        offset=offset, asset=config.asset, price_feed=config.price_feed, scale=scale,
        borrow_collateral_factor=bcf * FACTOR_DESCALE, liquidate_collateral_factor=lcf * FACTOR_DESCALE,
        liquidation_factor=lf * FACTOR_DESCALE, supply_cap=cap_whole * scale,
    )


def _is_in_asset(assets_in: int, offset: int) -> bool:
    """``isInAsset``."""
    return assets_in & (1 << offset) != 0


class Comet:
    """One Comet market (see the module docstring).

    ``ledger`` holds every token; the contract's balance is held by ``name``
    (:attr:`address`). ``price_feeds`` maps a feed name (``config.base_token_price_feed``,
    each ``AssetConfig.price_feed``) to a callable returning the feed's answer (USD, 8
    decimals). ``created_at`` is the ``initializeStorage`` timestamp.
    """

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        config: CometConfiguration,
        price_feeds: Mapping[str, Callable[[], int]],
        *,
        created_at: int,
    ) -> None:
        self.name = name
        self.address = name
        self.ledger = ledger
        self.config = config
        self.price_feeds = dict(price_feeds)
        base = config.base_token
        if base not in ledger.decimals:
            raise CometError(E.BAD_ASSET, f"base token {base} is not a ledger token")
        decimals = ledger.decimals[base]
        # --- constructor sanity checks, in the contract's order --------------------------
        if decimals > MAX_BASE_DECIMALS:
            raise CometError(E.BAD_DECIMALS, f"base token {base} has {decimals} decimals (max 18)")
        if config.store_front_price_factor > FACTOR_SCALE:
            raise CometError(E.BAD_DISCOUNT, str(config.store_front_price_factor))
        if len(config.asset_configs) > MAX_ASSETS:
            raise CometError(E.TOO_MANY_ASSETS, f"{len(config.asset_configs)} > {MAX_ASSETS}")
        if len(config.asset_configs) > PACKED_ASSETS:  # Comet.sol packs 12; asset 12+ reverts Absurd
            raise CometError(E.TOO_MANY_ASSETS, f"Comet.sol packs {PACKED_ASSETS} assets")
        if config.base_min_for_rewards == 0:
            raise CometError(E.BAD_MINIMUM)
        self.base_token = base
        self.base_scale = 10**decimals
        if self.base_scale < BASE_ACCRUAL_SCALE:
            raise CometError(E.BAD_DECIMALS, f"base token {base} has fewer than 6 decimals")
        self.accrual_descale_factor = self.base_scale // BASE_ACCRUAL_SCALE
        # --- interest rate model: per-year / SECONDS_PER_YEAR, rounded down ------------------
        self.supply_kink = config.supply_kink
        self.supply_per_second_interest_rate_slope_low = config.supply_per_year_interest_rate_slope_low // SECONDS_PER_YEAR
        self.supply_per_second_interest_rate_slope_high = config.supply_per_year_interest_rate_slope_high // SECONDS_PER_YEAR
        self.supply_per_second_interest_rate_base = config.supply_per_year_interest_rate_base // SECONDS_PER_YEAR
        self.borrow_kink = config.borrow_kink
        self.borrow_per_second_interest_rate_slope_low = config.borrow_per_year_interest_rate_slope_low // SECONDS_PER_YEAR
        self.borrow_per_second_interest_rate_slope_high = config.borrow_per_year_interest_rate_slope_high // SECONDS_PER_YEAR
        self.borrow_per_second_interest_rate_base = config.borrow_per_year_interest_rate_base // SECONDS_PER_YEAR
        self.store_front_price_factor = config.store_front_price_factor
        self.target_reserves = config.target_reserves
        self.base_borrow_min = config.base_borrow_min
        # --- assets ---------------------------------------------------------------------------
        infos: list[AssetInfo] = []
        for i, cfg in enumerate(config.asset_configs):
            if cfg.asset not in ledger.decimals:
                raise CometError(E.BAD_ASSET, f"{cfg.asset} is not a ledger token")
            if cfg.asset == base or any(x.asset == cfg.asset for x in infos):
                raise CometError(E.BAD_ASSET, f"{cfg.asset} is listed twice or is the base token")
            infos.append(pack_asset_info(cfg, i, ledger.decimals[cfg.asset]))
        self.asset_infos: tuple[AssetInfo, ...] = tuple(infos)
        self._info_by_asset = {info.asset: info for info in infos}
        for feed in [config.base_token_price_feed, *(i.price_feed for i in infos)]:
            if feed not in self.price_feeds:
                raise CometError(E.BAD_DECIMALS, f"no price feed named {feed!r}")
        self._feed_of = {base: config.base_token_price_feed, **{i.asset: i.price_feed for i in infos}}
        # --- initializeStorage --------------------------------------------------------------
        self._totals = TotalsState(BASE_INDEX_SCALE, BASE_INDEX_SCALE,
                                   last_accrual_time=self._get_now(created_at))
        self._collateral_totals: dict[str, int] = {i.asset: 0 for i in infos}
        self._users: dict[str, UserState] = {}
        self._points: dict[str, LiquidatorPoints] = {}
        self._allowed: set[tuple[str, str]] = set()
        self._dust_supply = 0
        self._dust_borrow = 0
        self._versions: dict[str, int] = {}
        self._screen = CometScreen([i.asset for i in infos])

    # --- internals: time, prices, accrual -----------------------------------------------------

    @staticmethod
    def _get_now(now: int) -> int:
        """``getNowInternal``: ``TimestampTooLarge`` at or above 2**40."""
        if now >= TIMESTAMP_LIMIT:
            raise CometError(E.TIMESTAMP_TOO_LARGE, str(now))
        return now

    def _price(self, feed: str) -> int:
        """``getPrice``: the feed's answer (USD 1e8); ``BadPrice`` if not positive."""
        price = self.price_feeds[feed]()
        if price <= 0:
            raise CometError(E.BAD_PRICE, f"{feed} answered {price}")
        return price

    def _base_price(self) -> int:
        return self._price(self.config.base_token_price_feed)

    def _supply_rate(self, util: int) -> int:
        return get_rate(util, self.supply_kink, self.supply_per_second_interest_rate_base,
                        self.supply_per_second_interest_rate_slope_low,
                        self.supply_per_second_interest_rate_slope_high)

    def _borrow_rate(self, util: int) -> int:
        return get_rate(util, self.borrow_kink, self.borrow_per_second_interest_rate_base,
                        self.borrow_per_second_interest_rate_slope_low,
                        self.borrow_per_second_interest_rate_slope_high)

    def _accrued_indices(self, t: TotalsState, now: int) -> tuple[int, int]:
        """``accruedInterestIndices(getNowInternal() - lastAccrualTime)`` (a view)."""
        elapsed = checked_sub(self._get_now(now), t.last_accrual_time)
        if elapsed == 0:
            return t.base_supply_index, t.base_borrow_index
        util = utilization(t.base_supply_index, t.base_borrow_index, t.total_supply_base, t.total_borrow_base)
        return accrued_interest_indices(t.base_supply_index, t.base_borrow_index, self._supply_rate(util),
                                        self._borrow_rate(util), elapsed)

    def _accrue(self, tx: Tx, now: int) -> None:
        """``accrueInternal``: indices, reward tracking indices, ``lastAccrualTime``."""
        t = tx.totals
        now = self._get_now(now)
        elapsed = checked_sub(now, t.last_accrual_time)
        if elapsed == 0:
            return
        t.base_supply_index, t.base_borrow_index = self._accrued_indices(t, now)
        cfg = self.config
        if t.total_supply_base >= cfg.base_min_for_rewards:
            t.tracking_supply_index = checked_add(t.tracking_supply_index, safe64(div_base_wei(
                cfg.base_tracking_supply_speed * elapsed, t.total_supply_base, self.base_scale)), 64)
        if t.total_borrow_base >= cfg.base_min_for_rewards:
            t.tracking_borrow_index = checked_add(t.tracking_borrow_index, safe64(div_base_wei(
                cfg.base_tracking_borrow_speed * elapsed, t.total_borrow_base, self.base_scale)), 64)
        t.last_accrual_time = now

    def _present_value(self, tx: Tx, principal: int) -> int:
        """``presentValue`` at the transaction's stored indices."""
        return present_value(principal, tx.totals.base_supply_index, tx.totals.base_borrow_index)

    def _principal_value(self, tx: Tx, balance: int) -> int:
        """``principalValue`` at the transaction's stored indices."""
        return principal_value(balance, tx.totals.base_supply_index, tx.totals.base_borrow_index)

    def _update_base_principal(self, tx: Tx, u: UserState, principal_new: int) -> None:
        """``updateBasePrincipal``: accrue reward tracking on the old principal, then store."""
        t = tx.totals
        principal = u.principal
        u.principal = principal_new
        if principal >= 0:
            delta = checked_sub(t.tracking_supply_index, u.base_tracking_index)
            accrued = principal * delta // self.config.tracking_index_scale // self.accrual_descale_factor
        else:
            delta = checked_sub(t.tracking_borrow_index, u.base_tracking_index)
            accrued = -principal * delta // self.config.tracking_index_scale // self.accrual_descale_factor
        u.base_tracking_accrued = checked_add(u.base_tracking_accrued, safe64(accrued), 64)
        u.base_tracking_index = t.tracking_supply_index if principal_new >= 0 else t.tracking_borrow_index

    @staticmethod
    def _note_dust(tx: Tx, old: int, new: int, supply_change: int, borrow_change: int) -> None:
        """Book what the totals moved beyond the principals' own change (see :meth:`rounding_dust`)."""
        tx.dust[0] += supply_change - (max(new, 0) - max(old, 0))
        tx.dust[1] += borrow_change - (max(-new, 0) - max(-old, 0))

    @staticmethod
    def _update_assets_in(u: UserState, info: AssetInfo, initial: int, final: int) -> None:
        """``updateAssetsIn``: set the asset's bit on entering, clear it on leaving."""
        if initial == 0 and final != 0:
            u.assets_in |= 1 << info.offset
        elif initial != 0 and final == 0:
            u.assets_in &= ~(1 << info.offset)

    def _asset_info(self, asset: str) -> AssetInfo:
        """``getAssetInfoByAddress``: ``BadAsset`` for the base token or an unlisted one."""
        info = self._info_by_asset.get(asset)
        if info is None:
            raise CometError(E.BAD_ASSET, asset)
        return info

    def _is_paused(self, tx: Tx, offset: int) -> bool:
        return tx.totals.pause_flags & (1 << offset) != 0

    # --- internals: collateralisation ------------------------------------------------------------

    def _liquidity(self, tx: Tx, account: str, factor: str, stop_at_zero: bool) -> int:
        """The loop of ``isBorrowCollateralized`` / ``isLiquidatable``: signed USD (1e8)
        ``signedMulPrice(presentValue(principal)) + Σ mulFactor(mulPrice(balance), factor)``,
        leaving the loop early once it is non-negative (as the contract does)."""
        u = tx.user_ro(account)
        liquidity = signed_mul_price(self._present_value(tx, u.principal), self._base_price(), self.base_scale)
        for info in self.asset_infos:
            if _is_in_asset(u.assets_in, info.offset):
                if stop_at_zero and liquidity >= 0:
                    return liquidity
                value = mul_price(u.collateral.get(info.asset, 0), self._price(info.price_feed), info.scale)
                liquidity += signed256(mul_factor(value, getattr(info, factor)))
        return liquidity

    def _is_borrow_collateralized(self, tx: Tx, account: str) -> bool:
        """``isBorrowCollateralized`` at the transaction's stored indices."""
        if tx.user_ro(account).principal >= 0:
            return True
        return self._liquidity(tx, account, "borrow_collateral_factor", True) >= 0

    def _is_liquidatable(self, tx: Tx, account: str) -> bool:
        """``isLiquidatable`` at the transaction's stored indices."""
        if tx.user_ro(account).principal >= 0:
            return False
        return self._liquidity(tx, account, "liquidate_collateral_factor", True) < 0

    def _health(self, tx: Tx, account: str, factor: str = "liquidate_collateral_factor") -> int:
        """WAD health ``Σ mulFactor(mulPrice(balance), factor) * 1e18 / debtUsd`` (rounded down).

        ``debtUsd = -signedMulPrice(presentValue(principal))``, the same two terms as
        :meth:`_is_liquidatable`, so ``health < 1e18`` exactly when the account is
        liquidatable. ``2**256 - 1`` without debt (or a debt worth 0 USD units).
        """
        u = tx.user_ro(account)
        if u.principal >= 0:
            return NO_DEBT
        debt_usd = -signed_mul_price(self._present_value(tx, u.principal), self._base_price(), self.base_scale)
        if debt_usd == 0:
            return NO_DEBT
        cap = debt_usd + self._liquidity(tx, account, factor, False)
        return cap * WAD // debt_usd

    # --- internals: reserves --------------------------------------------------------------

    def _get_reserves(self, tx: Tx, now: int) -> int:
        """``getReserves``: ``balance - totalSupply + totalBorrow`` at accrued indices (signed)."""
        t = tx.totals
        si, bi = self._accrued_indices(t, now)
        balance = tx.balance_of(self.base_token, self.address)
        return (signed256(balance) - signed256(present_value_supply(si, t.total_supply_base))
                + signed256(present_value_borrow(bi, t.total_borrow_base)))

    def _collateral_reserves(self, tx: Tx, asset: str) -> int:
        """``getCollateralReserves``: ``balanceOf(this) - totalSupplyAsset``."""
        return checked_sub(tx.balance_of(asset, self.address), tx.collateral_totals.get(asset, 0))

    def _reserve_equity(self, tx: Tx, now: int) -> int:
        """``getReserves()`` plus every collateral reserve at the feeds, in base units
        (``divPrice(mulPrice(reserve, price, scale), basePrice, baseScale)``; defisim's)."""
        equity = self._get_reserves(tx, now)
        base_price = self._base_price()
        for info in self.asset_infos:
            held = self._collateral_reserves(tx, info.asset)
            if held:
                equity += div_price(mul_price(held, self._price(info.price_feed), info.scale), base_price,
                                    self.base_scale)
        return equity

    def _quote_collateral(self, asset: str, base_amount: int) -> int:
        """``quoteCollateral``: collateral units for ``base_amount`` at the store-front price.

        ``discountFactor = mulFactor(storeFrontPriceFactor, 1e18 - liquidationFactor)``,
        ``assetPriceDiscounted = mulFactor(assetPrice, 1e18 - discountFactor)``, then
        ``basePrice * baseAmount * assetScale / assetPriceDiscounted / baseScale``.
        """
        info = self._asset_info(asset)
        asset_price = self._price(info.price_feed)
        discount_factor = mul_factor(self.store_front_price_factor, FACTOR_SCALE - info.liquidation_factor)
        discounted = mul_factor(asset_price, FACTOR_SCALE - discount_factor)
        base_price = self._base_price()
        if discounted == 0:
            raise CometError(E.PANIC_DIVISION, f"discounted price of {asset} is 0")
        return base_price * base_amount * info.scale // discounted // self.base_scale

    # --- supply -----------------------------------------------------------------------------------

    def allow(self, owner: str, manager: str, is_allowed: bool) -> None:
        """``allow`` (CometExt): let ``manager`` withdraw on ``owner``'s behalf."""
        if is_allowed:
            self._allowed.add((owner, manager))
        else:
            self._allowed.discard((owner, manager))

    def has_permission(self, owner: str, manager: str) -> bool:
        """``hasPermission``."""
        return owner == manager or (owner, manager) in self._allowed

    def supply(self, now: int, sender: str, asset: str, amount: int, dst: str | None = None) -> None:
        """``supplyTo(dst, asset, amount)`` from ``sender`` (``dst`` defaults to ``sender``).

        Base: ``doTransferIn``, ``accrueInternal``, ``principalNew =
        principalValue(presentValue(principal) + amount)``; the change is split by
        ``repayAndSupplyAmount`` into the totals. ``MAX_AMOUNT`` repays ``borrowBalanceOf(dst)``.
        Collateral: ``doTransferIn``, ``totalSupplyAsset += amount`` (``SupplyCapExceeded``
        above the cap), balance and ``assetsIn`` updated; no accrual.
        """
        dst = sender if dst is None else dst
        tx = Tx(self)
        if self._is_paused(tx, PAUSE_SUPPLY_OFFSET):
            raise CometError(E.PAUSED, "supply")
        if asset == self.base_token:
            if amount == MAX_AMOUNT:
                amount = self._borrow_balance_of(tx, now, dst)
            self._supply_base(tx, now, sender, dst, amount)
        else:
            self._supply_collateral(tx, sender, dst, asset, safe128(amount))
        tx.commit()

    def _supply_base(self, tx: Tx, now: int, src: str, dst: str, amount: int) -> None:
        """``supplyBase``."""
        tx.transfer(self.base_token, src, self.address, amount)
        self._accrue(tx, now)
        u = tx.user(dst)
        principal = u.principal
        balance = self._present_value(tx, principal) + signed256(amount)
        principal_new = self._principal_value(tx, balance)
        repay, supply = repay_and_supply_amount(principal, principal_new)
        t = tx.totals
        t.total_supply_base = checked_add(t.total_supply_base, supply, 104)
        t.total_borrow_base = checked_sub(t.total_borrow_base, repay)
        self._note_dust(tx, principal, principal_new, supply, -repay)
        self._update_base_principal(tx, u, principal_new)

    def _supply_collateral(self, tx: Tx, src: str, dst: str, asset: str, amount: int) -> None:
        """``supplyCollateral``."""
        if asset not in self.ledger.decimals:
            raise CometError(E.BAD_ASSET, asset)
        tx.transfer(asset, src, self.address, amount)
        info = self._asset_info(asset)
        total = checked_add(tx.collateral_totals[asset], amount, 128)
        if total > info.supply_cap:
            raise CometError(E.SUPPLY_CAP_EXCEEDED, f"{asset}: {total} > {info.supply_cap}")
        u = tx.user(dst)
        before = u.collateral.get(asset, 0)
        after = checked_add(before, amount, 128)
        tx.collateral_totals[asset] = total
        u.collateral[asset] = after
        self._update_assets_in(u, info, before, after)

    # --- withdraw ------------------------------------------------------------------------------

    def withdraw(
        self, now: int, sender: str, asset: str, amount: int, to: str | None = None, src: str | None = None,
    ) -> None:
        """``withdrawFrom(src, to, asset, amount)`` by ``sender`` (defaults: ``src = to =
        sender``); ``Unauthorized`` unless ``sender`` may act for ``src``.

        Base: accrue, ``principalNew = principalValue(presentValue(principal) - amount)``,
        split by ``withdrawAndBorrowAmount``; a resulting borrow must be at least
        ``baseBorrowMin`` (``BorrowTooSmall``) and ``isBorrowCollateralized``
        (``NotCollateralized``). ``MAX_AMOUNT`` withdraws ``balanceOf(src)``.
        Collateral: balance and total reduced, then ``isBorrowCollateralized`` *without*
        accrual (as on chain: "BorrowCF < LiquidationCF covers small changes").
        """
        src = sender if src is None else src
        to = sender if to is None else to
        tx = Tx(self)
        if self._is_paused(tx, PAUSE_WITHDRAW_OFFSET):
            raise CometError(E.PAUSED, "withdraw")
        if not self.has_permission(src, sender):
            raise CometError(E.UNAUTHORIZED, f"{sender} may not act for {src}")
        if asset == self.base_token:
            if amount == MAX_AMOUNT:
                amount = self._balance_of(tx, now, src)
            self._withdraw_base(tx, now, src, to, amount)
        else:
            self._withdraw_collateral(tx, src, to, asset, safe128(amount))
        tx.commit()

    def _withdraw_base(self, tx: Tx, now: int, src: str, to: str, amount: int) -> None:
        """``withdrawBase``."""
        self._accrue(tx, now)
        u = tx.user(src)
        principal = u.principal
        balance = self._present_value(tx, principal) - signed256(amount)
        principal_new = self._principal_value(tx, balance)
        withdrawn, borrowed = withdraw_and_borrow_amount(principal, principal_new)
        t = tx.totals
        t.total_supply_base = checked_sub(t.total_supply_base, withdrawn)
        t.total_borrow_base = checked_add(t.total_borrow_base, borrowed, 104)
        self._note_dust(tx, principal, principal_new, -withdrawn, borrowed)
        self._update_base_principal(tx, u, principal_new)
        if balance < 0:
            if -balance < self.base_borrow_min:
                raise CometError(E.BORROW_TOO_SMALL, f"{-balance} < baseBorrowMin {self.base_borrow_min}")
            if not self._is_borrow_collateralized(tx, src):
                raise CometError(E.NOT_COLLATERALIZED, src)
        tx.transfer(self.base_token, self.address, to, amount)

    def _withdraw_collateral(self, tx: Tx, src: str, to: str, asset: str, amount: int) -> None:
        """``withdrawCollateral``."""
        u = tx.user(src)
        before = u.collateral.get(asset, 0)
        after = checked_sub(before, amount)
        tx.collateral_totals[asset] = checked_sub(tx.collateral_totals.get(asset, 0), amount)
        u.collateral[asset] = after
        info = self._asset_info(asset)
        self._update_assets_in(u, info, before, after)
        if not self._is_borrow_collateralized(tx, src):
            raise CometError(E.NOT_COLLATERALIZED, src)
        tx.transfer(asset, self.address, to, amount)

    # --- absorb -------------------------------------------------------------------------------

    def absorb(
        self, now: int, absorber: str, accounts: Sequence[str], *, gas_used: int = 0, base_fee: int = 0,
    ) -> AbsorbResult:
        """``absorb(absorber, accounts)``: take each underwater account onto the books.

        After ``accrueInternal``, every account must be ``isLiquidatable`` (else the whole
        call reverts ``NotLiquidatable``). Per account (``absorbInternal``): all collateral is
        seized into the protocol's collateral reserves, worth ``deltaValue = Σ
        mulFactor(mulPrice(amount, price, scale), liquidationFactor)``; the balance becomes
        ``max(0, oldBalance + divPrice(deltaValue, basePrice, baseScale))`` (the rest of the
        debt is absorbed by the reserves); ``assetsIn = 0``. The absorber earns points:
        ``numAbsorbs += 1``, ``numAbsorbed += len(accounts)``, ``approxSpend += gas_used *
        base_fee`` (``gasUsed`` is the caller's gas figure here; on chain the gas the call
        used). Raises :class:`CometError` on a revert.
        """
        tx = Tx(self)
        if self._is_paused(tx, PAUSE_ABSORB_OFFSET):
            raise CometError(E.PAUSED, "absorb")
        self._accrue(tx, now)
        outs = tuple(self._absorb_internal(tx, now, account) for account in accounts)
        points = tx.liquidator_points(absorber)
        points = LiquidatorPoints(
            num_absorbs=checked_add(points.num_absorbs, 1, 32),
            num_absorbed=checked_add(points.num_absorbed, safe64(len(accounts)), 64),
            approx_spend=checked_add(points.approx_spend, safe128(gas_used * base_fee), 128),
        )
        tx.points[absorber] = points
        tx.commit()
        return AbsorbResult(absorber, outs, points, gas_used, base_fee)

    def _absorb_internal(self, tx: Tx, now: int, account: str) -> AbsorbedAccount:
        """``absorbInternal`` plus the reserve accounting of :class:`AbsorbedAccount`."""
        if not self._is_liquidatable(tx, account):
            raise CometError(E.NOT_LIQUIDATABLE, account)
        health = self._health(tx, account)
        reserves_before = self._get_reserves(tx, now)
        equity_before = self._reserve_equity(tx, now)
        u = tx.user(account)
        old_principal = u.principal
        old_balance = self._present_value(tx, old_principal)
        assets_in = u.assets_in
        base_price = self._base_price()
        delta_value = 0
        seized: list[SeizedCollateral] = []
        for info in self.asset_infos:
            if _is_in_asset(assets_in, info.offset):
                amount = u.collateral.get(info.asset, 0)
                u.collateral[info.asset] = 0
                tx.collateral_totals[info.asset] = checked_sub(tx.collateral_totals[info.asset], amount)
                value = mul_price(amount, self._price(info.price_feed), info.scale)
                delta_value += mul_factor(value, info.liquidation_factor)
                seized.append(SeizedCollateral(info.asset, amount, value))
        delta_balance = div_price(delta_value, base_price, self.base_scale)
        new_balance = old_balance + signed256(delta_balance)
        new_balance = max(new_balance, 0)  # "all excess debt absorbed by reserves"
        new_principal = self._principal_value(tx, new_balance)
        self._update_base_principal(tx, u, new_principal)
        u.assets_in = 0
        repay, supply = repay_and_supply_amount(old_principal, new_principal)
        t = tx.totals
        t.total_supply_base = checked_add(t.total_supply_base, supply, 104)
        t.total_borrow_base = checked_sub(t.total_borrow_base, repay)
        self._note_dust(tx, old_principal, new_principal, supply, -repay)
        base_paid_out = unsigned256(new_balance - old_balance)
        # --- defisim's reserve accounting (not contract state) ------------------------------
        debt = max(0, -old_balance)
        collateral_usd = sum(s.value_usd for s in seized)
        collateral_base = div_price(collateral_usd, base_price, self.base_scale)
        shortfall = max(0, debt - collateral_base)
        drawn = min(shortfall, max(equity_before, 0))
        return AbsorbedAccount(
            account=account, old_principal=old_principal, new_principal=new_principal, old_balance=old_balance,
            collateral=tuple(seized), delta_value=delta_value, delta_balance=delta_balance,
            base_paid_out=base_paid_out,
            value_of_base_paid_out=mul_price(base_paid_out, base_price, self.base_scale),
            repay_amount=repay, supply_amount=supply, base_price=base_price,
            debt_absorbed=debt, debt_absorbed_usd=mul_price(debt, base_price, self.base_scale),
            collateral_value_usd=collateral_usd, collateral_value_base=collateral_base,
            shortfall=shortfall, shortfall_usd=mul_price(shortfall, base_price, self.base_scale),
            reserve_equity_before=equity_before, reserves_drawn=drawn, uncovered=shortfall - drawn,
            reserves_before=reserves_before, reserves_after=self._get_reserves(tx, now), health_before=health,
        )

    # --- buy collateral --------------------------------------------------------------------------

    def buy_collateral(
        self, now: int, buyer: str, asset: str, min_amount: int, base_amount: int, recipient: str | None = None,
    ) -> BuyResult:
        """``buyCollateral(asset, minAmount, baseAmount, recipient)`` by ``buyer``.

        Allowed only while ``getReserves() < targetReserves`` (else ``NotForSale``); takes
        ``base_amount`` from the buyer, quotes ``quoteCollateral(asset, baseAmount)``
        (``TooMuchSlippage`` below ``min_amount``, ``InsufficientReserves`` above the
        collateral reserves) and sends it to ``recipient`` (default ``buyer``). No accrual.
        """
        recipient = buyer if recipient is None else recipient
        tx = Tx(self)
        if self._is_paused(tx, PAUSE_BUY_OFFSET):
            raise CometError(E.PAUSED, "buy")
        reserves = self._get_reserves(tx, now)
        if reserves >= 0 and reserves >= self.target_reserves:
            raise CometError(E.NOT_FOR_SALE, f"reserves {reserves} >= targetReserves {self.target_reserves}")
        tx.transfer(self.base_token, buyer, self.address, base_amount)
        amount = self._quote_collateral(asset, base_amount)
        if amount < min_amount:
            raise CometError(E.TOO_MUCH_SLIPPAGE, f"{amount} < {min_amount}")
        if amount > self._collateral_reserves(tx, asset):
            raise CometError(E.INSUFFICIENT_RESERVES, f"{amount} > {self._collateral_reserves(tx, asset)}")
        tx.transfer(asset, self.address, recipient, safe128(amount))
        tx.commit()
        return BuyResult(buyer, asset, base_amount, amount, recipient, reserves)

    def quote_collateral(self, asset: str, base_amount: int) -> int:
        """``quoteCollateral(asset, baseAmount)`` (a view; see :meth:`_quote_collateral`)."""
        return self._quote_collateral(asset, base_amount)

    def base_for_collateral(self, asset: str, collateral: int) -> int:
        """The largest ``baseAmount`` whose :meth:`quote_collateral` is at most ``collateral``
        (defisim's inverse of the quote, for buyers sizing a purchase; exact)."""
        if collateral <= 0:
            return 0
        info = self._asset_info(asset)
        discount_factor = mul_factor(self.store_front_price_factor, FACTOR_SCALE - info.liquidation_factor)
        discounted = mul_factor(self._price(info.price_feed), FACTOR_SCALE - discount_factor)
        base_price = self._base_price()
        # quote(b) = floor(floor(bp * b * s / d) / S) <= c  <=>  bp * b * s < (c + 1) * S * d
        b = ((collateral + 1) * self.base_scale * discounted - 1) // (base_price * info.scale)
        while b > 0 and self._quote_collateral(asset, b) > collateral:  # pragma: no cover - exact bound
            b -= 1
        return b

    # --- owner functions --------------------------------------------------------------------

    def pause(self, supply: bool, transfer: bool, withdraw: bool, absorb: bool, buy: bool) -> None:
        """``pause``: set every pause flag at once."""
        flags = 0
        for on, offset in ((supply, PAUSE_SUPPLY_OFFSET), (transfer, PAUSE_TRANSFER_OFFSET),
                           (withdraw, PAUSE_WITHDRAW_OFFSET), (absorb, PAUSE_ABSORB_OFFSET),
                           (buy, PAUSE_BUY_OFFSET)):
            flags |= int(on) << offset
        self._totals.pause_flags = flags

    def accrue_account(self, now: int, account: str) -> None:
        """``accrueAccount``: accrue, then rewrite the principal (reward tracking)."""
        tx = Tx(self)
        self._accrue(tx, now)
        u = tx.user(account)
        self._update_base_principal(tx, u, u.principal)
        tx.commit()

    # --- views (exact) ----------------------------------------------------------------------

    def _view(self, now: int) -> Tx:
        """A throwaway transaction accrued to ``now``."""
        tx = Tx(self)
        self._accrue(tx, now)
        return tx

    def _balance_of(self, tx: Tx, now: int, account: str) -> int:
        si, _ = self._accrued_indices(tx.totals, now)
        principal = tx.user_ro(account).principal
        return present_value_supply(si, principal) if principal > 0 else 0

    def _borrow_balance_of(self, tx: Tx, now: int, account: str) -> int:
        _, bi = self._accrued_indices(tx.totals, now)
        principal = tx.user_ro(account).principal
        return present_value_borrow(bi, -principal) if principal < 0 else 0

    def balance_of(self, now: int, account: str) -> int:
        """``balanceOf``: positive base balance at accrued indices (base units), else 0."""
        return self._balance_of(Tx(self), now, account)

    def borrow_balance_of(self, now: int, account: str) -> int:
        """``borrowBalanceOf``: debt at accrued indices (base units), else 0."""
        return self._borrow_balance_of(Tx(self), now, account)

    def total_supply(self, now: int) -> int:
        """``totalSupply``: ``presentValueSupply(accrued index, totalSupplyBase)``."""
        si, _ = self._accrued_indices(self._totals, now)
        return present_value_supply(si, self._totals.total_supply_base)

    def total_borrow(self, now: int) -> int:
        """``totalBorrow``: ``presentValueBorrow(accrued index, totalBorrowBase)``."""
        _, bi = self._accrued_indices(self._totals, now)
        return present_value_borrow(bi, self._totals.total_borrow_base)

    def get_reserves(self, now: int) -> int:
        """``getReserves`` (signed base units; negative when absorbed debt exceeds them)."""
        return self._get_reserves(Tx(self), now)

    def get_collateral_reserves(self, asset: str) -> int:
        """``getCollateralReserves``: collateral the protocol holds beyond users' balances."""
        return self._collateral_reserves(Tx(self), asset)

    def reserve_equity(self, now: int) -> int:
        """``getReserves()`` plus the collateral reserves at the feeds, base units (defisim's
        measure of what the reserves can absorb; see :class:`AbsorbedAccount`)."""
        return self._reserve_equity(Tx(self), now)

    def get_utilization(self) -> int:
        """``getUtilization`` (1e18) at the stored indices."""
        t = self._totals
        return utilization(t.base_supply_index, t.base_borrow_index, t.total_supply_base, t.total_borrow_base)

    def get_supply_rate(self, util: int) -> int:
        """``getSupplyRate(utilization)``: per-second rate, 1e18."""
        return self._supply_rate(util)

    def get_borrow_rate(self, util: int) -> int:
        """``getBorrowRate(utilization)``: per-second rate, 1e18."""
        return self._borrow_rate(util)

    def get_price(self, feed: str) -> int:
        """``getPrice(priceFeed)``."""
        return self._price(feed)

    def get_asset_info(self, i: int) -> AssetInfo:
        """``getAssetInfo(i)``; ``BadAsset`` past ``numAssets``."""
        if not 0 <= i < len(self.asset_infos):
            raise CometError(E.BAD_ASSET, str(i))
        return self.asset_infos[i]

    def get_asset_info_by_address(self, asset: str) -> AssetInfo:
        """``getAssetInfoByAddress``."""
        return self._asset_info(asset)

    def is_borrow_collateralized(self, now: int, account: str) -> bool:
        """``isBorrowCollateralized`` after accrual to ``now``."""
        return self._is_borrow_collateralized(self._view(now), account)

    def is_liquidatable(self, now: int, account: str) -> bool:
        """``isLiquidatable`` after accrual to ``now`` (what ``absorb`` at ``now`` checks)."""
        return self._is_liquidatable(self._view(now), account)

    def health_factor(self, now: int, account: str) -> int:
        """WAD health at the liquidate collateral factors after accrual to ``now``
        (``< 1e18`` exactly when :meth:`is_liquidatable`; ``2**256 - 1`` without debt)."""
        return self._health(self._view(now), account)

    def borrow_health_factor(self, now: int, account: str) -> int:
        """WAD health at the borrow collateral factors (``< 1e18`` exactly when not
        ``isBorrowCollateralized``)."""
        return self._health(self._view(now), account, "borrow_collateral_factor")

    def user_basic(self, account: str) -> UserBasic:
        """``userBasic(account)`` (stored)."""
        return Tx(self).user_ro(account).frozen()

    def collateral_balance_of(self, account: str, asset: str) -> int:
        """``userCollateral(account, asset).balance``."""
        return Tx(self).user_ro(account).collateral.get(asset, 0)

    def totals_basic(self) -> TotalsBasic:
        """``totalsBasic()`` (stored, not accrued)."""
        return self._totals.frozen()

    def totals_collateral(self, asset: str) -> int:
        """``totalsCollateral(asset).totalSupplyAsset``."""
        return self._collateral_totals.get(asset, 0)

    def liquidator_points(self, absorber: str) -> LiquidatorPoints:
        """``liquidatorPoints(absorber)``."""
        return Tx(self).liquidator_points(absorber)

    def rounding_dust(self) -> tuple[int, int]:
        """Principal ``(totalSupplyBase, totalBorrowBase)`` count beyond the accounts' sums.

        Comet moves the totals only by ``repayAndSupplyAmount`` / ``withdrawAndBorrowAmount``,
        which return ``(0, 0)`` when rounding moves a principal *against* the action (supplying
        0 can lower a supplier's principal by one: ``principalValue(presentValue(p)) = p - 1``;
        a zero withdrawal can lower a borrower's by one). The account changes, the total does
        not: the totals then exceed the sums by this dust, which only grows.
        """
        return self._dust_supply, self._dust_borrow

    def collateral_assets(self) -> list[str]:
        """Collateral tokens in asset order."""
        return [i.asset for i in self.asset_infos]

    # --- liquidator-facing interface ------------------------------------------------------------

    def assets(self) -> list[str]:
        """The base token, then every collateral in asset order."""
        return [self.base_token, *self.collateral_assets()]

    def decimals(self, asset: str) -> int:
        """Decimals of ``asset``."""
        return self.ledger.decimals[asset]

    def usd_price(self, asset: str) -> int:
        """The Comet feed's answer for ``asset`` (USD 1e8)."""
        return self._price(self._feed_of[asset])

    def value_usd(self, asset: str, amount: int) -> int:
        """USD value (8 decimals) of ``amount`` base units at the Comet feed, rounded down."""
        return mul_price(amount, self.usd_price(asset), 10 ** self.ledger.decimals[asset])

    def positions(self) -> list[str]:
        """Every non-empty account, sorted."""
        return sorted(self._users)

    def account_version(self, account: str) -> int:
        """Changes whenever ``account`` changes (callers' caches)."""
        return self._versions.get(account, 0)

    def largest_pair(self, now: int, account: str) -> tuple[str, str] | None:
        """Always ``None``: Comet has no third-party liquidation (accounts are absorbed), so
        the generic liquidator finds nothing to do here."""
        return None

    def _screen_inputs(self, now: int) -> tuple[int, int, int, list[int], list[int], list[int]]:
        _, bi = self._accrued_indices(self._totals, now)
        infos = self.asset_infos
        return (self._base_price(), self.base_scale, bi, [self._price(i.price_feed) for i in infos],
                [i.scale for i in infos], [i.liquidate_collateral_factor for i in infos])

    def liquidation_candidates(self, now: int) -> list[str]:
        """Accounts that *may* be liquidatable at ``now``, largest USD debt first.

        Cheap: a float screen (``_screen.CometScreen``) re-evaluated only when a price, an
        account, or (by more than 1e-7) the borrow index changed; no liquidatable account is
        missed. Confirm with :meth:`is_liquidatable`.
        """
        return self._screen.candidates(*self._screen_inputs(now))

    def health_factors_estimate(self, now: int) -> np.ndarray:
        """Float health factors of accounts with debt (for plots)."""
        return self._screen.estimates(*self._screen_inputs(now))

    def _committed(self, users: Mapping[str, UserState]) -> None:
        """Called by :meth:`Tx.commit`: bump versions and refresh the screen rows."""
        for account, u in users.items():
            self._versions[account] = self._versions.get(account, 0) + 1
            self._screen.set_row(account, u.principal, u.collateral)

    # --- snapshot and invariants -------------------------------------------------------------

    def snapshot(self, now: int) -> CometSnapshot:
        """Frozen stored state (not accrued to ``now``; ``timestamp`` records ``now``)."""
        accounts = tuple(
            AccountSnapshot(a, u.principal, u.base_tracking_index, u.base_tracking_accrued, u.assets_in,
                            tuple(sorted((k, v) for k, v in u.collateral.items() if v)))
            for a, u in sorted(self._users.items())
        )
        return CometSnapshot(
            name=self.name, timestamp=now, totals=self._totals.frozen(),
            collateral_totals=tuple((i.asset, self._collateral_totals[i.asset]) for i in self.asset_infos),
            accounts=accounts, liquidator_points=tuple(sorted(self._points.items())),
        )

    def invariant_errors(self) -> list[str]:
        """Every broken accounting rule (empty when consistent).

        ``Σ positive principals + supply dust == totalSupplyBase``, ``Σ -negative principals +
        borrow dust == totalBorrowBase`` with both dusts non-negative (:meth:`rounding_dust`);
        per collateral ``Σ balances == totalSupplyAsset <= the contract's
        ledger balance`` (collateral reserves never negative); ``assetsIn`` bit set exactly for
        non-zero balances; every field within its Solidity type; indices at least 1e15.
        """
        errors: list[str] = []
        t = self._totals
        for label, value, bound in (
            ("baseSupplyIndex", t.base_supply_index, UINT64_MAX), ("baseBorrowIndex", t.base_borrow_index, UINT64_MAX),
            ("trackingSupplyIndex", t.tracking_supply_index, UINT64_MAX),
            ("trackingBorrowIndex", t.tracking_borrow_index, UINT64_MAX),
            ("totalSupplyBase", t.total_supply_base, UINT104_MAX), ("totalBorrowBase", t.total_borrow_base, UINT104_MAX),
        ):
            if not 0 <= value <= bound:
                errors.append(f"{self.name}: {label} {value} outside its type")
        if t.base_supply_index < BASE_INDEX_SCALE or t.base_borrow_index < BASE_INDEX_SCALE:
            errors.append(f"{self.name}: an index fell below 1e15")
        supply = sum(u.principal for u in self._users.values() if u.principal > 0)
        borrow = sum(-u.principal for u in self._users.values() if u.principal < 0)
        if supply + self._dust_supply != t.total_supply_base or self._dust_supply < 0:
            errors.append(f"{self.name}: sum of supply principals {supply} + dust {self._dust_supply} != "
                          f"totalSupplyBase {t.total_supply_base}")
        if borrow + self._dust_borrow != t.total_borrow_base or self._dust_borrow < 0:
            errors.append(f"{self.name}: sum of borrow principals {borrow} + dust {self._dust_borrow} != "
                          f"totalBorrowBase {t.total_borrow_base}")
        for info in self.asset_infos:
            held = sum(u.collateral.get(info.asset, 0) for u in self._users.values())
            total = self._collateral_totals[info.asset]
            if held != total:
                errors.append(f"{self.name}: {info.asset} balances sum to {held} != totalSupplyAsset {total}")
            if not 0 <= total <= UINT128_MAX:
                errors.append(f"{self.name}: {info.asset} totalSupplyAsset {total} outside uint128")
            cash = self.ledger.balance_of(info.asset, self.address)
            if cash < total:
                errors.append(f"{self.name}: holds {cash} {info.asset} < totalSupplyAsset {total}")
        for account, u in self._users.items():
            if not -(2**103) <= u.principal < 2**103:
                errors.append(f"{self.name}: {account} principal {u.principal} outside int104")
            for info in self.asset_infos:
                bal = u.collateral.get(info.asset, 0)
                if bal < 0:
                    errors.append(f"{self.name}: {account} has negative {info.asset} {bal}")
                if (bal != 0) != _is_in_asset(u.assets_in, info.offset):
                    errors.append(f"{self.name}: {account} assetsIn bit of {info.asset} disagrees with {bal}")
        return errors

    # --- seeding helper ---------------------------------------------------------------------

    def open_position(self, now: int, account: str, collateral: Mapping[str, int], borrow: int) -> None:
        """``supply`` of each collateral then ``withdraw(base, borrow)`` by ``account``, as one
        atomic batch (scenario seeding): nothing is written if any step reverts, and the
        final state equals the separate calls'."""
        tx = Tx(self)
        for asset, amount in collateral.items():
            if amount:
                self._supply_collateral(tx, account, account, asset, safe128(amount))
        if borrow:
            self._withdraw_base(tx, now, account, account, borrow)
        tx.commit()
