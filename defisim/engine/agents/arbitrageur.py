"""Arbitrageur: trades an AMM pool toward the external venue's price when profit beats gas.

It buys the cheap side on the pool and hedges at once on the external venue (a CEX), so it
carries no inventory risk: the pool leg is exact integer math, the venue leg is the venue's
price with impact. The trade size is the exact input that moves the pool's marginal price to
the venue price (after the pool fee), capped by the arbitrageur's balance, halved while the
venue's own impact or its inventory makes it unprofitable. Profit is in the
quote token (a USD stablecoin valued at $1), reported in USD 1e8.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from defisim.engine.blockspace import Tx
from defisim.engine.records import ArbitrageExecuted, TransactionReverted
from defisim.units import price_to_e8

SIZE_STEPS = 8
"""Sizes tried: the size that closes the gap, then halving (venue impact, venue inventory)."""

if TYPE_CHECKING:
    from defisim.engine.world import World


class Arbitrageur:
    """Keeps one pool in line with one external venue (see module docstring)."""

    def __init__(
        self,
        world: World,
        *,
        name: str,
        pool: Any,
        venue: Any,
        bid_share: float,
        min_profit_usd: int,
        gas: int,
        private_bundles: bool = True,
    ) -> None:
        self.world = world
        self.name = name
        self.address = f"arbitrageur:{name}"
        self.pool = pool
        self.venue = venue
        self.asset = venue.asset
        self.quote_token = venue.quote_token
        self.bid_share = bid_share
        self.min_profit_usd = min_profit_usd
        self.gas = gas
        self.private_bundles = private_bundles

    def propose(self, block: int) -> list[Tx]:
        """At most one transaction: the arbitrage if it pays more than gas right now."""
        trade = self._best_trade(block)
        if trade is None:
            return []
        _, _, profit_usd = trade
        tip = int(profit_usd / 1e8 * self.bid_share / self.gas / self.world.usd_per_gas_wei())
        return [Tx(self.address, "arbitrage", self.gas, max(tip, 0), partial(self._execute, tip),
                   revert_protected=self.private_bundles)]

    def _best_trade(self, block: int) -> tuple[str, int, int] | None:
        """(token_in, amount_in, profit USD 1e8 after gas at zero tip) or None."""
        venue_price = self.venue.price(block)
        dec_a = self.world.ledger.decimals[self.asset]
        dec_q = self.world.ledger.decimals[self.quote_token]
        p_asset = price_to_e8(venue_price)
        p_quote = 10**8  # the quote token is a $1 stablecoin
        # pool price is token_out base units per token_in base unit (UniswapV2Pool docs)
        targets = {
            self.quote_token: (p_quote * 10**dec_a, p_asset * 10**dec_q),
            self.asset: (p_asset * 10**dec_q, p_quote * 10**dec_a),
        }
        ledger = self.world.ledger
        venue_has = {t: ledger.balance_of(t, self.venue.address) for t in (self.asset, self.quote_token)}
        gas_usd = self.world.gas_cost_usd(self.gas, 0)
        for token_in, (num, den) in targets.items():
            amount_in = self.pool.amount_in_to_price(token_in, num, den)
            amount_in = min(amount_in, ledger.balance_of(token_in, self.address))
            for _ in range(SIZE_STEPS):
                if amount_in <= 0:
                    break
                out = self.pool.get_amount_out(amount_in, token_in)
                if token_in == self.quote_token:  # bought asset on the pool, sell it on the venue
                    venue_quote = self.venue.quote_sell(block, out).quote_amount
                    fits = venue_quote <= venue_has[self.quote_token]
                    profit_q = venue_quote - amount_in
                else:  # sold asset on the pool for quote, buy it back on the venue
                    fits = amount_in <= venue_has[self.asset]
                    profit_q = out - self.venue.quote_buy(block, amount_in).quote_amount
                profit_usd = profit_q * 10**8 // 10**dec_q - gas_usd
                if fits and profit_usd > self.min_profit_usd:
                    return token_in, amount_in, profit_usd
                amount_in //= 2  # the venue's own impact or inventory: try smaller
        return None

    def _execute(self, tip: int) -> bool:
        world = self.world
        block, now = world.block, world.now()
        trade = self._best_trade(block)
        if trade is None:  # earlier transactions in the block took the opportunity
            if not self.private_bundles:
                world.emit([TransactionReverted(block, self.address, "arbitrage", "no profitable trade left",
                                                world.charge_gas(self.address, self.gas, tip))])
            return False
        gas_usd = world.charge_gas(self.address, self.gas, tip)
        token_in, amount_in, _ = trade
        swap = self.pool.swap_exact_in(block, now, self.address, token_in, amount_in, 0)
        if swap is None:
            return False
        if token_in == self.quote_token:
            received = self.venue.sell(block, self.address, swap.amount_out)
            profit_q = received - amount_in
        else:
            paid = self.venue.buy(block, self.address, amount_in)
            profit_q = swap.amount_out - paid
        dec_q = world.ledger.decimals[self.quote_token]
        world.emit([swap])
        world.emit([ArbitrageExecuted(
            block=block, pool=self.pool.name, agent=self.name, token_in=token_in, amount_in=amount_in,
            token_out=swap.token_out, amount_out=swap.amount_out,
            profit_usd=profit_q * 10**8 // 10**dec_q - gas_usd, gas_cost_usd=gas_usd,
        )])
        return True
