"""Spot-AMM oracle: the pool's current reserve ratio, in USD. Manipulable by design.

The answer is :meth:`UniswapV2Pool.spot_price_e8` of ``asset`` (marginal price before fee,
floor, 8 decimals) times nothing else: whoever moves the pool moves the oracle.

Two read modes:

* ``live=False`` (default): sampled once per block in the ORACLE phase. A new answer (and a
  :class:`PriceUpdated`, reason ``"spot"``) only when the sampled value differs from the last
  one. Trades in block ``b`` show up at block ``b + 1``.
* ``live=True``: :meth:`AmmSpotOracle.latest_answer` reads the pool at the moment it is called,
  like a protocol calling ``getReserves`` inside the transaction, so a trade earlier in the
  same block (a flash-loan manipulation) is seen at once. ``version`` then moves whenever the
  read value changes; rounds observed between ORACLE phases produce no record (their
  ``updated_at`` is the pool's ``block_timestamp_last``), ``on_block`` still records the
  per-block samples.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.engine.oracles.base import Oracle, OracleError, RoundData
from defisim.engine.oracles.twap import resolve_quote_price
from defisim.engine.records import PriceUpdated

__all__ = ["AmmSpotOracle"]


class AmmSpotOracle(Oracle):
    """USD price of ``asset`` from ``pool``'s reserves (see module docs).

    Args:
        name, asset: see :class:`~defisim.engine.oracles.base.Oracle`; ``asset`` must be one of
            the pool's tokens, the other one is the quote.
        pool: the Uniswap V2 pool.
        quote_price: the quote token's USD price, 8 decimals, fixed (default $1) or a callable.
        live: read through to the pool on every call (see module docs).
    """

    def __init__(
        self,
        name: str,
        asset: str,
        pool: UniswapV2Pool,
        quote_price: Callable[[], int] | int = 10**8,
        *,
        live: bool = False,
    ) -> None:
        super().__init__(name, asset)
        if asset not in (pool.token0, pool.token1):
            raise OracleError(f"{name}: {asset} is not a token of pool {pool.name}")
        self.pool = pool
        self.quote_price = resolve_quote_price(quote_price)
        self.live = live
        self._recorded: int | None = None

    def read(self) -> int:
        """The pool's spot price of ``asset`` now, USD 8 decimals."""
        return self.pool.spot_price_e8(self.asset, self.quote_price())

    def _refresh_live(self) -> None:
        if not self.live or self.stopped or not (self.pool.reserve0 and self.pool.reserve1):
            return
        value = self.read()
        if value != self._answer:
            self._round_id += 1
            self._answer = value
            self._updated_at = self.pool.block_timestamp_last
            self._version += 1

    @property
    def version(self) -> int:
        """Increments on every new answer (in live mode, checks the pool first)."""
        self._refresh_live()
        return self._version

    def latest_answer(self) -> int:
        """Latest answer, USD 8 decimals (live mode: the pool right now)."""
        self._refresh_live()
        return super().latest_answer()

    def latest_round(self) -> RoundData:
        """``(round_id, answer, updated_at)`` (live mode: the pool right now)."""
        self._refresh_live()
        return super().latest_round()

    def on_block(self, block: int, now: int) -> list[PriceUpdated]:
        """Sample the pool; publish if the value changed."""
        if self.stopped:
            return []
        value = self.read()
        if value == self._recorded:
            return []
        reason = "initial" if self._recorded is None else "spot"
        self._recorded = value
        if value != self._answer:
            return [self._publish(block, now, value, reason)]
        # live mode already took this value as a round between samples: record that round
        self._updated_block = block
        return [
            PriceUpdated(
                block=block, oracle=self.name, asset=self.asset,
                price=value, round_id=self._round_id, reason=reason,
            )
        ]
