"""Morpho Blue 1.0 in exact integer math: one instance, several isolated markets.

Each public action mirrors one ``Morpho.sol`` entry point statement by statement: the same
checks in the same order with the same revert strings (``ErrorsLib``; Solidity panics for
checked arithmetic), ``_accrueInterest`` first where the contract calls it, the same
``SharesMathLib`` rounding, and token transfers through the shared :class:`Ledger` (the
contract's balance is the ledger holder :attr:`MorphoBlue.address`).

=========================  =============================================================
``create_market``          ``createMarket`` (needs ``enable_irm`` / ``enable_lltv``)
``supply``                 ``supply(marketParams, assets, shares, onBehalf, "")``
``withdraw``               ``withdraw``
``borrow``                 ``borrow``
``repay``                  ``repay``
``supply_collateral``      ``supplyCollateral``
``withdraw_collateral``    ``withdrawCollateral``
``liquidate``              ``liquidate(marketParams, borrower, seizedAssets, repaidShares, "")``
``accrue_interest``        ``accrueInterest``
``set_fee``                ``setFee``; ``set_fee_recipient``: ``setFeeRecipient``
``set_authorization``      ``setAuthorization``
=========================  =============================================================

Atomicity: every action runs in a :class:`~defisim.engine.protocols.morpho_blue._overlay.Tx`
and is committed only when every check passed, like a transaction that did not revert.
``now`` is ``block.timestamp`` (unix seconds); ``sender`` is ``msg.sender``.

Liquidator-facing interface (the one :class:`~defisim.engine.protocols.aave_v3.AavePool`
offers, so :class:`~defisim.engine.agents.liquidator.Liquidator` works unchanged): one
instance holds many markets, so an *account* there is a position key
``"<market>/<user>"`` (:func:`position_key`). ``largest_pair`` returns that market's
``(collateral token, loan token)``; ``quote_liquidation`` / ``liquidation_call`` convert
``debt_to_cover`` into ``liquidate``'s ``(seizedAssets, repaidShares)`` by the rule in
:meth:`MorphoBlue.liquidation_args`.

Not modelled: callbacks (``data``), flash loans, signatures (``setAuthorizationWithSig``),
``extSloads``, ownership (owner-only functions are plain methods), ERC-20 allowances,
market ids as hashes (a market is named), and the uniqueness of identical market params
under different names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import errors as E
from defisim.engine.protocols.morpho_blue._overlay import MarketState, PositionState, Tx
from defisim.engine.protocols.morpho_blue._screen import MarketScreen, merge_candidates
from defisim.engine.protocols.morpho_blue.constants import (
    LIQUIDATION_CURSOR,
    MAX_FEE,
    MAX_LIQUIDATION_INCENTIVE_FACTOR,
    ORACLE_PRICE_SCALE,
    UINT128_MAX,
    UINT256_MAX,
    WAD,
    ZERO_ADDRESS,
)
from defisim.engine.protocols.morpho_blue.errors import MorphoError
from defisim.engine.protocols.morpho_blue.mathlib import (
    checked_add,
    checked_add128,
    checked_sub,
    checked_sub128,
    exactly_one_zero,
    mul_div_down,
    mul_div_up,
    to_uint128,
    u_min,
    w_div_down,
    w_div_up,
    w_mul_down,
    w_taylor_compounded,
    zero_floor_sub,
)
from defisim.engine.protocols.morpho_blue.outcomes import (
    LiquidateResult,
    LiquidationOutcome,
    LiquidationQuote,
    LiquidationRefusal,
    MarketSnapshot,
    MorphoSnapshot,
    PositionSnapshot,
)
from defisim.engine.protocols.morpho_blue.sharesmath import (
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
)
from defisim.engine.protocols.morpho_blue.types import Market, MarketParams, Position
from defisim.errors import InvariantViolation

if TYPE_CHECKING:
    from defisim.engine.protocols.morpho_blue.irm import AnyIrm

__all__ = [
    "KEY_SEPARATOR",
    "MAX_AMOUNT",
    "MorphoBlue",
    "liquidation_incentive_factor",
    "position_key",
    "split_position_key",
]

MAX_AMOUNT = UINT256_MAX
"""``debt_to_cover`` meaning "all the debt"."""
KEY_SEPARATOR = "/"
"""Separates market and user in a position key (market names never contain it)."""


def position_key(market: str, user: str) -> str:
    """The liquidator-facing account of ``user``'s position in ``market``: ``market/user``."""
    return f"{market}{KEY_SEPARATOR}{user}"


def split_position_key(key: str) -> tuple[str, str]:
    """``(market, user)`` of a position key (split at the first separator)."""
    market, sep, user = key.partition(KEY_SEPARATOR)
    if not sep:
        raise MorphoError(E.MARKET_NOT_CREATED, f"{key!r} is not a '<market>/<user>' position key")
    return market, user


def _irm_borrow_rate(params: MarketParams, market: Market, now: int) -> tuple[int, Callable[[], None] | None]:
    """``IIrm(irm).borrowRate(marketParams, market)`` at ``block.timestamp == now``: the rate and,
    for a stateful IRM (:class:`~defisim.engine.protocols.morpho_blue.irm.StatefulIrm`), its
    storage write not yet done (``None`` for a stateless one)."""
    irm = params.irm
    stage = getattr(irm, "stage_borrow_rate", None)
    if stage is not None:
        rate, write = stage(params, market, now)
        return rate, write
    return irm.borrow_rate(params, market), None  # type: ignore[union-attr,call-arg]


def liquidation_incentive_factor(lltv: int) -> int:
    """``min(MAX_LIQUIDATION_INCENTIVE_FACTOR, WAD.wDivDown(WAD - LIQUIDATION_CURSOR.wMulDown(WAD - lltv)))``.

    As computed in ``Morpho.liquidate`` (WAD in, WAD out): 1.0438... for LLTV 0.86.
    """
    return u_min(
        MAX_LIQUIDATION_INCENTIVE_FACTOR,
        w_div_down(WAD, WAD - w_mul_down(LIQUIDATION_CURSOR, WAD - lltv)),
    )


def _uint(value: int, name: str) -> int:
    if type(value) is not int or not 0 <= value <= UINT256_MAX:
        raise MorphoError("not a uint256", f"{name} = {value!r}")
    return value


class MorphoBlue:
    """One Morpho Blue contract with its markets (see the module docstring).

    ``ledger`` holds every token; the contract's balance is held by ``name``
    (:attr:`address`). ``usd_price(token)`` gives USD per whole token with 8 decimals; it is
    used only for the liquidator-facing USD figures (``value_usd``, outcome ``*_usd``) and the
    candidate ordering, never by the contract logic, which reads each market's ``oracle``.
    ``fee_recipient`` receives fee shares (``address(0)`` by default, as on chain).
    """

    def __init__(
        self,
        name: str,
        ledger: Ledger,
        usd_price: Callable[[str], int],
        *,
        fee_recipient: str = ZERO_ADDRESS,
    ) -> None:
        if KEY_SEPARATOR in name:
            raise ValueError(f"name {name!r} must not contain {KEY_SEPARATOR!r}")
        self.name = name
        self.address = name
        self.ledger = ledger
        self.usd_price = usd_price
        self.fee_recipient = fee_recipient
        self._params: dict[str, MarketParams] = {}
        self._markets: dict[str, MarketState] = {}
        self._positions: dict[str, dict[str, PositionState]] = {}
        self._lif: dict[str, int] = {}
        self._enabled_irms: list[AnyIrm | None] = []
        self._enabled_lltvs: set[int] = set()
        self._authorized: set[tuple[str, str]] = set()
        self._surplus: dict[str, int] = {}
        self._versions: dict[str, int] = {}
        self._market_versions: dict[str, int] = {}
        self._screens: dict[str, MarketScreen] = {}
        self._tokens: list[str] = []
        self._merged: tuple[object, list[str]] | None = None

    # --- owner functions ------------------------------------------------------------------

    def enable_irm(self, irm: AnyIrm | None) -> None:
        """``enableIrm``: allow markets with ``irm`` (``None`` is ``address(0)``: no interest)."""
        if self.is_irm_enabled(irm):
            raise MorphoError(E.ALREADY_SET)
        self._enabled_irms.append(irm)

    def enable_lltv(self, lltv: int) -> None:
        """``enableLltv``: allow markets with ``lltv`` (WAD, below 1e18)."""
        _uint(lltv, "lltv")
        if lltv in self._enabled_lltvs:
            raise MorphoError(E.ALREADY_SET)
        if lltv >= WAD:
            raise MorphoError(E.MAX_LLTV_EXCEEDED)
        self._enabled_lltvs.add(lltv)

    def is_irm_enabled(self, irm: AnyIrm | None) -> bool:
        """``isIrmEnabled``."""
        return any(irm is x or irm == x for x in self._enabled_irms)

    def is_lltv_enabled(self, lltv: int) -> bool:
        """``isLltvEnabled``."""
        return lltv in self._enabled_lltvs

    def set_fee_recipient(self, new_fee_recipient: str) -> None:
        """``setFeeRecipient`` (interest is not accrued first, as on chain)."""
        if new_fee_recipient == self.fee_recipient:
            raise MorphoError(E.ALREADY_SET)
        self.fee_recipient = new_fee_recipient

    def set_fee(self, now: int, market: str, new_fee: int) -> None:
        """``setFee``: accrue with the old fee, then set ``new_fee`` (WAD, at most 0.25e18)."""
        _uint(new_fee, "new_fee")
        tx = self._tx(market)
        if new_fee == tx.market.fee:
            raise MorphoError(E.ALREADY_SET)
        if new_fee > MAX_FEE:
            raise MorphoError(E.MAX_FEE_EXCEEDED)
        self._accrue_interest(tx, now)
        tx.market.fee = new_fee
        tx.commit()

    # --- market creation --------------------------------------------------------------------

    def create_market(self, now: int, params: MarketParams) -> None:
        """``createMarket``: ``lastUpdate = now``; the IRM and LLTV must be enabled.

        The market is identified by ``params.name`` (on chain: the hash of the params). Its
        tokens must be ledger tokens (on chain a token without code fails at the first
        transfer with ``no code``; here the market is refused at creation).
        """
        if not self.is_irm_enabled(params.irm):
            raise MorphoError(E.IRM_NOT_ENABLED)
        if params.lltv not in self._enabled_lltvs:
            raise MorphoError(E.LLTV_NOT_ENABLED)
        if params.name in self._markets:
            raise MorphoError(E.MARKET_ALREADY_CREATED, params.name)
        if KEY_SEPARATOR in params.name:
            raise ValueError(f"market name {params.name!r} must not contain {KEY_SEPARATOR!r}")
        for token in (params.loan_token, params.collateral_token):
            if token not in self.ledger.decimals:
                raise MorphoError(E.NO_CODE, f"{token} is not a ledger token")
            if token not in self._tokens:
                self._tokens.append(token)
        self._params[params.name] = params
        self._markets[params.name] = MarketState(last_update=_uint(now, "now") & UINT128_MAX)
        self._positions[params.name] = {}
        self._lif[params.name] = liquidation_incentive_factor(params.lltv)
        self._market_versions[params.name] = 0
        self._screens[params.name] = MarketScreen()
        self._merged = None
        if params.irm is not None:  # "initialize the IRM in case it is stateful"
            _rate, write = _irm_borrow_rate(params, self._markets[params.name].frozen(), now)
            if write is not None:
                write()

    # --- internals --------------------------------------------------------------------------

    def _tx(self, market: str) -> Tx:
        if market not in self._markets:
            raise MorphoError(E.MARKET_NOT_CREATED, market)
        return Tx(self, market)

    def _authorized_for(self, sender: str, on_behalf: str) -> bool:
        """``_isSenderAuthorized``."""
        return sender == on_behalf or (on_behalf, sender) in self._authorized

    def _accrue_interest(self, tx: Tx, now: int) -> None:
        """``_accrueInterest``: compound ``totalBorrowAssets`` by ``wTaylorCompounded``.

        ``interest = tBA.wMulDown(rate.wTaylorCompounded(elapsed))`` with ``rate`` from the IRM
        given the market as stored *before* this accrual (a stateful IRM's storage write is
        staged in ``tx``: it lands when the call commits, never for a view); both totals grow by ``interest``;
        with a fee, ``feeShares = (interest.wMulDown(fee)).toSharesDown(tSA - feeAmount, tSS)``
        are minted to the fee recipient. ``lastUpdate = now`` even without an IRM.
        """
        m = tx.market
        elapsed = now - m.last_update
        if elapsed < 0:
            raise MorphoError(E.PANIC_ARITHMETIC, f"block.timestamp {now} < lastUpdate {m.last_update}")
        if elapsed == 0:
            return
        params = self._params[tx.name]
        if params.irm is not None:
            rate, write = _irm_borrow_rate(params, m.frozen(), now)
            if write is not None:
                tx.irm_writes.append(write)  # rateAtTarget[id] = ..., when the call commits
            interest = w_mul_down(m.total_borrow_assets, w_taylor_compounded(rate, elapsed))
            m.total_borrow_assets = checked_add128(m.total_borrow_assets, interest)
            m.total_supply_assets = checked_add128(m.total_supply_assets, interest)
            if m.fee != 0:
                fee_amount = w_mul_down(interest, m.fee)
                fee_shares = to_shares_down(
                    fee_amount, checked_sub(m.total_supply_assets, fee_amount), m.total_supply_shares
                )
                fp = tx.pos(self.fee_recipient)
                fp.supply_shares = checked_add(fp.supply_shares, fee_shares)
                m.total_supply_shares = checked_add128(m.total_supply_shares, fee_shares)
        m.last_update = now & UINT128_MAX

    def _max_borrow(self, tx: Tx, collateral: int, price: int) -> int:
        """``collateral.mulDivDown(price, ORACLE_PRICE_SCALE).wMulDown(lltv)`` (loan units)."""
        return w_mul_down(mul_div_down(collateral, price, ORACLE_PRICE_SCALE), self._params[tx.name].lltv)

    def _borrowed(self, tx: Tx, borrow_shares: int) -> int:
        """``borrowShares.toAssetsUp(totalBorrowAssets, totalBorrowShares)`` (loan units)."""
        m = tx.market
        return to_assets_up(borrow_shares, m.total_borrow_assets, m.total_borrow_shares)

    def _is_healthy_at(self, tx: Tx, user: str, price: int) -> bool:
        """``_isHealthy(marketParams, id, borrower, collateralPrice)``: ``maxBorrow >= borrowed``."""
        p = tx.pos_ro(user)
        return self._max_borrow(tx, p.collateral, price) >= self._borrowed(tx, p.borrow_shares)

    def _is_healthy(self, tx: Tx, user: str) -> bool:
        """``_isHealthy(marketParams, id, borrower)``: true without borrow shares, else the
        oracle is read and :meth:`_is_healthy_at` decides."""
        if tx.pos_ro(user).borrow_shares == 0:
            return True
        return self._is_healthy_at(tx, user, self._params[tx.name].oracle.price())

    def _health_at(self, tx: Tx, user: str, price: int) -> int:
        """WAD health factor ``maxBorrow * WAD / borrowed`` rounded down (see :meth:`health_factor`)."""
        p = tx.pos_ro(user)
        borrowed = self._borrowed(tx, p.borrow_shares)
        if borrowed == 0:
            return UINT256_MAX
        return self._max_borrow(tx, p.collateral, price) * WAD // borrowed

    def _committed(self, market: str, positions: dict[str, PositionState]) -> None:
        """Called by :meth:`Tx.commit`: bump versions and refresh the screen rows."""
        self._market_versions[market] += 1
        screen = self._screens[market]
        for user, p in positions.items():
            key = position_key(market, user)
            self._versions[key] = self._versions.get(key, 0) + 1
            screen.set_row(user, key, p.collateral, p.borrow_shares)

    # --- supply / withdraw ------------------------------------------------------------------

    def supply(
        self, now: int, sender: str, market: str, assets: int, shares: int, on_behalf: str | None = None
    ) -> tuple[int, int]:
        """``supply``: returns ``(assets, shares)``.

        Exactly one of ``assets``/``shares`` is non-zero. ``shares = assets.toSharesDown(tSA,
        tSS)`` or ``assets = shares.toAssetsUp(tSA, tSS)``; ``sender`` pays ``assets`` of the
        loan token; ``on_behalf`` (default ``sender``) gets the shares.
        """
        on_behalf = sender if on_behalf is None else on_behalf
        _uint(assets, "assets")
        _uint(shares, "shares")
        tx = self._tx(market)
        if not exactly_one_zero(assets, shares):
            raise MorphoError(E.INCONSISTENT_INPUT)
        if on_behalf == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        self._accrue_interest(tx, now)
        m = tx.market
        if assets > 0:
            shares = to_shares_down(assets, m.total_supply_assets, m.total_supply_shares)
        else:
            assets = to_assets_up(shares, m.total_supply_assets, m.total_supply_shares)
        p = tx.pos(on_behalf)
        p.supply_shares = checked_add(p.supply_shares, shares)
        m.total_supply_shares = checked_add128(m.total_supply_shares, shares)
        m.total_supply_assets = checked_add128(m.total_supply_assets, assets)
        tx.transfer(self._params[market].loan_token, sender, self.address, assets, E.TRANSFER_FROM_REVERTED)
        tx.commit()
        return assets, shares

    def withdraw(
        self,
        now: int,
        sender: str,
        market: str,
        assets: int,
        shares: int,
        on_behalf: str | None = None,
        receiver: str | None = None,
    ) -> tuple[int, int]:
        """``withdraw``: returns ``(assets, shares)``.

        ``shares = assets.toSharesUp(tSA, tSS)`` or ``assets = shares.toAssetsDown(tSA, tSS)``;
        then ``totalBorrowAssets <= totalSupplyAssets`` or ``insufficient liquidity``.
        """
        on_behalf = sender if on_behalf is None else on_behalf
        receiver = sender if receiver is None else receiver
        _uint(assets, "assets")
        _uint(shares, "shares")
        tx = self._tx(market)
        if not exactly_one_zero(assets, shares):
            raise MorphoError(E.INCONSISTENT_INPUT)
        if receiver == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        if not self._authorized_for(sender, on_behalf):
            raise MorphoError(E.UNAUTHORIZED)
        self._accrue_interest(tx, now)
        m = tx.market
        if assets > 0:
            shares = to_shares_up(assets, m.total_supply_assets, m.total_supply_shares)
        else:
            assets = to_assets_down(shares, m.total_supply_assets, m.total_supply_shares)
        p = tx.pos(on_behalf)
        p.supply_shares = checked_sub(p.supply_shares, shares)
        m.total_supply_shares = checked_sub128(m.total_supply_shares, shares)
        m.total_supply_assets = checked_sub128(m.total_supply_assets, assets)
        if m.total_borrow_assets > m.total_supply_assets:
            raise MorphoError(E.INSUFFICIENT_LIQUIDITY)
        tx.transfer(self._params[market].loan_token, self.address, receiver, assets, E.TRANSFER_REVERTED)
        tx.commit()
        return assets, shares

    # --- borrow / repay -----------------------------------------------------------------------

    def borrow(
        self,
        now: int,
        sender: str,
        market: str,
        assets: int,
        shares: int,
        on_behalf: str | None = None,
        receiver: str | None = None,
    ) -> tuple[int, int]:
        """``borrow``: returns ``(assets, shares)``.

        ``shares = assets.toSharesUp(tBA, tBS)`` or ``assets = shares.toAssetsDown(tBA, tBS)``;
        then ``_isHealthy`` (``insufficient collateral``) and ``tBA <= tSA``
        (``insufficient liquidity``).
        """
        tx = self._tx(market)
        out = self._borrow(tx, now, sender, assets, shares, on_behalf, receiver)
        tx.commit()
        return out

    def _borrow(
        self, tx: Tx, now: int, sender: str, assets: int, shares: int, on_behalf: str | None, receiver: str | None
    ) -> tuple[int, int]:
        on_behalf = sender if on_behalf is None else on_behalf
        receiver = sender if receiver is None else receiver
        _uint(assets, "assets")
        _uint(shares, "shares")
        if not exactly_one_zero(assets, shares):
            raise MorphoError(E.INCONSISTENT_INPUT)
        if receiver == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        if not self._authorized_for(sender, on_behalf):
            raise MorphoError(E.UNAUTHORIZED)
        self._accrue_interest(tx, now)
        m = tx.market
        if assets > 0:
            shares = to_shares_up(assets, m.total_borrow_assets, m.total_borrow_shares)
        else:
            assets = to_assets_down(shares, m.total_borrow_assets, m.total_borrow_shares)
        p = tx.pos(on_behalf)
        p.borrow_shares = checked_add128(p.borrow_shares, shares)
        m.total_borrow_shares = checked_add128(m.total_borrow_shares, shares)
        m.total_borrow_assets = checked_add128(m.total_borrow_assets, assets)
        if not self._is_healthy(tx, on_behalf):
            raise MorphoError(E.INSUFFICIENT_COLLATERAL)
        if m.total_borrow_assets > m.total_supply_assets:
            raise MorphoError(E.INSUFFICIENT_LIQUIDITY)
        tx.transfer(self._params[tx.name].loan_token, self.address, receiver, assets, E.TRANSFER_REVERTED)
        return assets, shares

    def repay(
        self, now: int, sender: str, market: str, assets: int, shares: int, on_behalf: str | None = None
    ) -> tuple[int, int]:
        """``repay``: returns ``(assets, shares)``.

        ``shares = assets.toSharesDown(tBA, tBS)`` or ``assets = shares.toAssetsUp(tBA, tBS)``;
        ``tBA = zeroFloorSub(tBA, assets)`` (``assets`` may exceed ``tBA`` by 1; the excess
        stays in the contract, booked in :meth:`surplus`).
        """
        on_behalf = sender if on_behalf is None else on_behalf
        _uint(assets, "assets")
        _uint(shares, "shares")
        tx = self._tx(market)
        if not exactly_one_zero(assets, shares):
            raise MorphoError(E.INCONSISTENT_INPUT)
        if on_behalf == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        self._accrue_interest(tx, now)
        m = tx.market
        if assets > 0:
            shares = to_shares_down(assets, m.total_borrow_assets, m.total_borrow_shares)
        else:
            assets = to_assets_up(shares, m.total_borrow_assets, m.total_borrow_shares)
        p = tx.pos(on_behalf)
        p.borrow_shares = checked_sub128(p.borrow_shares, shares)
        m.total_borrow_shares = checked_sub128(m.total_borrow_shares, shares)
        self._reduce_borrow_assets(tx, assets)
        tx.transfer(self._params[market].loan_token, sender, self.address, assets, E.TRANSFER_FROM_REVERTED)
        tx.commit()
        return assets, shares

    def _reduce_borrow_assets(self, tx: Tx, assets: int) -> None:
        """``tBA = zeroFloorSub(tBA, assets).toUint128()``; the floored part is surplus cash."""
        m = tx.market
        new = to_uint128(zero_floor_sub(m.total_borrow_assets, assets))
        tx.add_surplus(self._params[tx.name].loan_token, assets - (m.total_borrow_assets - new))
        m.total_borrow_assets = new

    # --- collateral ---------------------------------------------------------------------------

    def supply_collateral(
        self, now: int, sender: str, market: str, assets: int, on_behalf: str | None = None
    ) -> None:
        """``supplyCollateral`` (no interest accrual, as on chain; ``now`` is unused)."""
        tx = self._tx(market)
        self._supply_collateral(tx, sender, assets, on_behalf)
        tx.commit()

    def _supply_collateral(self, tx: Tx, sender: str, assets: int, on_behalf: str | None) -> None:
        on_behalf = sender if on_behalf is None else on_behalf
        _uint(assets, "assets")
        if assets == 0:
            raise MorphoError(E.ZERO_ASSETS)
        if on_behalf == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        p = tx.pos(on_behalf)
        p.collateral = checked_add128(p.collateral, assets)
        tx.transfer(self._params[tx.name].collateral_token, sender, self.address, assets,
                    E.TRANSFER_FROM_REVERTED)

    def withdraw_collateral(
        self,
        now: int,
        sender: str,
        market: str,
        assets: int,
        on_behalf: str | None = None,
        receiver: str | None = None,
    ) -> None:
        """``withdrawCollateral``: accrue, remove collateral, then ``_isHealthy``."""
        on_behalf = sender if on_behalf is None else on_behalf
        receiver = sender if receiver is None else receiver
        _uint(assets, "assets")
        tx = self._tx(market)
        if assets == 0:
            raise MorphoError(E.ZERO_ASSETS)
        if receiver == ZERO_ADDRESS:
            raise MorphoError(E.ZERO_ADDRESS)
        if not self._authorized_for(sender, on_behalf):
            raise MorphoError(E.UNAUTHORIZED)
        self._accrue_interest(tx, now)
        p = tx.pos(on_behalf)
        p.collateral = checked_sub128(p.collateral, assets)
        if not self._is_healthy(tx, on_behalf):
            raise MorphoError(E.INSUFFICIENT_COLLATERAL)
        tx.transfer(self._params[market].collateral_token, self.address, receiver, assets,
                    E.TRANSFER_REVERTED)
        tx.commit()

    # --- liquidation --------------------------------------------------------------------------

    def _liquidate(
        self, tx: Tx, now: int, liquidator: str | None, borrower: str, seized_assets: int, repaid_shares: int
    ) -> LiquidateResult:
        """``liquidate`` inside ``tx``; with ``liquidator=None`` no tokens move (a quote)."""
        params = self._params[tx.name]
        if not exactly_one_zero(seized_assets, repaid_shares):
            raise MorphoError(E.INCONSISTENT_INPUT)
        self._accrue_interest(tx, now)
        m = tx.market
        price = params.oracle.price()
        if self._is_healthy_at(tx, borrower, price):
            raise MorphoError(E.HEALTHY_POSITION)
        lif = self._lif[tx.name]
        if seized_assets > 0:
            quoted = mul_div_up(seized_assets, price, ORACLE_PRICE_SCALE)
            repaid_shares = to_shares_up(w_div_up(quoted, lif), m.total_borrow_assets, m.total_borrow_shares)
        else:
            seized_assets = mul_div_down(
                w_mul_down(to_assets_down(repaid_shares, m.total_borrow_assets, m.total_borrow_shares), lif),
                ORACLE_PRICE_SCALE,
                price,
            )
        repaid_assets = to_assets_up(repaid_shares, m.total_borrow_assets, m.total_borrow_shares)
        p = tx.pos(borrower)
        p.borrow_shares = checked_sub128(p.borrow_shares, repaid_shares)
        m.total_borrow_shares = checked_sub128(m.total_borrow_shares, repaid_shares)
        self._reduce_borrow_assets(tx, repaid_assets)
        p.collateral = checked_sub128(p.collateral, seized_assets)
        bad_debt_shares = bad_debt_assets = 0
        if p.collateral == 0:
            bad_debt_shares = p.borrow_shares
            bad_debt_assets = u_min(
                m.total_borrow_assets,
                to_assets_up(bad_debt_shares, m.total_borrow_assets, m.total_borrow_shares),
            )
            m.total_borrow_assets = checked_sub128(m.total_borrow_assets, bad_debt_assets)
            m.total_supply_assets = checked_sub128(m.total_supply_assets, bad_debt_assets)
            m.total_borrow_shares = checked_sub128(m.total_borrow_shares, bad_debt_shares)
            p.borrow_shares = 0
        if liquidator is not None:
            tx.transfer(params.collateral_token, self.address, liquidator, seized_assets, E.TRANSFER_REVERTED)
            tx.transfer(params.loan_token, liquidator, self.address, repaid_assets, E.TRANSFER_FROM_REVERTED)
        return LiquidateResult(
            market=tx.name, borrower=borrower, seized_assets=seized_assets, repaid_assets=repaid_assets,
            repaid_shares=repaid_shares, bad_debt_assets=bad_debt_assets, bad_debt_shares=bad_debt_shares,
            oracle_price=price, liquidation_incentive_factor=lif,
        )

    def liquidate(
        self, now: int, liquidator: str, market: str, borrower: str, seized_assets: int, repaid_shares: int
    ) -> LiquidateResult:
        """``liquidate``: exactly one of ``seized_assets``/``repaid_shares`` is non-zero.

        After accrual and the oracle read, the position must be unhealthy. With
        ``seized_assets``: ``repaidShares = seizedAssets.mulDivUp(price, 1e36).wDivUp(LIF)
        .toSharesUp(tBA, tBS)``; with ``repaid_shares``: ``seizedAssets = repaidShares
        .toAssetsDown(tBA, tBS).wMulDown(LIF).mulDivDown(1e36, price)``. The liquidator pays
        ``repaidShares.toAssetsUp(tBA, tBS)``. If the borrower's collateral reaches 0, its
        remaining borrow shares are bad debt: ``badDebtAssets = min(tBA,
        shares.toAssetsUp(tBA, tBS))`` is removed from both totals at once, so suppliers bear
        it. Raises :class:`MorphoError` on a revert.
        """
        _uint(seized_assets, "seized_assets")
        _uint(repaid_shares, "repaid_shares")
        tx = self._tx(market)
        result = self._liquidate(tx, now, liquidator, borrower, seized_assets, repaid_shares)
        tx.commit()
        return result

    # --- interest -----------------------------------------------------------------------------

    def accrue_interest(self, now: int, market: str) -> None:
        """``accrueInterest``."""
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        tx.commit()

    # --- authorization ------------------------------------------------------------------------

    def set_authorization(self, sender: str, authorized: str, is_authorized: bool) -> None:
        """``setAuthorization``: let ``authorized`` withdraw/borrow on ``sender``'s behalf."""
        key = (sender, authorized)
        if is_authorized == (key in self._authorized):
            raise MorphoError(E.ALREADY_SET)
        if is_authorized:
            self._authorized.add(key)
        else:
            self._authorized.discard(key)

    # --- views (exact) --------------------------------------------------------------------------

    def markets(self) -> list[str]:
        """Market names in creation order."""
        return list(self._params)

    def market_params(self, market: str) -> MarketParams:
        """``idToMarketParams``."""
        if market not in self._params:
            raise MorphoError(E.MARKET_NOT_CREATED, market)
        return self._params[market]

    def market(self, market: str) -> Market:
        """``market(id)``: stored totals (not accrued to now)."""
        return self._tx(market).market.frozen()

    def position(self, market: str, user: str) -> Position:
        """``position(id, user)``."""
        return self._tx(market).pos_ro(user).frozen()

    def accrued_market(self, now: int, market: str) -> Market:
        """The market as it would be after ``accrueInterest`` at ``now`` (a view)."""
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        return tx.market.frozen()

    def liquidation_incentive_factor(self, market: str) -> int:
        """The market's LIF (WAD)."""
        self._tx(market)
        return self._lif[market]

    def oracle_price(self, market: str) -> int:
        """The market oracle's current price (1e36 scale)."""
        return self.market_params(market).oracle.price()

    def is_healthy(self, now: int, market: str, user: str) -> bool:
        """``_isHealthy`` after accrual to ``now`` (a view)."""
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        return self._is_healthy(tx, user)

    def health_factor(self, now: int, market: str, user: str) -> int:
        """WAD health factor after accrual to ``now``: ``maxBorrow * WAD // borrowed``.

        ``maxBorrow`` and ``borrowed`` are exactly ``_isHealthy``'s (``maxBorrow`` rounded
        down twice, ``borrowed`` rounded up), and the quotient is rounded down, so
        ``health_factor < WAD`` exactly when the position is unhealthy (liquidatable).
        Without debt it is ``2**256 - 1``. For records and plots; the contract has no such
        number.
        """
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        return self._health_at(tx, user, self._params[market].oracle.price())

    def borrow_assets(self, now: int, market: str, user: str) -> int:
        """Debt after accrual to ``now``: ``borrowShares.toAssetsUp`` (loan units)."""
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        return self._borrowed(tx, tx.pos_ro(user).borrow_shares)

    def supply_assets(self, now: int, market: str, user: str) -> int:
        """Supply after accrual to ``now``: ``supplyShares.toAssetsDown`` (loan units)."""
        tx = self._tx(market)
        self._accrue_interest(tx, now)
        m = tx.market
        return to_assets_down(tx.pos_ro(user).supply_shares, m.total_supply_assets, m.total_supply_shares)

    def surplus(self, token: str) -> int:
        """Tokens the contract holds beyond its books: the 1-wei excesses ``zeroFloorSub``
        dropped in ``repay``/``liquidate`` (base units)."""
        return self._surplus.get(token, 0)

    # --- liquidator-facing interface ------------------------------------------------------------

    def assets(self) -> list[str]:
        """Every loan and collateral token of the markets, in first-use order."""
        return list(self._tokens)

    def decimals(self, asset: str) -> int:
        """Decimals of ``asset``."""
        return self.ledger.decimals[asset]

    def value_usd(self, asset: str, amount: int) -> int:
        """USD value (8 decimals) of ``amount`` base units at ``usd_price``, rounded down."""
        return amount * self.usd_price(asset) // 10 ** self.ledger.decimals[asset]

    def positions(self) -> list[str]:
        """Position keys (``market/user``) of every non-zero position, sorted."""
        return sorted(position_key(m, u) for m, book in self._positions.items() for u in book)

    def account_version(self, account: str) -> int:
        """Changes whenever the position *or its market* changes (callers' quote caches).

        Unlike Aave's indexes, Morpho's share prices move with other users' repayments and
        bad debt, so a quote stays exact only while the whole market is unchanged: the sum of
        the position's and the market's commit counters (both only grow).
        """
        market, _ = account.partition(KEY_SEPARATOR)[::2]
        return self._versions.get(account, 0) + self._market_versions.get(market, 0)

    def largest_pair(self, now: int, account: str) -> tuple[str, str] | None:
        """``(collateral token, loan token)`` of the position's market, or None if the position
        has no debt or no collateral (or the key names no market)."""
        market, user = account.partition(KEY_SEPARATOR)[::2]
        book = self._positions.get(market)
        p = book.get(user) if book is not None else None
        if p is None or p.borrow_shares == 0 or p.collateral == 0:
            return None
        params = self._params[market]
        return params.collateral_token, params.loan_token

    def liquidation_args(self, now: int, market: str, borrower: str, debt_to_cover: int) -> tuple[int, int]:
        """``(seizedAssets, repaidShares)`` for repaying up to ``debt_to_cover`` (a view).

        The rule (after accrual to ``now``; ``B`` borrow shares, ``C`` collateral):

        1. ``s = B`` if ``debt_to_cover >= B.toAssetsUp(tBA, tBS)`` (``MAX_AMOUNT``: all), else
           ``s = debt_to_cover.toSharesDown(tBA, tBS)`` (so the repayment
           ``s.toAssetsUp`` never exceeds ``debt_to_cover``).
        2. If repaying ``s`` shares seizes at most ``C`` (``liquidate``'s own formula), the
           arguments are ``(0, s)``.
        3. Otherwise seize all collateral, ``(C, 0)``; the remaining debt becomes bad debt.
           ``liquidate`` then burns ``r = C.mulDivUp(price, 1e36).wDivUp(LIF).toSharesUp()``
           shares, and ``r <= s`` always: with ``a = s.toAssetsDown()`` and
           ``X = a.wMulDown(LIF)``, ``seized(s) > C`` means ``X > C * price / 1e36``, so
           ``X >= ceil(C * price / 1e36)``; then ``wDivUp(.., LIF) <= a`` and
           ``toSharesUp(a) <= s``. So the liquidator never repays more than for ``s`` shares,
           and ``liquidate`` never underflows.

        Raises ``position is healthy`` for a healthy position and ``inconsistent input`` when
        ``debt_to_cover`` is worth less than one share.
        """
        tx = self._tx(market)
        return self._liquidation_args(tx, now, borrower, debt_to_cover)[0]

    def _liquidation_args(
        self, tx: Tx, now: int, borrower: str, debt_to_cover: int
    ) -> tuple[tuple[int, int], int, int]:
        """(arguments, health factor before, debt before) — see :meth:`liquidation_args`."""
        _uint(debt_to_cover, "debt_to_cover")
        self._accrue_interest(tx, now)
        price = self._params[tx.name].oracle.price()
        if self._is_healthy_at(tx, borrower, price):
            raise MorphoError(E.HEALTHY_POSITION)
        health = self._health_at(tx, borrower, price)
        if debt_to_cover == 0:
            raise MorphoError(E.INCONSISTENT_INPUT, "debt_to_cover is 0")
        m, p = tx.market, tx.pos_ro(borrower)
        tba, tbs, lif = m.total_borrow_assets, m.total_borrow_shares, self._lif[tx.name]
        b, c = p.borrow_shares, p.collateral
        debt = to_assets_up(b, tba, tbs)
        if debt_to_cover >= debt:
            s = b
        else:
            s = min(b, to_shares_down(debt_to_cover, tba, tbs))
        if s == 0:
            raise MorphoError(E.INCONSISTENT_INPUT, f"debt_to_cover {debt_to_cover} is worth less than one share")

        def seized(shares: int) -> int:
            return mul_div_down(w_mul_down(to_assets_down(shares, tba, tbs), lif), ORACLE_PRICE_SCALE, price)

        if seized(s) <= c:
            return (0, s), health, debt
        paid_by_all = to_shares_up(w_div_up(mul_div_up(c, price, ORACLE_PRICE_SCALE), lif), tba, tbs)
        if paid_by_all > s:  # impossible (see liquidation_args); a bug if it ever shows
            raise InvariantViolation(f"seizing all {c} collateral repays {paid_by_all} > {s} shares")
        return (c, 0), health, debt

    def _adapter_tx(self, collateral_asset: str, debt_asset: str, account: str) -> tuple[Tx, str]:
        market, user = split_position_key(account)
        tx = self._tx(market)
        params = self._params[market]
        if (params.collateral_token, params.loan_token) != (collateral_asset, debt_asset):
            raise MorphoError(
                E.WRONG_ASSETS,
                f"{market} lends {params.loan_token} against {params.collateral_token}, "
                f"not {debt_asset} against {collateral_asset}",
            )
        return tx, user

    def quote_liquidation(
        self, now: int, collateral_asset: str, debt_asset: str, account: str, debt_to_cover: int
    ) -> LiquidationQuote | LiquidationRefusal:
        """What :meth:`liquidation_call` would repay and seize now (no tokens checked or moved).

        Runs the same conversion and ``liquidate`` code on a throwaway transaction, so its
        amounts equal the call's at the same state.
        """
        try:
            tx, user = self._adapter_tx(collateral_asset, debt_asset, account)
            args, health, _ = self._liquidation_args(tx, now, user, debt_to_cover)
            res = self._liquidate(tx, now, None, user, *args)
        except MorphoError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)
        return LiquidationQuote(res.repaid_assets, res.seized_assets, health, *args)

    def liquidation_call(
        self,
        now: int,
        liquidator: str,
        collateral_asset: str,
        debt_asset: str,
        account: str,
        debt_to_cover: int,
    ) -> LiquidationOutcome | LiquidationRefusal:
        """Liquidate position ``account`` (``market/borrower``) for up to ``debt_to_cover``.

        ``debt_to_cover`` (loan units, ``MAX_AMOUNT`` = all) becomes ``liquidate``'s
        ``(seizedAssets, repaidShares)`` by :meth:`liquidation_args`; the outcome carries
        those arguments. Reverts come back as :class:`LiquidationRefusal` and change nothing.
        """
        try:
            tx, user = self._adapter_tx(collateral_asset, debt_asset, account)
            args, health_before, borrowed_before = self._liquidation_args(tx, now, user, debt_to_cover)
            res = self._liquidate(tx, now, liquidator, user, *args)
        except MorphoError as exc:
            return LiquidationRefusal(exc.reason, exc.detail)
        health_after = self._health_at(tx, user, res.oracle_price)
        collateral_left = tx.pos_ro(user).collateral
        tx.commit()
        coll_usd = self.usd_price(collateral_asset)
        debt_usd = self.usd_price(debt_asset)
        coll_unit = 10 ** self.ledger.decimals[collateral_asset]
        debt_unit = 10 ** self.ledger.decimals[debt_asset]
        deficits = ((debt_asset, res.bad_debt_assets),) if res.bad_debt_assets else ()
        return LiquidationOutcome(
            collateral_asset=collateral_asset,
            debt_asset=debt_asset,
            user=account,
            market=tx.name,
            borrower=user,
            arg_seized_assets=args[0],
            arg_repaid_shares=args[1],
            debt_repaid=res.repaid_assets,
            collateral_seized=res.seized_assets,
            repaid_shares=res.repaid_shares,
            bad_debt_assets=res.bad_debt_assets,
            bad_debt_shares=res.bad_debt_shares,
            protocol_fee=0,
            health_before=health_before,
            health_after=health_after,
            deficits=deficits,
            deficits_usd=tuple((a, x * debt_usd // debt_unit) for a, x in deficits),
            debt_repaid_usd=res.repaid_assets * debt_usd // debt_unit,
            collateral_seized_usd=res.seized_assets * coll_usd // coll_unit,
            collateral_price=coll_usd,
            debt_price=debt_usd,
            oracle_price=res.oracle_price,
            liquidation_incentive_factor=res.liquidation_incentive_factor,
            max_liquidatable_debt=borrowed_before,
            collateral_disabled=collateral_left == 0,
        )

    # --- screening (fast layer) and snapshots ------------------------------------------------------

    def _accrued_state(self, now: int, market: str) -> MarketState:
        tx = Tx(self, market)
        self._accrue_interest(tx, now)
        return tx.market

    def liquidation_candidates(self, now: int) -> list[str]:
        """Position keys that *may* be liquidatable at ``now``, largest USD debt first.

        Cheap: a float screen per market (``_screen.MarketScreen``) re-evaluated only when the
        market's oracle price, a position, or (by more than 1e-7) the borrow share price
        changed; no liquidatable position is missed. Callers confirm with
        :meth:`quote_liquidation` or :meth:`is_healthy`.
        """
        parts = []
        key: list[object] = []
        for name, params in self._params.items():
            m = self._accrued_state(now, name)
            price = params.oracle.price()
            screen = self._screens[name]
            rows, debt = screen.candidates(price, params.lltv, m.total_borrow_assets, m.total_borrow_shares)
            usd = self.usd_price(params.loan_token)
            parts.append((screen, rows, debt, usd, self.ledger.decimals[params.loan_token]))
            key.append((screen.epoch, usd))
        merged = self._merged
        if merged is not None and merged[0] == key:
            return merged[1]
        out = merge_candidates(parts)
        self._merged = (key, out)
        return out

    def health_factors_estimate(self, now: int) -> np.ndarray:
        """Float health factors (``maxBorrow / borrowed``) of positions with debt (for plots)."""
        parts = []
        for name, params in self._params.items():
            m = self._accrued_state(now, name)
            parts.append(self._screens[name].estimates(
                params.oracle.price(), params.lltv, m.total_borrow_assets, m.total_borrow_shares
            ))
        return np.concatenate(parts) if parts else np.zeros(0)

    def snapshot(self, now: int) -> MorphoSnapshot:
        """Frozen state: every market's stored ``Market`` and every non-zero ``Position``.

        Stored values, as ``market(id)`` and ``position(id, user)`` return them (not accrued to
        ``now``; ``timestamp`` records ``now``). Markets sorted by name, positions by
        ``(market, user)``.
        """
        markets = tuple(
            MarketSnapshot(name, m.total_supply_assets, m.total_supply_shares, m.total_borrow_assets,
                           m.total_borrow_shares, m.last_update, m.fee)
            for name, m in sorted(self._markets.items())
        )
        positions = tuple(
            PositionSnapshot(name, user, p.supply_shares, p.borrow_shares, p.collateral)
            for name in sorted(self._positions)
            for user, p in sorted(self._positions[name].items())
            if not p.is_empty()
        )
        return MorphoSnapshot(self.name, now, markets, positions)

    def invariant_errors(self) -> list[str]:
        """Every broken accounting rule (empty when consistent).

        Per token: the contract's ledger balance equals ``Σ (totalSupplyAssets -
        totalBorrowAssets)`` over markets lending it, plus ``Σ collateral`` over markets taking
        it, plus :meth:`surplus`. Per market: position shares sum to the totals,
        ``totalBorrowAssets <= totalSupplyAssets``, every field in ``uint128``. Per position:
        nothing negative, and no borrow shares without collateral.
        """
        errors: list[str] = []
        expected: dict[str, int] = {t: self._surplus.get(t, 0) for t in self._tokens}
        for name, params in self._params.items():
            m = self._markets[name]
            book = self._positions[name]
            for label, value in (
                ("totalSupplyAssets", m.total_supply_assets), ("totalSupplyShares", m.total_supply_shares),
                ("totalBorrowAssets", m.total_borrow_assets), ("totalBorrowShares", m.total_borrow_shares),
                ("lastUpdate", m.last_update), ("fee", m.fee),
            ):
                if not 0 <= value <= UINT128_MAX:
                    errors.append(f"{name}: {label} {value} outside uint128")
            supply = sum(p.supply_shares for p in book.values())
            borrow = sum(p.borrow_shares for p in book.values())
            collateral = sum(p.collateral for p in book.values())
            if supply != m.total_supply_shares:
                errors.append(f"{name}: sum of supply shares {supply} != totalSupplyShares {m.total_supply_shares}")
            if borrow != m.total_borrow_shares:
                errors.append(f"{name}: sum of borrow shares {borrow} != totalBorrowShares {m.total_borrow_shares}")
            if m.total_borrow_assets > m.total_supply_assets:
                errors.append(f"{name}: totalBorrowAssets {m.total_borrow_assets} > totalSupplyAssets "
                              f"{m.total_supply_assets}")
            for user, p in book.items():
                if p.supply_shares < 0 or p.borrow_shares < 0 or p.collateral < 0:
                    errors.append(f"{name}: {user} has a negative position {p}")
                elif p.borrow_shares > 0 and p.collateral == 0:
                    errors.append(f"{name}: {user} has borrow shares but no collateral")
            expected[params.loan_token] += m.total_supply_assets - m.total_borrow_assets
            expected[params.collateral_token] += collateral
        for token, amount in expected.items():
            cash = self.ledger.balance_of(token, self.address)
            if cash != amount:
                errors.append(f"{token}: {self.name} holds {cash}, books say {amount}")
        for token, amount in self._surplus.items():
            if amount < 0:
                errors.append(f"{token}: negative surplus {amount}")
        return errors

    # --- seeding helper ----------------------------------------------------------------------------

    def open_position(self, now: int, market: str, user: str, collateral: int, borrow_assets: int) -> None:
        """``supplyCollateral`` then ``borrow(assets)`` by ``user``, as one atomic batch
        (scenario seeding): nothing is written if either reverts, and the final state equals
        the two separate calls'."""
        tx = self._tx(market)
        if collateral:
            self._supply_collateral(tx, user, collateral, None)
        if borrow_assets:
            self._borrow(tx, now, user, borrow_assets, 0, None, None)
        tx.commit()
