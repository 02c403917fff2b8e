"""Time-weighted average price of a Uniswap V2 pool, from its UQ112x112 accumulators.

Mirrors Uniswap's ``ExampleOracleSimple`` (fixed window): the oracle keeps the pool's
accumulators from its last update; once at least ``window_s`` seconds have passed it reads the
current accumulators (``UniswapV2OracleLibrary.currentCumulativePrices``, counterfactual, no
pool write) and sets ``average = (cumulative - cumulative_last) // elapsed`` (accumulator
difference modulo ``2**256``, elapsed modulo ``2**32``, average truncated to ``uint224``). The
average therefore covers *at least* one window (more if no block fell exactly on its end),
and the answer changes at most once per window.

USD conversion (8 decimals), with ``avg`` the UQ112x112 average of other-token base units per
``asset`` base unit and ``quote_e8`` the other token's USD price::

    answer = round_half_up(avg * 10**dec_asset * quote_e8 / (2**112 * 10**dec_quote))

This step is ours, not a contract's. It rounds to nearest rather than down because ``avg`` is
already truncated to a multiple of ``2**-112``: a floor here would turn that ~1e-25 relative
shortfall into a whole 1e-8 USD (a pool at exactly $2000 would read 1999.99999999). It is also
a single rounding: the example's ``consult`` of one whole token would first floor to quote base
units, losing the digits below a quote base unit (``consult`` is provided as well). A pool
price so low that this rounds to 0 is published as 0: the oracle reports what the arithmetic
gives.

Start: with ``prime_with_spot=True`` (default) the first call publishes the pool's spot price
(reason ``"initial"``), i.e. the oracle is assumed to have run over a steady pool before the
simulation; with ``False`` there is no answer until the first full window (reason
``"window"``). Reading happens in the ORACLE phase, before the block's trades, which is what a
transaction at the top of the block would see.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.markets.uniswap_v2 import Q112, UniswapV2Pool
from defisim.engine.oracles.base import Oracle, OracleError
from defisim.engine.records import PriceUpdated

__all__ = ["TwapOracle", "resolve_quote_price"]

_UINT256 = 2**256
_UINT224 = 2**224
_UINT32 = 2**32


def resolve_quote_price(quote_price: Callable[[], int] | int) -> Callable[[], int]:
    """A fixed 8-decimal USD price or a callable, as a callable."""
    if callable(quote_price):
        return quote_price
    if type(quote_price) is not int or quote_price <= 0:
        raise OracleError(f"quote_price must be a positive int (1e8 USD) or a callable, got {quote_price!r}")
    fixed = quote_price
    return lambda: fixed


class TwapOracle(Oracle):
    """Fixed-window TWAP of ``asset`` in ``pool``, converted to USD with the other token's price.

    Args:
        name, asset: see :class:`~defisim.engine.oracles.base.Oracle`; ``asset`` must be one of
            the pool's tokens, the other one is the quote.
        pool: the Uniswap V2 pool.
        window_s: minimum seconds between updates (``PERIOD``).
        quote_price: the quote token's USD price, 8 decimals, fixed (default $1) or a callable.
        prime_with_spot: publish spot at the first call (see module docs).
    """

    def __init__(
        self,
        name: str,
        asset: str,
        pool: UniswapV2Pool,
        window_s: int,
        quote_price: Callable[[], int] | int = 10**8,
        *,
        prime_with_spot: bool = True,
    ) -> None:
        super().__init__(name, asset)
        if asset not in (pool.token0, pool.token1):
            raise OracleError(f"{name}: {asset} is not a token of pool {pool.name}")
        if type(window_s) is not int or window_s <= 0:
            raise OracleError(f"{name}: window_s must be a positive int, got {window_s!r}")
        self.pool = pool
        self.quote = pool.other(asset)
        self.window_s = window_s
        self.quote_price = resolve_quote_price(quote_price)
        self.prime_with_spot = prime_with_spot
        self.price0_cumulative_last = 0
        self.price1_cumulative_last = 0
        self.block_timestamp_last: int | None = None
        self.price0_average = 0
        self.price1_average = 0

    @property
    def average(self) -> int:
        """Latest average of quote base units per ``asset`` base unit, UQ112x112."""
        return self.price0_average if self.asset == self.pool.token0 else self.price1_average

    def consult(self, token: str, amount_in: int) -> int:
        """``ExampleOracleSimple.consult``: ``amount_in`` base units of ``token`` valued in the
        other token's base units at the latest average (``(avg * amount_in) >> 112``)."""
        if token == self.pool.token0:
            return self.price0_average * amount_in // Q112
        if token == self.pool.token1:
            return self.price1_average * amount_in // Q112
        raise OracleError(f"{self.name}: {token} is not a token of pool {self.pool.name}")

    def to_usd_e8(self, average_uq112: int) -> int:
        """USD price of one whole ``asset`` (8 decimals, half up) for a UQ112x112 base-unit price."""
        ledger = self.pool.ledger
        numerator = average_uq112 * ledger.unit(self.asset) * self.quote_price()
        denominator = Q112 * ledger.unit(self.quote)
        return (2 * numerator + denominator) // (2 * denominator)

    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        """Update if a full window has passed since the last update (see module docs)."""
        if self.stopped:
            return []
        cum0, cum1, ts = self.pool.current_cumulative_prices(now)
        if self.block_timestamp_last is None:
            self.price0_cumulative_last, self.price1_cumulative_last = cum0, cum1
            self.block_timestamp_last = ts
            if self.prime_with_spot and self.pool.reserve0 and self.pool.reserve1:
                r0, r1 = self.pool.reserve0, self.pool.reserve1
                self.price0_average = r1 * Q112 // r0
                self.price1_average = r0 * Q112 // r1
                return [self._publish(block, now, self.to_usd_e8(self.average), "initial")]
            return []
        elapsed = (ts - self.block_timestamp_last) % _UINT32
        if elapsed < self.window_s:
            return []
        self.price0_average = ((cum0 - self.price0_cumulative_last) % _UINT256 // elapsed) % _UINT224
        self.price1_average = ((cum1 - self.price1_cumulative_last) % _UINT256 // elapsed) % _UINT224
        self.price0_cumulative_last, self.price1_cumulative_last = cum0, cum1
        self.block_timestamp_last = ts
        return [self._publish(block, now, self.to_usd_e8(self.average), "window")]
