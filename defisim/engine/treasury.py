"""Protocol treasuries: insurance fund, fee burn, and what happens to bad debt.

Per protocol, every ``every_blocks`` blocks (SETTLEMENT phase) the treasury collects what the
protocol owes it (liquidation protocol fees and reserve-factor income, as underlying) and
splits it: ``liquidation_fee_share`` of the fees and ``reserve_income_share`` of the income go
to the insurance fund (converted to the fund's asset through the AMM router), ``burn_share`` of
the fees buys the protocol's token through the router and burns it; the rest stays with the
treasury. Every block, the insurance fund covers reserve deficits (bad debt) from its balance,
buying the deficit asset through the router if it holds another one; deficit it cannot cover is
socialised to the reserve's suppliers (if enabled) and recorded.

Holders in the ledger: ``treasury:<protocol>``, ``insurance:<protocol>``.
Shares are basis points (ints); amounts base units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.engine.markets.router import NoRouteError
from defisim.engine.markets.uniswap_v2 import PoolError
from defisim.engine.records import (
    BadDebtSocialized,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    Record,
    TokensBurned,
)

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router
    from defisim.engine.world import World

BPS = 10_000


@dataclass(frozen=True, slots=True)
class InsuranceFundConfig:
    """Insurance fund settings (shares in bps)."""

    asset: str
    liquidation_fee_share_bps: int
    reserve_income_share_bps: int
    socialize_uncovered: bool


@dataclass(frozen=True, slots=True)
class FeeBurnConfig:
    """Fee burn settings: ``share_bps`` of liquidation fees buys ``token`` and burns it."""

    token: str
    share_bps: int


class Treasury:
    """Treasury, insurance fund and fee burn of one protocol (see module docstring)."""

    def __init__(
        self,
        world: World,
        router: Router,
        protocol: str,
        pool: Any,
        fund: InsuranceFundConfig | None,
        burn: FeeBurnConfig | None,
        every_blocks: int,
    ) -> None:
        self.world = world
        self.router = router
        self.protocol = protocol
        self.pool = pool
        self.fund = fund
        self.burn = burn
        self.every_blocks = every_blocks
        self.treasury_address = f"treasury:{protocol}"
        self.fund_address = f"insurance:{protocol}"
        self._pending_fees: dict[str, int] = {}

    def note_liquidation_fee(self, asset: str, amount: int) -> None:
        """Remember that ``amount`` of ``asset`` of the treasury's claim came from liquidations."""
        if amount:
            self._pending_fees[asset] = self._pending_fees.get(asset, 0) + amount

    def fund_balance(self) -> int:
        """Insurance fund balance in its asset (base units); 0 without a fund."""
        if self.fund is None:
            return 0
        return self.world.ledger.balance_of(self.fund.asset, self.fund_address)

    def settle(self, block: int) -> None:
        """SETTLEMENT phase: collect and split fees on schedule, then cover deficits."""
        if block % self.every_blocks == 0:
            self._collect(block)
        self._cover_deficits(block)

    # --- fees -----------------------------------------------------------------------------

    def _collect(self, block: int) -> None:
        now = self.world.now(block)
        for asset in self.pool.assets():
            self.pool.touch_reserve(now, asset)  # background activity accrues the income
            collected = self.pool.collect_treasury(now, asset, self.treasury_address)
            if not collected:
                continue
            fees = min(self._pending_fees.get(asset, 0), collected)
            self._pending_fees[asset] = self._pending_fees.get(asset, 0) - fees
            income = collected - fees
            if self.fund is not None:
                to_fund = (
                    fees * self.fund.liquidation_fee_share_bps
                    + income * self.fund.reserve_income_share_bps
                ) // BPS
                self._fund(self.fund, block, asset, to_fund, "fees" if fees else "reserve income")
            if self.burn is not None:
                self._burn(self.burn, block, asset, fees * self.burn.share_bps // BPS)

    def _convert(self, block: int, asset: str, target: str, amount: int) -> tuple[int, list[Record]]:
        """Swap ``amount`` of ``asset`` held by the treasury into ``target`` (same holder)."""
        if asset == target:
            return amount, []
        try:
            got, swaps = self.router.swap(
                block, self.world.now(block), self.treasury_address, asset, target, amount
            )
        except NoRouteError:
            return 0, []
        return got, list(swaps)

    def _fund(self, fund: InsuranceFundConfig, block: int, asset: str, amount: int, source: str) -> None:
        if amount <= 0:
            return
        got, swaps = self._convert(block, asset, fund.asset, amount)
        self.world.emit(swaps)
        if got <= 0:
            return
        self.world.ledger.transfer(fund.asset, self.treasury_address, self.fund_address, got)
        self.world.emit([InsuranceFundFunded(
            block, self.protocol, fund.asset, got, source, self.fund_balance()
        )])

    def _burn(self, burn: FeeBurnConfig, block: int, asset: str, amount: int) -> None:
        if amount <= 0:
            return
        got, swaps = self._convert(block, asset, burn.token, amount)
        self.world.emit(swaps)
        if got <= 0:
            return
        ledger = self.world.ledger
        ledger.burn(burn.token, self.treasury_address, got)
        self.world.emit([TokensBurned(
            block, self.protocol, burn.token, got, asset, amount, ledger.supply(burn.token)
        )])

    # --- bad debt -------------------------------------------------------------------------

    def _cover_deficits(self, block: int) -> None:
        now = self.world.now(block)
        for asset in self.pool.assets():
            deficit = self.pool.deficit(asset)
            if not deficit:
                continue
            if self.fund is not None:
                self._draw(self.fund, block, now, asset, deficit)
                deficit = self.pool.deficit(asset)
            if deficit and self.fund is not None and self.fund.socialize_uncovered:
                socialized = self.pool.socialize_deficit(now, asset)
                if socialized:
                    self.world.emit([BadDebtSocialized(
                        block, self.protocol, asset, socialized, self.pool.value_usd(asset, socialized)
                    )])

    def _draw(self, fund: InsuranceFundConfig, block: int, now: int, asset: str, deficit: int) -> None:
        ledger = self.world.ledger
        if fund.asset != asset:
            self._buy_for_fund(fund, block, asset, deficit)
        available = ledger.balance_of(asset, self.fund_address)
        draw = min(deficit, available)
        # supplying rounds up by a wei or two: cover what the fund can pay for
        while draw > 0 and self.pool.deficit_cover_cost(now, self.fund_address, asset, draw) > available:
            draw -= self.pool.deficit_cover_cost(now, self.fund_address, asset, draw) - available
        if draw <= 0:
            return
        used = self.pool.eliminate_deficit(now, self.fund_address, asset, draw)
        if used:
            self.world.emit([InsuranceFundDrawn(
                block, self.protocol, asset, used, self.pool.value_usd(asset, used),
                ledger.balance_of(asset, self.fund_address),
            )])

    def _buy_for_fund(self, fund: InsuranceFundConfig, block: int, asset: str, amount: int) -> None:
        """Sell fund asset for up to ``amount`` of ``asset`` (the fund pays the deficit's token)."""
        ledger = self.world.ledger
        have = ledger.balance_of(fund.asset, self.fund_address)
        if not have or not self.router.has_path(fund.asset, asset):
            return
        try:
            need_in = min(have, self.router.quote_in(fund.asset, asset, amount))
        except PoolError:  # the pools cannot deliver that much: sell everything the fund has
            need_in = have
        _, swaps = self.router.swap(block, self.world.now(block), self.fund_address,
                                    fund.asset, asset, need_in)
        self.world.emit(swaps)
