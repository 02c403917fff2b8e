"""The one bridge between the fast (float) layer and the exact (int) layer for prices.

Exact-layer prices are ints with :data:`PRICE_DECIMALS` (= 8) decimals: USD per *whole* token,
the scale of Aave's base currency and Chainlink USD feeds (``300_000_000_000`` is $3000.00).
Price paths, Monte Carlo and plots work in float64 USD per whole token. A float price enters
the exact layer only through :func:`price_to_e8`, so there is exactly one place where
rounding from float happens; :func:`e8_to_float` goes the other way for reports and plots.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from defisim.errors import DefisimError

__all__ = ["PRICE_DECIMALS", "PRICE_SCALE", "PriceConversionError", "price_to_e8", "e8_to_float"]

PRICE_DECIMALS = 8
"""Decimals of every exact-layer USD price."""

PRICE_SCALE = 10**PRICE_DECIMALS
"""``10**PRICE_DECIMALS``: the int that stands for $1.00."""


class PriceConversionError(DefisimError, ValueError):
    """A price could not cross the float/int bridge (not finite, not positive, not a number).

    ``value`` is the offending input.
    """

    def __init__(self, value: object, why: str) -> None:
        self.value = value
        super().__init__(f"cannot convert price {value!r}: {why}")


def price_to_e8(x: float) -> int:
    """Convert a float USD price per whole token into an exact int with 8 decimals.

    Computed as ``round(x * 1e8)``: Python's ``round`` rounds half to even. ``x`` must be a real
    number (``float``, ``int`` or a numpy scalar; not ``bool``), finite and ``> 0``; a price so
    small that it rounds to ``0`` (below ``5e-9`` USD) is refused too, because a zero price
    would divide by zero downstream.

    Raises:
        PriceConversionError: (a ``ValueError``) for anything else.
    """
    if isinstance(x, bool) or not isinstance(x, Real):
        raise PriceConversionError(x, "not a real number")
    xf = float(x)
    if not math.isfinite(xf):
        raise PriceConversionError(x, "not finite")
    if not xf > 0.0:
        raise PriceConversionError(x, "not > 0")
    scaled = xf * 1e8
    if not math.isfinite(scaled):
        raise PriceConversionError(x, "too large for 8-decimal scaling")
    out = round(scaled)
    if out <= 0:
        raise PriceConversionError(x, "rounds to 0 at 8 decimals")
    return out


def e8_to_float(p: int) -> float:
    """Convert an exact 8-decimal USD price (int) to a float USD price per whole token.

    Any integral type is accepted (``int``, numpy integers); ``bool`` is not.

    Raises:
        PriceConversionError: if ``p`` is not integral.
    """
    if isinstance(p, bool) or not isinstance(p, Integral):
        raise PriceConversionError(p, "exact prices are ints with 8 decimals")
    return int(p) / PRICE_SCALE
