"""PSM arbitrageur: trades a stablecoin's AMM pool against its peg-stability module.

With ``tin``/``tout`` the PSM fees (WAD), ``to18`` the gem's scale and the pool's marginal
price net of its fee, per block at most one of:

* **below peg** (the stablecoin is cheap on the AMM): buy stablecoin with gem on the pool,
  then ``buyGem`` at the PSM (1 gem for ``1 + tout`` stablecoin). The pool is bought until its
  marginal stablecoin-per-gem rate falls to ``(1 + tout)``, i.e. ``amount_in_to_price(gem,
  (WAD + tout) * to18, WAD)``; the size is capped by the PSM **buffer** (the gem it still
  holds) and by the arbitrageur's gem. Once the buffer is gone this trade is impossible and
  nothing holds the AMM price up: that is the end of the peg.
* **above peg**: ``sellGem`` at the PSM (1 gem for ``1 - tin`` stablecoin), sell the
  stablecoin on the pool until its gem-per-stablecoin rate falls to ``1 / (1 - tin)``; capped
  by the PSM's ceiling headroom and the arbitrageur's gem.

A trade is sent when ``gem out - gem in`` (valued at $1 per gem) exceeds gas plus
``min_profit_usd``; the plan is re-made when the transaction runs. With nothing to do at the
start of a block it still sends a back-running bundle (tip ``backrun_tip_wei``, private, so a
no-op costs nothing) that plans after the block's earlier transactions: sales into the pool
in the same block are answered in that block while the PSM can pay. Records:
``SwapExecuted``, ``PsmSwapped`` (and ``PsmBufferDrained``), ``ArbitrageExecuted`` (tokens
in/out both the gem: profit is in gem).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from defisim.engine.blockspace import Tx
from defisim.engine.markets.psm import PegStabilityModule, PsmError
from defisim.engine.markets.uniswap_v2 import PoolError, UniswapV2Pool
from defisim.engine.protocols.maker.dsmath import WAD
from defisim.engine.records import ArbitrageExecuted, TransactionReverted

if TYPE_CHECKING:
    from defisim.engine.world import World


@dataclass(frozen=True, slots=True)
class PegTrade:
    """One planned arbitrage: ``direction`` ``"below"`` or ``"above"`` peg; amounts base units."""

    direction: str
    gem_in: int
    stable: int
    gem_out: int
    profit_usd: int


class PegArbitrageur:
    """Arbitrage between a stablecoin/gem AMM pool and the PSM (see module docstring)."""

    def __init__(
        self,
        world: World,
        *,
        name: str,
        psm: PegStabilityModule,
        pool: UniswapV2Pool,
        bid_share: float,
        min_profit_usd: int,
        gas: int,
        private_bundles: bool = True,
        backrun_tip_wei: int = 2 * 10**9,
    ) -> None:
        if {pool.token0, pool.token1} != {psm.gem, psm.stablecoin}:
            raise ValueError(f"pool {pool.name} does not trade {psm.gem}/{psm.stablecoin}")
        self.world = world
        self.name = name
        self.address = f"arbitrageur:{name}"
        self.psm = psm
        self.pool = pool
        self.gem = psm.gem
        self.stable = psm.stablecoin
        self.bid_share = bid_share
        self.min_profit_usd = min_profit_usd
        self.gas = gas
        self.private_bundles = private_bundles
        self.backrun_tip_wei = backrun_tip_wei

    def propose(self, block: int) -> list[Tx]:
        """At most one transaction: the peg arbitrage if it pays more than gas now."""
        trade = self.plan()
        if trade is None:
            if self.psm.buffer() <= 0 and self.psm.headroom() <= 0:
                return []
            return [Tx(self.address, "peg-arbitrage", self.gas, self.backrun_tip_wei,
                       partial(self._execute, self.backrun_tip_wei, quiet=True), revert_protected=True)]
        tip = int(trade.profit_usd / 1e8 * self.bid_share / self.gas / self.world.usd_per_gas_wei())
        return [Tx(self.address, "peg-arbitrage", self.gas, max(tip, 0), partial(self._execute, tip),
                   revert_protected=self.private_bundles)]

    # --- planning ----------------------------------------------------------------------------

    def plan(self) -> PegTrade | None:
        """The profitable trade on the current state, or None."""
        gas_usd = self.world.gas_cost_usd(self.gas, 0)
        for trade in (self._below(), self._above()):
            if trade is not None and trade.profit_usd - gas_usd > self.min_profit_usd:
                return PegTrade(trade.direction, trade.gem_in, trade.stable, trade.gem_out,
                                trade.profit_usd - gas_usd)
        return None

    def _usd(self, gem: int) -> int:
        return gem * 10**8 // self.world.ledger.unit(self.gem)

    def _below(self) -> PegTrade | None:
        psm, pool = self.psm, self.pool
        buffer = psm.buffer()
        own = self.world.ledger.balance_of(self.gem, self.address)
        if buffer <= 0 or own <= 0:
            return None
        try:
            x = pool.amount_in_to_price(self.gem, (WAD + psm.tout) * psm.to18, WAD)
        except PoolError:
            return None
        x = min(x, own)
        if x <= 0:
            return None
        stable = pool.get_amount_out(x, self.gem)
        gem_out = psm.gem_for_dai(stable)
        if gem_out > buffer:
            gem_out = buffer
            stable = psm.quote_buy_gem(gem_out).stable_amount
            try:
                x = pool.get_amount_in(stable, self.stable)
            except PoolError:
                return None
            if x > own:
                return None
        if gem_out <= x:
            return None
        return PegTrade("below", x, stable, gem_out, self._usd(gem_out - x))

    def _above(self) -> PegTrade | None:
        psm, pool = self.psm, self.pool
        own = self.world.ledger.balance_of(self.gem, self.address)
        room = psm.headroom()
        if own <= 0 or room <= 0:
            return None
        try:
            y = pool.amount_in_to_price(self.stable, WAD, (WAD - psm.tin) * psm.to18)
        except PoolError:
            return None
        y = min(y, room * (WAD - psm.tin) // WAD)
        if y <= 0:
            return None
        gem_in = min(psm.gem_to_receive_dai(y), own, room // psm.to18)
        y = min(y, psm.quote_sell_gem(gem_in).stable_amount)
        if y <= 0 or gem_in <= 0:
            return None
        gem_out = pool.get_amount_out(y, self.stable)
        if gem_out <= gem_in:
            return None
        return PegTrade("above", gem_in, y, gem_out, self._usd(gem_out - gem_in))

    # --- executing ---------------------------------------------------------------------------

    def _execute(self, tip: int, quiet: bool = False) -> bool:
        world = self.world
        block, now = world.block, world.now()
        trade = self.plan()
        if trade is None:
            if not (self.private_bundles or quiet):
                world.emit([TransactionReverted(block, self.address, "peg-arbitrage", "no profitable trade left",
                                                world.charge_gas(self.address, self.gas, tip))])
            return False
        gas_usd = world.charge_gas(self.address, self.gas, tip)
        records: list[Any] = []
        try:
            if trade.direction == "below":
                swap = self.pool.swap_exact_in(block, now, self.address, self.gem, trade.gem_in, trade.stable)
                if swap is None:
                    return False
                records.append(swap)
                records += self.psm.buy_gem(block, self.address, trade.gem_out)
                gem_in, gem_out = trade.gem_in, trade.gem_out
            else:
                records += self.psm.sell_gem(block, self.address, trade.gem_in)
                swap = self.pool.swap_exact_in(block, now, self.address, self.stable, trade.stable, 0)
                if swap is None:  # pragma: no cover - planned on the same state
                    return False
                records.append(swap)
                gem_in, gem_out = trade.gem_in, swap.amount_out
        except PsmError as exc:  # pragma: no cover - planned on the same state
            world.emit([TransactionReverted(block, self.address, "peg-arbitrage", exc.reason, gas_usd)])
            return False
        world.emit(records)
        world.emit([ArbitrageExecuted(
            block=block, pool=self.pool.name, agent=self.name, token_in=self.gem, amount_in=gem_in,
            token_out=self.gem, amount_out=gem_out, profit_usd=self._usd(gem_out - gem_in) - gas_usd,
            gas_cost_usd=gas_usd,
        )])
        return True
