"""The liquidation engine of perpetual exchanges, as an agent that sends its work as transactions.

On dYdX v4 and Hyperliquid nobody outside the protocol liquidates: the chain's own liquidation
engine checks accounts every block and closes the liquidatable ones (dYdX: protocol-generated
liquidation orders matched in the block; Hyperliquid: liquidation market orders sent by the
clearinghouse). We model that engine as a ``perp-liquidator`` agent that, each block (AGENTS
phase, so it sees an oracle round as soon as it lands), asks each watched exchange for its
candidates (:meth:`PerpExchange.perp_liquidation_candidates`, largest notional first), confirms
each exactly (:meth:`PerpExchange.can_liquidate`: unhealthy, not in a staged cooldown) and
sends one transaction per account, at most ``max_txs_per_block``.

* ``gas_per_liquidation = 0`` (the default) is the protocol engine itself: its transactions
  use no block space and cost nothing. A positive value models a keeper on a shared chain
  (e.g. an L2 perp DEX where anyone may trigger ``liquidate``): the transactions then compete
  for block space and pay gas at the base fee plus ``priority_fee``.
* ``priority_fee`` (wei per gas) orders the engine's transactions ahead of (or behind)
  arbitrageurs in the block; the default puts liquidations first, so arbitrageurs carry their
  price impact to other venues within the same block.
* The exchange does the liquidation (:meth:`PerpExchange.liquidate`); a transaction that
  finds the account no longer liquidatable when it runs (an earlier liquidation in the block
  moved the venue, a competitor, a cooldown) is dropped: ``LiquidationRefused`` with
  ``DROPPED:`` and no gas.

Each success is recorded as a core ``PositionLiquidated`` (so the run summary counts it):
``debt_repaid`` = notional closed, ``collateral_seized`` = the account's own collateral the
liquidation consumed, ``protocol_fee`` = liquidation fee to the insurance fund, all in the
quote token; ``collateral_asset`` and ``debt_asset`` are the quote token; health factors are
``equity / maintenance requirement`` (WAD); ``profit_usd`` is minus the gas paid (the engine
earns nothing: dYdX v4 sends the whole fee to the insurance fund). The swap, fill, bad-debt,
fund, deleveraging and socialisation records of the outcome follow it in the log.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from defisim.engine.blockspace import Tx
from defisim.engine.records import LiquidationRefused, PositionLiquidated, SwapExecuted

if TYPE_CHECKING:
    from defisim.engine.protocols.perp import LiquidationOutcome, PerpExchange
    from defisim.engine.world import World

__all__ = ["PerpLiquidator"]


class PerpLiquidator:
    """The perp exchanges' liquidation engine as a transaction-sending agent (see module)."""

    def __init__(
        self,
        world: World,
        *,
        name: str,
        exchanges: list[str],
        gas_per_liquidation: int = 0,
        priority_fee: int = 0,
        max_txs_per_block: int = 100,
    ) -> None:
        if gas_per_liquidation < 0 or priority_fee < 0 or max_txs_per_block < 1:
            raise ValueError("gas_per_liquidation and priority_fee must be >= 0, max_txs_per_block >= 1")
        self.world = world
        self.name = name
        self.address = f"perp-liquidator:{name}"
        self.exchanges = exchanges
        self.gas = gas_per_liquidation
        self.priority_fee = priority_fee
        self.max_txs = max_txs_per_block

    def propose(self, block: int) -> list[Tx]:
        """One transaction per liquidatable account, exchanges taken in turns."""
        now = self.world.now(block)
        lists = []
        for name in self.exchanges:
            exchange = self.world.protocols[name]
            lists.append((name, exchange, exchange.perp_liquidation_candidates(now)))
        txs: list[Tx] = []
        longest = max((len(c) for _, _, c in lists), default=0)
        for i in range(longest):
            for name, exchange, candidates in lists:
                if len(txs) >= self.max_txs:
                    return txs
                if i < len(candidates) and exchange.can_liquidate(now, candidates[i]) is None:
                    txs.append(Tx(self.address, "perp-liquidation", self.gas, self.priority_fee,
                                  partial(self._execute, name, candidates[i]), revert_protected=True))
        return txs

    def _execute(self, protocol: str, account: str) -> bool:
        world = self.world
        exchange: PerpExchange = world.protocols[protocol]
        block, now = world.block, world.now()
        outcome = exchange.liquidate(block, now, self.name, account)
        if not hasattr(outcome, "debt_repaid"):
            world.emit([LiquidationRefused(block, protocol, self.name, account,
                                           f"DROPPED: {outcome.reason}", 0)])
            return False
        gas_usd = world.charge_gas(self.address, self.gas, self.priority_fee) if self.gas else 0
        self._record(block, protocol, exchange, outcome, gas_usd)
        return True

    def _record(self, block: int, protocol: str, exchange: PerpExchange, outcome: LiquidationOutcome,
                gas_usd: int) -> None:
        quote = exchange.quote
        swaps = [r for r in outcome.records if isinstance(r, SwapExecuted)]
        rest = [r for r in outcome.records if not isinstance(r, SwapExecuted)]
        self.world.emit(swaps)
        self.world.emit([PositionLiquidated(
            block=block, protocol=protocol, liquidator=self.name, account=outcome.account,
            collateral_asset=quote, debt_asset=quote,
            debt_repaid=outcome.debt_repaid, collateral_seized=outcome.collateral_seized,
            protocol_fee=outcome.protocol_fee, health_before=outcome.health_before,
            health_after=outcome.health_after,
            debt_repaid_usd=exchange.value_usd(quote, outcome.debt_repaid),
            collateral_seized_usd=exchange.value_usd(quote, outcome.collateral_seized),
            profit_usd=-gas_usd, gas_cost_usd=gas_usd,
            underlying=_underlying(exchange, outcome),
        )])
        self.world.emit(rest)


def _underlying(exchange: PerpExchange, outcome: LiquidationOutcome) -> str:
    """The asset of the market with the largest closed notional (a cross-margin liquidation
    may close several markets)."""
    if not outcome.closed:
        return ""
    biggest = max(outcome.closed, key=lambda part: part.notional)
    return exchange.market_params(biggest.market).asset
