"""Uniswap V2 constant-product pool, exact to the base unit.

Mirrors ``UniswapV2Pair`` (``swap``, ``_update``, ``sync``, the UQ112x112 price accumulators)
and the pure helpers of ``UniswapV2Library`` (``getAmountOut``, ``getAmountIn``). Everything is
Python ``int``: amounts are token base units, accumulators are UQ112x112 fixed point (the
value times ``2**112``) times seconds, wrapping modulo ``2**256``; timestamps are taken modulo
``2**32`` exactly as the pair stores them.

Differences from the contract, on purpose:

* Tokens live in a shared :class:`~defisim.engine.ledger.Ledger`; the pool is the ledger holder
  ``"pool:<name>"``. LP shares are not modelled (``add_liquidity`` only deposits and syncs).
* The fee is a parameter ``fee_bps``: the pair's ``997/1000`` is ``fee_bps=30``; in general the
  input counts ``(10_000 - fee_bps) / 10_000``. For 30 bps every result equals the contract's
  (numerator and denominator are both the contract's times 10, so every floor is the same).
* A trade whose output would be below ``min_out`` or zero is refused (returns ``None``, no state
  change): on chain the router's slippage check or the pair's ``INSUFFICIENT_OUTPUT_AMOUNT``
  would revert the transaction. Calls that would revert for a *caller* bug (zero input, unknown
  token, empty pool) raise :class:`PoolError` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from defisim.engine.ledger import Ledger
from defisim.engine.records import SwapExecuted
from defisim.errors import DefisimError, InsufficientBalanceError, InvariantViolation

__all__ = [
    "Q112",
    "UINT112_MAX",
    "FEE_DENOMINATOR",
    "PoolError",
    "PoolSnapshot",
    "UniswapV2Pool",
    "get_amount_out",
    "get_amount_in",
]

Q112 = 2**112
"""One, in UQ112x112 fixed point."""

UINT112_MAX = 2**112 - 1
"""Largest reserve the pair can store (``uint112``)."""

FEE_DENOMINATOR = 10_000
"""Fees are in basis points of the input amount."""

_UINT256 = 2**256
_UINT32 = 2**32


class PoolError(DefisimError, ValueError):
    """A pool call that would revert on chain; ``reason`` is the contract's revert reason."""

    def __init__(self, pool: str, reason: str, detail: str = "") -> None:
        self.pool, self.reason, self.detail = pool, reason, detail
        super().__init__(f"{pool}: {reason}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """Frozen pool state, as ``getReserves()`` and the accumulator getters return it.

    Reserves in base units; cumulatives in UQ112x112 x seconds (mod 2**256); timestamp mod 2**32.
    """

    name: str
    token0: str
    token1: str
    fee_bps: int
    reserve0: int
    reserve1: int
    price0_cumulative_last: int
    price1_cumulative_last: int
    block_timestamp_last: int


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Maximum output (base units of the out token) for ``amount_in`` base units in.

    ``UniswapV2Library.getAmountOut``::

        in_with_fee = amount_in * (10_000 - fee_bps)
        out = in_with_fee * reserve_out // (reserve_in * 10_000 + in_with_fee)

    Raises:
        PoolError: ``INSUFFICIENT_INPUT_AMOUNT`` if ``amount_in <= 0``;
            ``INSUFFICIENT_LIQUIDITY`` if a reserve is zero.
    """
    if amount_in <= 0:
        raise PoolError("UniswapV2Library", "INSUFFICIENT_INPUT_AMOUNT", f"amount_in={amount_in}")
    if reserve_in <= 0 or reserve_out <= 0:
        raise PoolError("UniswapV2Library", "INSUFFICIENT_LIQUIDITY")
    in_with_fee = amount_in * (FEE_DENOMINATOR - fee_bps)
    return in_with_fee * reserve_out // (reserve_in * FEE_DENOMINATOR + in_with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Input (base units of the in token) needed to receive exactly ``amount_out`` base units.

    ``UniswapV2Library.getAmountIn``::

        in = reserve_in * amount_out * 10_000 // ((reserve_out - amount_out) * (10_000 - fee_bps)) + 1

    Raises:
        PoolError: ``INSUFFICIENT_OUTPUT_AMOUNT`` if ``amount_out <= 0``;
            ``INSUFFICIENT_LIQUIDITY`` if a reserve is zero or ``amount_out >= reserve_out``
            (the library reverts there too: SafeMath underflow for ``>``, division by zero
            for ``==``).
    """
    if amount_out <= 0:
        raise PoolError("UniswapV2Library", "INSUFFICIENT_OUTPUT_AMOUNT", f"amount_out={amount_out}")
    if reserve_in <= 0 or reserve_out <= 0 or amount_out >= reserve_out:
        raise PoolError(
            "UniswapV2Library", "INSUFFICIENT_LIQUIDITY",
            f"amount_out={amount_out} reserve_out={reserve_out}",
        )
    numerator = reserve_in * amount_out * FEE_DENOMINATOR
    denominator = (reserve_out - amount_out) * (FEE_DENOMINATOR - fee_bps)
    return numerator // denominator + 1


class UniswapV2Pool:
    """A constant-product pair of ``token0``/``token1`` holding its tokens in ``ledger``.

    Attributes:
        name: pool name; the ledger holder is ``address == "pool:<name>"``.
        token0, token1: token symbols (as in the ledger).
        fee_bps: swap fee in basis points of the input (30 = Uniswap V2's 0.3%).
        reserve0, reserve1: reserves in base units (``uint112``).
        price0_cumulative_last: Σ (reserve1/reserve0 as UQ112x112) x seconds, mod 2**256:
            token1 base units per token0 base unit, integrated over time.
        price1_cumulative_last: the same for reserve0/reserve1.
        block_timestamp_last: seconds mod 2**32 of the last reserve update.
        state_version: increments on every change of reserves (lets readers cache).
    """

    __slots__ = (
        "name", "token0", "token1", "ledger", "fee_bps", "address",
        "reserve0", "reserve1", "price0_cumulative_last", "price1_cumulative_last",
        "block_timestamp_last", "state_version",
    )

    def __init__(self, name: str, token0: str, token1: str, ledger: Ledger, fee_bps: int = 30) -> None:
        if token0 == token1:
            raise PoolError(name, "IDENTICAL_ADDRESSES", token0)
        for token in (token0, token1):
            if token not in ledger.decimals:
                raise PoolError(name, "UNKNOWN_TOKEN", f"{token} is not in the ledger")
        if type(fee_bps) is not int or not 0 <= fee_bps < FEE_DENOMINATOR:
            raise PoolError(name, "INVALID_FEE", f"fee_bps must be an int in [0, 10000), got {fee_bps!r}")
        self.name = name
        self.token0 = token0
        self.token1 = token1
        self.ledger = ledger
        self.fee_bps = fee_bps
        self.address = f"pool:{name}"
        self.reserve0 = 0
        self.reserve1 = 0
        self.price0_cumulative_last = 0
        self.price1_cumulative_last = 0
        self.block_timestamp_last = 0
        self.state_version = 0

    # --- views -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"UniswapV2Pool({self.name!r}, {self.token0}={self.reserve0}, "
            f"{self.token1}={self.reserve1}, fee_bps={self.fee_bps})"
        )

    @property
    def k(self) -> int:
        """The constant product ``reserve0 * reserve1`` (base units squared)."""
        return self.reserve0 * self.reserve1

    def other(self, token: str) -> str:
        """The pool's other token."""
        if token == self.token0:
            return self.token1
        if token == self.token1:
            return self.token0
        raise PoolError(self.name, "INVALID_TOKEN", f"{token} is not {self.token0} or {self.token1}")

    def reserves(self, token_in: str) -> tuple[int, int]:
        """``(reserve_in, reserve_out)`` in base units for a trade selling ``token_in``."""
        if token_in == self.token0:
            return self.reserve0, self.reserve1
        if token_in == self.token1:
            return self.reserve1, self.reserve0
        raise PoolError(self.name, "INVALID_TOKEN", f"{token_in} is not {self.token0} or {self.token1}")

    def get_amount_out(self, amount_in: int, token_in: str) -> int:
        """Output in base units of the other token for ``amount_in`` base units of ``token_in``.

        ``UniswapV2Library.getAmountOut`` on the current reserves (see :func:`get_amount_out`).
        """
        reserve_in, reserve_out = self.reserves(token_in)
        return get_amount_out(amount_in, reserve_in, reserve_out, self.fee_bps)

    def get_amount_in(self, amount_out: int, token_out: str) -> int:
        """Input in base units of the other token needed to get ``amount_out`` of ``token_out``.

        ``UniswapV2Library.getAmountIn`` on the current reserves (see :func:`get_amount_in`).
        """
        reserve_out, reserve_in = self.reserves(token_out)
        return get_amount_in(amount_out, reserve_in, reserve_out, self.fee_bps)

    def price_cumulative_last(self) -> tuple[int, int]:
        """``(price0CumulativeLast, price1CumulativeLast)`` as stored at the last update."""
        return self.price0_cumulative_last, self.price1_cumulative_last

    def current_cumulative_prices(self, now: int) -> tuple[int, int, int]:
        """Accumulators as of ``now`` without writing state.

        ``UniswapV2OracleLibrary.currentCumulativePrices``: if time passed since the last update,
        add the counterfactual ``price x elapsed`` at the current reserves. Returns
        ``(price0_cumulative, price1_cumulative, now mod 2**32)``.
        """
        ts = now % _UINT32
        p0, p1 = self.price0_cumulative_last, self.price1_cumulative_last
        if ts != self.block_timestamp_last and self.reserve0 and self.reserve1:
            elapsed = (ts - self.block_timestamp_last) % _UINT32
            p0 = (p0 + (self.reserve1 * Q112 // self.reserve0) * elapsed) % _UINT256
            p1 = (p1 + (self.reserve0 * Q112 // self.reserve1) * elapsed) % _UINT256
        return p0, p1, ts

    def spot_price_e8(self, base_token: str, quote_price_e8: int) -> int:
        """USD price (8 decimals) of one whole ``base_token`` implied by the reserves.

        ``floor(reserve_quote * 10**dec_base * quote_price_e8 / (reserve_base * 10**dec_quote))``
        where ``quote_price_e8`` is the other token's USD price with 8 decimals (``10**8`` for a
        $1 stablecoin). This is the marginal price before fee, as a spot oracle reads it.

        Raises:
            PoolError: ``INSUFFICIENT_LIQUIDITY`` if a reserve is zero.
        """
        reserve_base, reserve_quote = self.reserves(base_token)
        if reserve_base == 0 or reserve_quote == 0:
            raise PoolError(self.name, "INSUFFICIENT_LIQUIDITY")
        quote = self.other(base_token)
        return (reserve_quote * self.ledger.unit(base_token) * quote_price_e8) // (
            reserve_base * self.ledger.unit(quote)
        )

    def amount_in_to_price(
        self,
        token_in: str,
        target_price_num: int,
        target_price_den: int,
        *,
        net_of_fee: bool = True,
    ) -> int:
        """Largest input that does not push the pool's marginal price below a target.

        *Price* here is ``token_out`` **base units per** ``token_in`` **base unit**, read from the
        reserves after the swap: ``spot = reserve_out / reserve_in``. Selling ``token_in`` lowers
        it. ``net_of_fee=True`` (default) targets ``spot * (1 - fee)``, the rate the next marginal
        unit sold in the same direction would receive: swapping the returned amount brings the
        pool to the edge of the no-arbitrage band against an outside market paying
        ``target`` (an arbitrageur's size). ``net_of_fee=False`` targets the raw ``spot``, what a
        spot or TWAP oracle reads (a manipulator's size).

        The fee stays in the pool, so after ``x`` in the reserves are ``R_in + x`` and
        ``R_in * R_out / (R_in + g x)`` (``g = (10_000 - fee_bps) / 10_000``). Setting
        ``c * spot = target`` (``c = g`` or 1) gives ``g x² + (1 + g) R_in x + R_in² - c K / target
        = 0``; the result is the floor of its positive root, computed with :func:`math.isqrt`
        (exact: no intermediate rounding beyond the final floor). Because ``getAmountOut`` rounds
        the output down, the post-swap price is never below the target.

        To target a USD price, with ``p_in``/``p_out`` the tokens' USD prices at 8 decimals:
        ``num = p_in * 10**dec_out`` and ``den = p_out * 10**dec_in``.

        Returns:
            Base units of ``token_in``; ``0`` if the (fee-adjusted) price is already at or
            below the target.
        """
        if target_price_num <= 0 or target_price_den <= 0:
            raise PoolError(self.name, "INVALID_TARGET", f"{target_price_num}/{target_price_den}")
        reserve_in, reserve_out = self.reserves(token_in)
        if reserve_in == 0 or reserve_out == 0:
            raise PoolError(self.name, "INSUFFICIENT_LIQUIDITY")
        big_g = FEE_DENOMINATOR
        g = FEE_DENOMINATOR - self.fee_bps
        k = reserve_in * reserve_out
        # In units where the fee is g / G (G = 10_000): x = (sqrt(disc) - (G + g) R_in) / (2 g),
        # disc = (G - g)² R_in² + 4 g c K den / num with c = g (net of fee) or G (raw spot).
        # disc is scaled by num to stay an int; isqrt(floor(disc)) == floor(sqrt(disc)).
        c_scaled = g if net_of_fee else big_g
        disc_num = (big_g - g) ** 2 * reserve_in**2 * target_price_num + 4 * g * c_scaled * k * target_price_den
        root = math.isqrt(disc_num // target_price_num)
        x = (root - (big_g + g) * reserve_in) // (2 * g)
        return max(x, 0)

    def snapshot(self) -> PoolSnapshot:
        """The pool's state as a frozen :class:`PoolSnapshot`."""
        return PoolSnapshot(
            name=self.name, token0=self.token0, token1=self.token1, fee_bps=self.fee_bps,
            reserve0=self.reserve0, reserve1=self.reserve1,
            price0_cumulative_last=self.price0_cumulative_last,
            price1_cumulative_last=self.price1_cumulative_last,
            block_timestamp_last=self.block_timestamp_last,
        )

    # --- state changes ---------------------------------------------------------------------

    def add_liquidity(self, provider: str, amount0: int, amount1: int, now: int) -> None:
        """Deposit ``amount0``/``amount1`` base units from ``provider`` and sync the reserves.

        Mirrors the token transfers plus ``UniswapV2Pair.mint``'s ``_update`` (accumulators use
        the reserves before the deposit); LP shares are not minted. ``now`` is the block
        timestamp in seconds.
        """
        ledger = self.ledger
        _check_amount(self.name, amount0)
        _check_amount(self.name, amount1)
        if amount0 == 0 and amount1 == 0:
            raise PoolError(self.name, "INSUFFICIENT_LIQUIDITY_MINTED", "both amounts are zero")
        for token, amount in ((self.token0, amount0), (self.token1, amount1)):
            have = ledger.balance_of(token, provider)
            if have < amount:  # check both before moving either: a failure changes nothing
                raise InsufficientBalanceError(token, provider, have, amount)
        new0 = ledger.balance_of(self.token0, self.address) + amount0
        new1 = ledger.balance_of(self.token1, self.address) + amount1
        self._check_fits(new0, new1)
        ledger.transfer(self.token0, provider, self.address, amount0)
        ledger.transfer(self.token1, provider, self.address, amount1)
        self._update(new0, new1, now)

    def sync(self, now: int) -> None:
        """``UniswapV2Pair.sync``: set reserves to the pool's ledger balances."""
        new0 = self.ledger.balance_of(self.token0, self.address)
        new1 = self.ledger.balance_of(self.token1, self.address)
        self._check_fits(new0, new1)
        self._update(new0, new1, now)

    def swap_exact_in(
        self,
        block: int,
        now: int,
        trader: str,
        token_in: str,
        amount_in: int,
        min_out: int = 0,
    ) -> SwapExecuted | None:
        """Sell exactly ``amount_in`` base units of ``token_in`` from ``trader``.

        The router's ``swapExactTokensForTokens`` on one pair: output by ``getAmountOut``, input
        transferred in, output transferred out, then ``swap``'s K check and ``_update``
        (accumulators advance with the *previous* reserves over the seconds since the last
        update). ``now`` is the block timestamp in seconds.

        Returns:
            The :class:`SwapExecuted` record (reserves after the trade), or ``None`` with no state
            change when the output is below ``min_out`` or zero (the transaction would revert).

        Raises:
            PoolError: zero/negative input, unknown token, empty pool, uint112 overflow.
            InsufficientBalanceError: ``trader`` holds less than ``amount_in`` (nothing moved).
        """
        _check_amount(self.name, amount_in)
        amount_out = self.get_amount_out(amount_in, token_in)
        if amount_out < min_out or amount_out == 0:
            return None
        return self._execute(block, now, trader, token_in, amount_in, amount_out)

    def swap_exact_out(
        self,
        block: int,
        now: int,
        trader: str,
        token_out: str,
        amount_out: int,
        max_in: int | None = None,
    ) -> SwapExecuted | None:
        """Buy exactly ``amount_out`` base units of ``token_out``, paying ``getAmountIn``.

        The router's ``swapTokensForExactTokens`` on one pair. Returns ``None`` with no state
        change if the required input exceeds ``max_in`` (``None`` = no limit).

        Raises:
            PoolError: as :meth:`get_amount_in` (e.g. ``amount_out >= reserve_out``).
            InsufficientBalanceError: ``trader`` cannot pay the input (nothing moved).
        """
        _check_amount(self.name, amount_out)
        amount_in = self.get_amount_in(amount_out, token_out)
        if max_in is not None and amount_in > max_in:
            return None
        return self._execute(block, now, trader, self.other(token_out), amount_in, amount_out)

    # --- internals -------------------------------------------------------------------------

    def _execute(
        self, block: int, now: int, trader: str, token_in: str, amount_in: int, amount_out: int
    ) -> SwapExecuted:
        token_out = self.other(token_in)
        ledger = self.ledger
        bal_in = ledger.balance_of(token_in, self.address) + amount_in
        bal_out = ledger.balance_of(token_out, self.address) - amount_out
        reserve_in, reserve_out = self.reserves(token_in)
        if amount_out >= reserve_out:
            raise PoolError(self.name, "INSUFFICIENT_LIQUIDITY", f"amount_out={amount_out}")
        # UniswapV2Pair.swap's K check with the fee on the input, scaled by FEE_DENOMINATOR.
        adj_in = bal_in * FEE_DENOMINATOR - amount_in * self.fee_bps
        adj_out = bal_out * FEE_DENOMINATOR
        if adj_in * adj_out < reserve_in * reserve_out * FEE_DENOMINATOR**2:
            raise InvariantViolation(f"{self.name}: K check failed for {amount_in} in, {amount_out} out")
        new0, new1 = (bal_in, bal_out) if token_in == self.token0 else (bal_out, bal_in)
        self._check_fits(new0, new1)
        ledger.transfer(token_in, trader, self.address, amount_in)  # raises before any change
        ledger.transfer(token_out, self.address, trader, amount_out)
        self._update(new0, new1, now)
        return SwapExecuted(
            block=block, pool=self.name, trader=trader,
            token_in=token_in, amount_in=amount_in, token_out=token_out, amount_out=amount_out,
            reserve0=self.reserve0, reserve1=self.reserve1,
        )

    def _check_fits(self, balance0: int, balance1: int) -> None:
        if balance0 > UINT112_MAX or balance1 > UINT112_MAX:
            raise PoolError(self.name, "OVERFLOW", f"balances {balance0}, {balance1} exceed uint112")

    def _update(self, balance0: int, balance1: int, now: int) -> None:
        """``UniswapV2Pair._update``: accumulate prices with the old reserves, then store."""
        ts = now % _UINT32
        elapsed = (ts - self.block_timestamp_last) % _UINT32
        if elapsed > 0 and self.reserve0 != 0 and self.reserve1 != 0:
            self.price0_cumulative_last = (
                self.price0_cumulative_last + (self.reserve1 * Q112 // self.reserve0) * elapsed
            ) % _UINT256
            self.price1_cumulative_last = (
                self.price1_cumulative_last + (self.reserve0 * Q112 // self.reserve1) * elapsed
            ) % _UINT256
        self.reserve0 = balance0
        self.reserve1 = balance1
        self.block_timestamp_last = ts
        self.state_version += 1


def _check_amount(pool: str, amount: int) -> None:
    if type(amount) is not int or amount < 0:
        raise PoolError(pool, "INVALID_AMOUNT", f"amounts are non-negative ints of base units, got {amount!r}")
