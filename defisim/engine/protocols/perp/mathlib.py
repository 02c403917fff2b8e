"""Exact integer arithmetic of the perpetual-exchange model, one named function per rounding.

Signed amounts are common here (a short's size, a loss, a negative premium), so each
function says how it rounds negative results:

* ``*_floor`` rounds toward minus infinity (Python ``//``),
* ``*_ceil`` toward plus infinity,
* ``*_toward_zero`` truncates (the magnitude rounds down whatever the sign).

Units of the domain helpers: sizes in asset base units (signed), prices USD per whole token
with 8 decimals, values and requirements in quote base units, fractions in ppm.
"""

from __future__ import annotations

from collections.abc import Sequence

from defisim.engine.protocols.perp.constants import PPM, PRICE_SCALE

__all__ = [
    "apportion",
    "div_ceil",
    "div_floor",
    "div_toward_zero",
    "margin_requirement_ceil",
    "mul_div_ceil",
    "mul_div_floor",
    "mul_div_toward_zero",
    "notional_floor",
    "ppm_of_ceil",
    "sign",
    "value_floor",
]


def sign(x: int) -> int:
    """-1, 0 or 1."""
    return (x > 0) - (x < 0)


def div_floor(a: int, b: int) -> int:
    """``floor(a / b)`` for ``b > 0``."""
    return a // b


def div_ceil(a: int, b: int) -> int:
    """``ceil(a / b)`` for ``b > 0``."""
    return -((-a) // b)


def div_toward_zero(a: int, b: int) -> int:
    """``a / b`` truncated toward zero, for ``b > 0``."""
    return a // b if a >= 0 else -((-a) // b)


def mul_div_floor(a: int, b: int, d: int) -> int:
    """``floor(a * b / d)`` for ``d > 0`` (exact: one product, one division)."""
    return (a * b) // d


def mul_div_ceil(a: int, b: int, d: int) -> int:
    """``ceil(a * b / d)`` for ``d > 0``."""
    return -((-(a * b)) // d)


def mul_div_toward_zero(a: int, b: int, d: int) -> int:
    """``a * b / d`` truncated toward zero, for ``d > 0``."""
    return div_toward_zero(a * b, d)


def ppm_of_ceil(amount: int, fraction_ppm: int) -> int:
    """``ceil(amount * fraction_ppm / 1e6)``: a fee or requirement, rounded against the payer."""
    return mul_div_ceil(amount, fraction_ppm, PPM)


def value_floor(size: int, price: int, asset_unit: int, quote_unit: int) -> int:
    """Signed value of ``size`` asset base units at ``price`` (USD 1e8), quote base units.

    ``floor(size * price * quote_unit / (asset_unit * 1e8))``: a long's value rounds down and a
    short's (negative) value rounds further below zero, so both sides are valued against the
    position holder.
    """
    return (size * price * quote_unit) // (asset_unit * PRICE_SCALE)


def notional_floor(size: int, price: int, asset_unit: int, quote_unit: int) -> int:
    """``|size|`` at ``price`` in quote base units, rounded down (a trade's notional)."""
    return (abs(size) * price * quote_unit) // (asset_unit * PRICE_SCALE)


def margin_requirement_ceil(size: int, price: int, fraction_ppm: int, asset_unit: int,
                            quote_unit: int) -> int:
    """``ceil(|size| * price * fraction)`` in quote base units, from the exact product (not
    from a rounded notional): a margin requirement never rounds in the trader's favour."""
    return div_ceil(abs(size) * price * quote_unit * fraction_ppm, asset_unit * PRICE_SCALE * PPM)


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total >= 0`` in proportion to non-negative ``weights`` exactly (largest remainder).

    Each share is ``floor(total * w / W)``; the units left over go one each to the largest
    remainders (ties: the earlier weight). The shares sum to ``total`` (all zero if ``W = 0``
    and ``total = 0``; ``total > 0`` with ``W = 0`` is a caller error).
    """
    whole = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if whole <= 0:
        raise ValueError(f"cannot apportion {total} over weights summing to {whole}")
    shares = [total * w // whole for w in weights]
    left = total - sum(shares)
    if left:
        order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
        for i in order[:left]:
            shares[i] += 1
    return shares
