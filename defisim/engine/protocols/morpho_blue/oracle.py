"""Market oracles: the 1e36-scaled price ``Morpho`` reads through ``IOracle.price()``.

:func:`chainlink_pair_price` is the one place a market price is derived from the world's
USD feeds: a ``MorphoChainlinkOracleV2`` with ``BASE_FEED_1`` = collateral/USD and
``QUOTE_FEED_1`` = loan/USD (both 8 decimals), no vaults and no second feeds. The chain side
deploys a contract computing the same number.
"""

from __future__ import annotations

from collections.abc import Callable

from defisim.engine.protocols.morpho_blue.errors import PANIC_DIVISION, MorphoError

__all__ = ["ChainlinkPairOracle", "FixedPriceOracle", "chainlink_pair_price"]

FEED_DECIMALS = 8
"""Decimals of the world's USD feeds (Chainlink USD pairs)."""


def chainlink_pair_price(
    collateral_usd: int,
    loan_usd: int,
    collateral_decimals: int,
    loan_decimals: int,
    collateral_feed_decimals: int = FEED_DECIMALS,
    loan_feed_decimals: int = FEED_DECIMALS,
) -> int:
    """``MorphoChainlinkOracleV2.price()`` for one base feed and one quote feed.

    ``SCALE_FACTOR = 10 ** (36 + loanDecimals + loanFeedDecimals - collateralDecimals
    - collateralFeedDecimals)`` and ``price = SCALE_FACTOR * collateralUsd / loanUsd``
    (``Math.mulDiv``: full-precision product, rounded down). Feed answers are USD per whole
    token with the feed's decimals; the result is loan base units per collateral base unit,
    times 1e36. A negative answer reverts (``ChainlinkDataFeedLib``: "negative answer"); a zero
    quote answer divides by zero.
    """
    exponent = 36 + loan_decimals + loan_feed_decimals - collateral_decimals - collateral_feed_decimals
    if exponent < 0:
        raise ValueError(f"SCALE_FACTOR exponent {exponent} is negative (decimals out of range)")
    if collateral_usd < 0 or loan_usd < 0:
        raise MorphoError("negative answer", f"feeds answered {collateral_usd}, {loan_usd}")
    if loan_usd == 0:
        raise MorphoError(PANIC_DIVISION, "quote feed answered 0")
    return 10**exponent * collateral_usd // loan_usd


class ChainlinkPairOracle:
    """A market oracle reading two USD feeds (callables returning 8-decimal ints).

    ``price()`` = :func:`chainlink_pair_price` of the feeds' latest answers.
    """

    __slots__ = ("_memo", "collateral_decimals", "collateral_feed", "loan_decimals", "loan_feed")

    def __init__(
        self,
        collateral_feed: Callable[[], int],
        loan_feed: Callable[[], int],
        collateral_decimals: int,
        loan_decimals: int,
    ) -> None:
        self.collateral_feed = collateral_feed
        self.loan_feed = loan_feed
        self.collateral_decimals = collateral_decimals
        self.loan_decimals = loan_decimals
        self._memo: tuple[int, int, int] | None = None

    def price(self) -> int:
        """Collateral price in loan base units per collateral base unit, times 1e36."""
        c, q = self.collateral_feed(), self.loan_feed()
        memo = self._memo
        if memo is not None and memo[0] == c and memo[1] == q:
            return memo[2]
        p = chainlink_pair_price(c, q, self.collateral_decimals, self.loan_decimals)
        self._memo = (c, q, p)
        return p


class FixedPriceOracle:
    """``mocks/OracleMock.sol``: a price (1e36 scale) set by hand with :meth:`set_price`."""

    __slots__ = ("_price",)

    def __init__(self, price: int = 0) -> None:
        self._price = price

    def set_price(self, new_price: int) -> None:
        """``OracleMock.setPrice``."""
        self._price = new_price

    def price(self) -> int:
        """The last price set."""
        return self._price
