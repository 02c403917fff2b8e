"""Collateral buyers for Compound III (Comet): buy absorbed collateral from the store front.

While ``getReserves() < targetReserves`` Comet sells the collateral it absorbed at
``quoteCollateral``: the feed price discounted by ``storeFrontPriceFactor * (1 -
liquidationFactor)`` (0.5 * 5 % = 2.5 % for WETH). A buyer pays base tokens to
``buyCollateral`` and sells the collateral on the AMMs (through the router) in the same
transaction; it buys only when that round trip pays for gas. Because the quote reads the
oracle while the sale hits the AMM, a crash in which the AMM runs ahead of a lagging feed
makes the store front unprofitable until the round lands.

Each block (AGENTS phase), for each collateral with reserves, the buyer sizes the purchase:
the base amount that buys all of the protocol's collateral reserves (exact inverse of the
quote), capped by its capital (own base tokens, or a flash loan with the world's fee), then
halving while the profit after AMM slippage improves. It sends a transaction if the profit
beats ``min_profit_usd`` and bids ``bid_share`` of it as priority fee. When it runs (other
buyers may have bought first) it re-sizes to what is left, re-quotes, and buys only if the
sale still pays for gas and tip, with ``minAmount`` = the quote (no slippage on the store
front itself). A failed public transaction reverts and pays gas (``TransactionReverted``).

Records: the AMM swaps and :class:`~defisim.engine.protocols.compound_v3.CollateralBought`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from defisim.engine.agents.liquidator import FLASH_LENDER
from defisim.engine.blockspace import Tx
from defisim.engine.protocols.compound_v3 import CollateralBought, Comet, CometError
from defisim.engine.records import TransactionReverted

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router
    from defisim.engine.world import World

__all__ = ["BuyPlan", "CometCollateralBuyer"]

SIZE_STEPS = 8
"""Sizes tried: everything the protocol holds (or the capital allows), then halving."""


@dataclass(frozen=True, slots=True)
class BuyPlan:
    """An intended purchase: ``base_amount`` base units for ``asset``; profit USD 1e8."""

    protocol: str
    asset: str
    base_amount: int
    expected_profit_usd: int


class CometCollateralBuyer:
    """Buys Comet's absorbed collateral when selling it on the AMMs pays (module docstring)."""

    def __init__(
        self,
        world: World,
        router: Router,
        *,
        name: str,
        protocols: list[str],
        bid_share: float,
        min_profit_usd: int,
        gas: int,
        flash_loans: bool,
        max_txs_per_block: int,
        private_bundles: bool,
    ) -> None:
        self.world = world
        self.router = router
        self.name = name
        self.address = f"buyer:{name}"
        self.protocols = protocols
        self.bid_share = bid_share
        self.min_profit_usd = min_profit_usd
        self.gas = gas
        self.flash_loans = flash_loans
        self.max_txs = max_txs_per_block
        self.private_bundles = private_bundles

    # --- deciding ------------------------------------------------------------------------

    def propose(self, block: int) -> list[Tx]:
        """One purchase per collateral the protocols sell right now, if it pays."""
        now = self.world.now(block)
        plans: list[BuyPlan] = []
        for pname in self.protocols:
            comet = self.world.protocols[pname]
            if not self._for_sale(comet, now):
                continue
            for asset in comet.collateral_assets():
                if len(plans) >= self.max_txs:
                    break
                plan = self._plan(pname, comet, asset, now)
                if plan is not None:
                    plans.append(plan)
        usd_per_wei = self.world.usd_per_gas_wei()
        txs = []
        for plan in plans:
            tip = max(0, int(plan.expected_profit_usd / 1e8 * self.bid_share / self.gas / usd_per_wei))
            txs.append(Tx(self.address, "buy-collateral", self.gas, tip, partial(self._execute, plan, tip),
                          revert_protected=self.private_bundles))
        return txs

    @staticmethod
    def _for_sale(comet: Comet, now: int) -> bool:
        """``buyCollateral``'s gate: reserves below ``targetReserves``."""
        reserves = comet.get_reserves(now)
        return reserves < 0 or reserves < comet.target_reserves

    def _fundable(self, comet: Comet, amount: int) -> int:
        if self.flash_loans:
            return amount
        return min(amount, self.world.ledger.balance_of(comet.base_token, self.address))

    def _flash_fee(self, comet: Comet, amount: int) -> int:
        """Flash-loan fee (base units, rounded up) to pay ``amount`` beyond own capital."""
        if not self.flash_loans:
            return 0
        own = self.world.ledger.balance_of(comet.base_token, self.address)
        return -(-max(0, amount - own) * self.world.flash_loan_fee_bps // 10_000)

    def _profit(self, comet: Comet, asset: str, base_amount: int, gas_usd: int) -> tuple[int, int]:
        """(collateral bought, profit USD 1e8) of buying with ``base_amount`` and selling now."""
        collateral = comet.quote_collateral(asset, base_amount)
        key = ("route", asset, comet.base_token, collateral)
        cache = self.world.planning_cache
        proceeds = cache.get(key)
        if proceeds is None:
            proceeds = cache[key] = self.router.quote(asset, comet.base_token, collateral) if collateral else 0
        net = proceeds - base_amount - self._flash_fee(comet, base_amount)
        return collateral, _usd(comet, comet.base_token, net) - gas_usd

    def _plan(self, pname: str, comet: Comet, asset: str, now: int) -> BuyPlan | None:
        held = comet.get_collateral_reserves(asset)
        if held == 0 or not self.router.has_path(asset, comet.base_token):
            return None
        cap = self._fundable(comet, comet.base_for_collateral(asset, held))
        gas_usd = self.world.gas_cost_usd(self.gas, 0)
        best: tuple[int, int] | None = None  # (profit, base amount)
        for k in range(SIZE_STEPS):
            amount = cap >> k
            if amount == 0:
                break
            _, profit = self._profit(comet, asset, amount, gas_usd)
            if best is not None and profit <= best[0]:
                break
            best = (profit, amount)
        if best is None or best[0] <= self.min_profit_usd:
            return None
        return BuyPlan(pname, asset, best[1], best[0])

    # --- executing -----------------------------------------------------------------------

    def _execute(self, plan: BuyPlan, tip: int) -> bool:
        world, ledger = self.world, self.world.ledger
        comet = world.protocols[plan.protocol]
        block, now = world.block, world.now()
        base = comet.base_token
        if not self._for_sale(comet, now):
            return self._fail(tip, "NotForSale: reserves are back at targetReserves")
        amount = min(plan.base_amount, comet.base_for_collateral(plan.asset, comet.get_collateral_reserves(plan.asset)))
        amount = self._fundable(comet, amount)
        if amount == 0:
            return self._fail(tip, "InsufficientReserves: the collateral was bought by others")
        gas_usd = world.gas_cost_usd(self.gas, tip)
        collateral = comet.quote_collateral(plan.asset, amount)
        proceeds = self.router.quote(plan.asset, base, collateral) if collateral else 0
        fee = self._flash_fee(comet, amount)
        if _usd(comet, base, proceeds - amount - fee) <= gas_usd:
            return self._fail(tip, "unprofitable after gas and tip")
        borrowed = max(0, amount - ledger.balance_of(base, self.address)) if self.flash_loans else 0
        if borrowed:
            ledger.mint(base, self.address, borrowed)
        try:
            bought = comet.buy_collateral(now, self.address, plan.asset, collateral, amount)
        except CometError as exc:
            if borrowed:
                ledger.burn(base, self.address, borrowed)
            return self._fail(tip, str(exc))
        cost = world.charge_gas(self.address, self.gas, tip)
        got, swaps = self.router.swap(block, now, self.address, plan.asset, base, bought.collateral_amount)
        if borrowed:
            ledger.burn(base, self.address, borrowed)
            ledger.transfer(base, self.address, FLASH_LENDER, fee)
        world.emit(swaps)
        world.emit([CollateralBought(
            block=block, protocol=plan.protocol, buyer=self.name, asset=plan.asset, base_amount=bought.base_amount,
            collateral_amount=bought.collateral_amount, proceeds=got, reserves_before=bought.reserves_before,
            reserves_after=comet.get_reserves(now),
            profit_usd=_usd(comet, base, got - bought.base_amount - fee) - cost, gas_cost_usd=cost,
        )])
        return True

    def _fail(self, tip: int, reason: str) -> bool:
        """A failed purchase: dropped in a private bundle, else reverted with gas."""
        if not self.private_bundles:
            world = self.world
            world.emit([TransactionReverted(world.block, self.address, "buy-collateral", reason,
                                            world.charge_gas(self.address, self.gas, tip))])
        return False


def _usd(comet: Comet, asset: str, amount: int) -> int:
    """USD (1e8) value of a signed amount at the Comet feed (a profit or a loss)."""
    value = comet.value_usd(asset, abs(amount))
    return value if amount >= 0 else -value
