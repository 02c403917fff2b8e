"""``MathLib`` and ``UtilsLib`` of Morpho Blue 1.0, on Python ints with Solidity 0.8 checks.

Each function mirrors the library function of the same (snake_case) name, including its
order of operations and rounding. Where the contract's checked arithmetic would revert
(an intermediate product or sum above ``2**256 - 1``, a subtraction below 0, a division by
zero), a :class:`~defisim.engine.protocols.morpho_blue.errors.MorphoError` with the panic
reason is raised. Inputs are ``uint256`` values (the callers keep them in range).
"""

from __future__ import annotations

from defisim.engine.protocols.morpho_blue.constants import UINT128_MAX, UINT256_MAX, WAD
from defisim.engine.protocols.morpho_blue.errors import (
    MAX_UINT128_EXCEEDED,
    PANIC_ARITHMETIC,
    PANIC_DIVISION,
    MorphoError,
)

__all__ = [
    "checked_add",
    "checked_add128",
    "checked_sub",
    "checked_sub128",
    "exactly_one_zero",
    "mul_div_down",
    "mul_div_up",
    "to_uint128",
    "u_min",
    "w_div_down",
    "w_div_up",
    "w_mul_down",
    "w_taylor_compounded",
    "zero_floor_sub",
]


def _overflow(what: str) -> MorphoError:
    return MorphoError(PANIC_ARITHMETIC, what)


def mul_div_down(x: int, y: int, d: int) -> int:
    """``MathLib.mulDivDown``: ``(x * y) / d`` (checked product, truncating division)."""
    p = x * y
    if p > UINT256_MAX:
        raise _overflow(f"{x} * {y}")
    if d == 0:
        raise MorphoError(PANIC_DIVISION, "mulDivDown by 0")
    return p // d


def mul_div_up(x: int, y: int, d: int) -> int:
    """``MathLib.mulDivUp``: ``(x * y + (d - 1)) / d`` (each step checked, as compiled)."""
    p = x * y
    if p > UINT256_MAX:
        raise _overflow(f"{x} * {y}")
    if d == 0:
        raise _overflow("mulDivUp: d - 1 with d = 0")  # `d - 1` underflows before the division
    s = p + d - 1
    if s > UINT256_MAX:
        raise _overflow(f"{p} + {d - 1}")
    return s // d


def w_mul_down(x: int, y: int) -> int:
    """``MathLib.wMulDown``: ``mulDivDown(x, y, WAD)``."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """``MathLib.wDivDown``: ``mulDivDown(x, WAD, y)``."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """``MathLib.wDivUp``: ``mulDivUp(x, WAD, y)``."""
    return mul_div_up(x, WAD, y)


def w_taylor_compounded(x: int, n: int) -> int:
    """``MathLib.wTaylorCompounded``: ``e^(x n) - 1`` to three Taylor terms (WAD).

    ``first = x * n``; ``second = mulDivDown(first, first, 2 * WAD)``;
    ``third = mulDivDown(second, first, 3 * WAD)``; returns ``first + second + third``.
    ``x`` is a per-second rate (WAD), ``n`` seconds.
    """
    first = x * n
    if first > UINT256_MAX:
        raise _overflow(f"{x} * {n}")
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    total = first + second + third
    if total > UINT256_MAX:
        raise _overflow("wTaylorCompounded sum")
    return total


# --- UtilsLib -----------------------------------------------------------------------------------

def exactly_one_zero(x: int, y: int) -> bool:
    """``UtilsLib.exactlyOneZero``: exactly one of ``x``, ``y`` is 0."""
    return (x == 0) != (y == 0)


def u_min(x: int, y: int) -> int:
    """``UtilsLib.min``."""
    return min(x, y)


def to_uint128(x: int) -> int:
    """``UtilsLib.toUint128``: ``x`` if it fits, else revert ``max uint128 exceeded``."""
    if x > UINT128_MAX:
        raise MorphoError(MAX_UINT128_EXCEEDED, str(x))
    return x


def zero_floor_sub(x: int, y: int) -> int:
    """``UtilsLib.zeroFloorSub``: ``max(0, x - y)``."""
    return x - y if x > y else 0


# --- checked storage arithmetic -----------------------------------------------------------------

def checked_add(x: int, y: int) -> int:
    """``x + y`` in ``uint256`` (panics on overflow)."""
    s = x + y
    if s > UINT256_MAX:
        raise _overflow(f"{x} + {y}")
    return s


def checked_sub(x: int, y: int) -> int:
    """``x - y`` in ``uint256`` (panics on underflow)."""
    if y > x:
        raise _overflow(f"{x} - {y}")
    return x - y


def checked_add128(x: int, y: int) -> int:
    """``uint128 += y.toUint128()``: the cast is checked first, then the uint128 sum."""
    to_uint128(y)
    s = x + y
    if s > UINT128_MAX:
        raise _overflow(f"uint128 {x} + {y}")
    return s


def checked_sub128(x: int, y: int) -> int:
    """``uint128 -= y.toUint128()``: the cast is checked first, then the subtraction."""
    to_uint128(y)
    if y > x:
        raise _overflow(f"uint128 {x} - {y}")
    return x - y
