"""Liquidator bots that compete for unhealthy positions.

Each block (AGENTS phase) a liquidator looks at the positions the protocols screen as possibly
liquidatable *at the current oracle prices* (so it sees a position only after the oracle round
lands), largest debt first, picks the largest debt and the largest collateral of each, asks the
protocol for the exact outcome of a maximal liquidation (which refuses healthy positions), and quotes selling the seized collateral back into the
debt token through the AMM router. It sends a transaction only if

    proceeds - repaid - flash-loan fee - gas  >  min_profit   (USD, 1e8)

and bids ``bid_share`` of that profit as priority fee, so competitors outbid each other. When
its transaction runs (possibly after a competitor's), it re-previews: a position that is no
longer liquidatable, or a sale that would return less than was repaid (plus any flash-loan
fee), or that would not pay for its gas and tip, fails (bots bundle liquidation and sale
atomically and check the profit). A failed public transaction reverts
and still pays gas (Black Thursday); with ``private_bundles`` (a builder bundle, the common
route today) it is dropped and costs nothing.
Capital: it uses its own debt-token balance first, then (if allowed) a flash loan minted by
the ``flash-lender`` holder and burned on repayment, with a fee in bps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from defisim.engine.blockspace import Tx
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    LiquidationRefused,
    PositionLiquidated,
)
from defisim.errors import InvariantViolation

if TYPE_CHECKING:
    from defisim.engine.markets.router import Router
    from defisim.engine.world import World

FLASH_LENDER = "flash-lender"
MAX_DEBT_TO_COVER = 2**256 - 1
"""Ask for as much as the close factor allows (the protocols cap it, as Aave does)."""
RECHECK_BLOCKS = 3
"""A position found unprofitable is skipped until an oracle answer changes or this many blocks."""
SIZE_STEPS = 6
"""Sizes tried per position: the maximum, then halving while profit improves (AMM slippage)."""


@dataclass(frozen=True, slots=True)
class LiquidationPlan:
    """What a liquidator intends: amounts in base units, profit in USD 1e8."""

    protocol: str
    account: str
    collateral_asset: str
    debt_asset: str
    debt_to_cover: int
    expected_profit_usd: int


class Liquidator:
    """A profit-seeking liquidation bot (see module docstring)."""

    def __init__(
        self,
        world: World,
        router: Router,
        *,
        name: str,
        protocols: list[str],
        flash_loans: bool,
        bid_share: float,
        min_profit_usd: int,
        gas_per_liquidation: int,
        max_txs_per_block: int,
        max_evaluations_per_block: int,
        private_bundles: bool,
    ) -> None:
        self.world = world
        self.router = router
        self.name = name
        self.address = f"liquidator:{name}"
        self.protocols = protocols
        self.flash_loans = flash_loans
        self.bid_share = bid_share
        self.min_profit_usd = min_profit_usd
        self.gas = gas_per_liquidation
        self.max_txs = max_txs_per_block
        self.max_evaluations = max_evaluations_per_block
        self.private_bundles = private_bundles
        self._unprofitable: set[tuple[str, str]] = set()
        self._unprofitable_epoch: object = None
        self._recheck_block = 0

    # --- deciding ------------------------------------------------------------------------

    def propose(self, block: int) -> list[Tx]:
        """Transactions for the most profitable liquidatable positions right now.

        Plans are made in order, each quoting its sale *after* the sales this liquidator
        already planned for the block (its own transactions move the same AMM).
        """
        epoch = self.world.oracle_epoch()
        if epoch != self._unprofitable_epoch or block >= self._recheck_block:
            self._unprofitable.clear()
            self._unprofitable_epoch = epoch
            self._recheck_block = block + RECHECK_BLOCKS
        now = self.world.now(block)
        plans: list[LiquidationPlan] = []
        planned_sales: dict[tuple[str, str], int] = {}
        evaluated = 0
        for pname, account in self._candidates(now):
            if evaluated >= self.max_evaluations or len(plans) >= self.max_txs:
                break
            if (pname, account) in self._unprofitable:
                continue
            evaluated += 1
            plan = self._plan(pname, self.world.protocols[pname], now, account, planned_sales)
            if plan is None:
                self._unprofitable.add((pname, account))
            else:
                plans.append(plan)
        usd_per_wei = self.world.usd_per_gas_wei()
        txs = []
        for plan in plans:
            tip = int(plan.expected_profit_usd / 1e8 * self.bid_share / self.gas / usd_per_wei)
            txs.append(Tx(self.address, "liquidation", self.gas, max(tip, 0),
                          partial(self._execute, plan, tip), revert_protected=self.private_bundles))
        return txs

    def _candidates(self, now: int) -> Iterator[tuple[str, str]]:
        """(protocol, account) pairs to look at: each protocol's list (largest debt first),
        taken in turns so that no protocol starves the others of the block's budget."""
        lists = [(p, self.world.protocols[p].liquidation_candidates(now)) for p in self.protocols]
        longest = max((len(accounts) for _, accounts in lists), default=0)
        for i in range(longest):
            for pname, accounts in lists:
                if i < len(accounts):
                    yield pname, accounts[i]

    def _plan(
        self, pname: str, pool: Any, now: int, account: str, planned_sales: dict[tuple[str, str], int]
    ) -> LiquidationPlan | None:
        """The most profitable liquidation of ``account``, or None if none pays.

        Size: the protocol's exact outcome at the largest allowed repayment gives repaid ``R``
        and seized ``S``; smaller repayments ``R / 2**k`` seize ``S / 2**k`` (the seizure is
        linear in the repayment), so their sale proceeds are quoted without further previews
        and the best size is kept while profit improves (AMM slippage can exceed the bonus
        on a large position). A size below the maximum is then confirmed with an exact
        preview. Previews depend only on the state at the start of the block, which every
        liquidator shares, so they are memoised in the world's per-block planning cache.
        """
        cache = self.world.planning_cache
        pair = cache.get(("pair", pname, account))
        if pair is None:
            pair = pool.largest_pair(now, account) or False
            if pair and not self.router.has_path(*pair):
                pair = False
            cache[("pair", pname, account)] = pair
        if pair is False:
            return None
        collateral, debt = pair
        cap = self._fundable(debt, MAX_DEBT_TO_COVER)
        full = self._preview(pname, pool, now, account, collateral, debt, cap) if cap > 0 else None
        if full is None:
            return None
        already = planned_sales.get(pair, 0)
        sold_before = self._planning_quote(collateral, debt, already) if already else 0
        gas_usd = self.world.gas_cost_usd(self.gas, 0)
        own = self.world.ledger.balance_of(debt, self.address)
        repaid, seized = full.debt_repaid, full.collateral_seized
        options: list[tuple[int, int, int]] = []  # (profit, request, seized) per size tried
        for k in range(SIZE_STEPS):
            part = repaid >> k
            if part == 0:
                break
            part_seized = seized if k == 0 else seized * part // repaid
            proceeds = self._planning_quote(collateral, debt, already + part_seized) - sold_before
            cost = part + self._flash_fee_for(part, own)
            profit = _usd(pool, debt, proceeds - cost) - gas_usd
            if options and profit <= options[-1][0]:
                break
            options.append((profit, cap if k == 0 else part, part_seized))
        # best first; a smaller size the protocol refuses (dust rule) falls back to the next
        for profit, request, part_seized in sorted(options, reverse=True)[:2]:
            if profit <= self.min_profit_usd:
                break
            if request != cap:
                exact = self._preview(pname, pool, now, account, collateral, debt, request)
                if exact is None:
                    continue
                part_seized = exact.collateral_seized
            planned_sales[pair] = already + part_seized
            return LiquidationPlan(pname, account, collateral, debt, request, profit)
        return None

    def _planning_quote(self, collateral: str, debt: str, amount: int) -> int:
        """AMM proceeds of selling ``amount`` at the start-of-block state (memoised: no pool
        moves while agents plan, and competing liquidators quote the same sizes)."""
        cache = self.world.planning_cache
        key = ("route", collateral, debt, amount)
        out = cache.get(key)
        if out is None:
            out = cache[key] = self.router.quote(collateral, debt, amount)
        return out

    def _preview(
        self, pname: str, pool: Any, now: int, account: str, collateral: str, debt: str, amount: int
    ) -> Any | None:
        """Exact amounts of requesting ``amount`` (the protocol's quote), or None if refused.

        Memoised for the block and keyed by the account's version and the oracle answers:
        indexes do not move within a block (one timestamp), so the quote stays exact until the
        account itself or a price changes.
        """
        quote = self._quote(pname, pool, now, account, collateral, debt, amount)
        return quote if hasattr(quote, "debt_repaid") else None

    def _quote(self, pname: str, pool: Any, now: int, account: str, collateral: str, debt: str,
               amount: int) -> Any:
        """The protocol's quote or refusal for requesting ``amount`` (see :meth:`_preview`)."""
        cache = self.world.planning_cache
        key = ("quote", pname, account, collateral, debt, amount)
        version = (pool.account_version(account), self.world.oracle_epoch())
        hit = cache.get(key)
        if hit is None or hit[0] != version:
            hit = cache[key] = (version, pool.quote_liquidation(now, collateral, debt, account, amount))
        return hit[1]

    def _fundable(self, debt: str, amount: int) -> int:
        if self.flash_loans:
            return amount
        return min(amount, self.world.ledger.balance_of(debt, self.address))

    def _flash_fee(self, debt: str, amount: int) -> int:
        """Flash-loan fee (debt base units, rounded up) to repay ``amount`` of ``debt`` now."""
        return self._flash_fee_for(amount, self.world.ledger.balance_of(debt, self.address))

    def _flash_fee_for(self, amount: int, own: int) -> int:
        borrowed = max(0, amount - own) if self.flash_loans else 0
        return -(-borrowed * self.world.flash_loan_fee_bps // 10_000)

    # --- executing -----------------------------------------------------------------------

    def _execute(self, plan: LiquidationPlan, tip: int) -> bool:
        world, ledger = self.world, self.world.ledger
        pool = world.protocols[plan.protocol]
        block, now = world.block, world.now()
        amount = self._fundable(plan.debt_asset, plan.debt_to_cover)
        quote = self._quote(plan.protocol, pool, now, plan.account, plan.collateral_asset,
                            plan.debt_asset, amount)
        if not hasattr(quote, "debt_repaid"):
            return self._fail(plan, tip, quote.reason)
        fee = self._flash_fee(plan.debt_asset, quote.debt_repaid)
        borrowed = max(0, quote.debt_repaid - ledger.balance_of(plan.debt_asset, self.address))
        proceeds = self.router.quote(plan.collateral_asset, plan.debt_asset, quote.collateral_seized)
        if proceeds < quote.debt_repaid + fee:
            return self._fail(plan, tip, "sale of seized collateral does not repay the flash loan"
                              if borrowed else "sale of seized collateral returns less than was repaid")
        gas_usd = world.gas_cost_usd(self.gas, tip)
        if _usd(pool, plan.debt_asset, proceeds - quote.debt_repaid - fee) <= gas_usd:
            return self._fail(plan, tip, "unprofitable after gas and tip")
        if borrowed:
            ledger.mint(plan.debt_asset, self.address, borrowed)
        outcome = pool.liquidation_call(now, self.address, plan.collateral_asset, plan.debt_asset,
                                        plan.account, amount)
        if not hasattr(outcome, "debt_repaid"):  # e.g. the pool lacks collateral cash to pay out
            if borrowed:
                ledger.burn(plan.debt_asset, self.address, borrowed)
            return self._fail(plan, tip, outcome.reason)
        if (outcome.debt_repaid, outcome.collateral_seized) != (quote.debt_repaid, quote.collateral_seized):
            raise InvariantViolation(f"liquidation quote {quote} disagrees with the outcome {outcome}")
        world.charge_gas(self.address, self.gas, tip)
        got, swaps = self.router.swap(block, now, self.address, plan.collateral_asset, plan.debt_asset,
                                      outcome.collateral_seized)
        if borrowed:
            ledger.burn(plan.debt_asset, self.address, borrowed)
            ledger.transfer(plan.debt_asset, self.address, FLASH_LENDER, fee)
        profit_usd = _usd(pool, plan.debt_asset, got - outcome.debt_repaid - fee) - gas_usd
        world.note_liquidation_fee(plan.protocol, plan.collateral_asset, outcome.protocol_fee)
        world.emit(swaps)
        world.emit([PositionLiquidated(
            block=block, protocol=plan.protocol, liquidator=self.name, account=plan.account,
            collateral_asset=plan.collateral_asset, debt_asset=plan.debt_asset,
            debt_repaid=outcome.debt_repaid, collateral_seized=outcome.collateral_seized,
            protocol_fee=outcome.protocol_fee, health_before=outcome.health_before,
            health_after=outcome.health_after,
            debt_repaid_usd=outcome.debt_repaid_usd,
            collateral_seized_usd=outcome.collateral_seized_usd,
            profit_usd=profit_usd, gas_cost_usd=gas_usd,
        )])
        world.emit(
            BadDebtRealized(block, plan.protocol, plan.account, asset, amt, usd)
            for (asset, amt), (_, usd) in zip(outcome.deficits, outcome.deficits_usd, strict=True) if amt
        )
        world.emit(  # Aave 3.0 books no deficit: the debt stays on the account, unbacked
            BadDebtRealized(block, plan.protocol, plan.account, asset, amt, pool.value_usd(asset, amt))
            for asset, amt in getattr(outcome, "unbacked_debt", ()) if amt
        )
        if getattr(outcome, "deficits_socialized", False):  # written off against suppliers at once (Morpho)
            world.emit(
                BadDebtSocialized(block, plan.protocol, asset, amt, usd)
                for (asset, amt), (_, usd) in zip(outcome.deficits, outcome.deficits_usd, strict=True) if amt
            )
        return True


    def _fail(self, plan: LiquidationPlan, tip: int, reason: str) -> bool:
        """Record a failed attempt: dropped unsent if bundled privately, else reverted with gas."""
        if self.private_bundles:
            reason, gas_usd = f"DROPPED: {reason}", 0
        else:
            reason, gas_usd = f"REVERTED: {reason}", self.world.charge_gas(self.address, self.gas, tip)
        self.world.emit([LiquidationRefused(self.world.block, plan.protocol, self.name, plan.account,
                                            reason, gas_usd)])
        return False


def _usd(pool: Any, asset: str, amount: int) -> int:
    """USD (1e8) value of a signed amount at the protocol's oracle price (a profit or loss)."""
    value = pool.value_usd(asset, abs(amount))
    return value if amount >= 0 else -value
