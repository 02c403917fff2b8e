"""dss fixed-point math in exact ints: units, checked uint256 arithmetic, ``rpow``.

Units (dss names): ``wad`` = 1e18 (token amounts, ``chop``), ``ray`` = 1e27 (``rate``,
``spot``, prices inside the Clipper, ``mat``, ``buf``, ``cusp``), ``rad`` = 1e45 (DAI balances
inside the Vat, ``tab``, ``line``, ``dust``, ``hole``).

Every helper mirrors the Solidity one of the same name in ``vat.sol``/``jug.sol``/
``dog.sol``/``clip.sol``/``abaci.sol``: checked ``add``/``sub``/``mul`` revert on uint256
overflow or underflow (:data:`~defisim.engine.protocols.maker.errors.MATH`), and every
division truncates toward zero, as the EVM's ``div`` does.
"""

from __future__ import annotations

from defisim.engine.protocols.maker import errors as E
from defisim.engine.protocols.maker.errors import MakerError

__all__ = [
    "BLN", "INT256_MAX", "INT256_MIN", "RAD", "RAY", "UINT256_MAX", "WAD",
    "add", "add_int", "diff", "mul", "mul_int", "rad_to_wad_down", "rad_to_wad_up",
    "rdiv", "rmul", "rpow", "rpow_abaci", "sub", "sub_int", "umin", "wmul",
]

WAD = 10**18
RAY = 10**27
RAD = 10**45
BLN = 10**9
UINT256_MAX = 2**256 - 1
INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)


def _uint(z: int, op: str) -> int:
    if z < 0 or z > UINT256_MAX:
        raise MakerError(E.MATH, f"{op} outside uint256")
    return z


def add(x: int, y: int) -> int:
    """``add(uint x, uint y)``: ``x + y``, reverting on overflow."""
    return _uint(x + y, "add")


def sub(x: int, y: int) -> int:
    """``sub(uint x, uint y)``: ``x - y``, reverting on underflow."""
    return _uint(x - y, "sub")


def mul(x: int, y: int) -> int:
    """``mul(uint x, uint y)``: ``x * y``, reverting on overflow."""
    return _uint(x * y, "mul")


def umin(x: int, y: int) -> int:
    """``min(x, y)``."""
    return min(x, y)


def add_int(x: int, y: int) -> int:
    """Vat ``_add(uint x, int y)``: a uint plus a signed delta, reverting outside uint256."""
    return _uint(x + y, "add")


def sub_int(x: int, y: int) -> int:
    """Vat ``_sub(uint x, int y)``: a uint minus a signed delta, reverting outside uint256."""
    return _uint(x - y, "sub")


def mul_int(x: int, y: int) -> int:
    """Vat ``_mul(uint x, int y)``: ``int(x) * y``; reverts if ``x`` is not a non-negative
    int256 or the product overflows int256."""
    if x > INT256_MAX:
        raise MakerError(E.MATH, "mul: int(x) < 0")
    z = x * y
    if z < INT256_MIN or z > INT256_MAX:
        raise MakerError(E.MATH, "mul outside int256")
    return z


def diff(x: int, y: int) -> int:
    """Jug ``_diff(uint x, uint y)``: ``int(x) - int(y)`` (both must fit int256)."""
    if x > INT256_MAX or y > INT256_MAX:
        raise MakerError(E.MATH, "diff: operand outside int256")
    return x - y


def wmul(x: int, y: int) -> int:
    """``wmul``: ``mul(x, y) / WAD`` (rounds down)."""
    return mul(x, y) // WAD


def rmul(x: int, y: int) -> int:
    """``rmul``: ``mul(x, y) / RAY`` (rounds down)."""
    return mul(x, y) // RAY


def rdiv(x: int, y: int) -> int:
    """``rdiv``: ``mul(x, RAY) / y`` (rounds down; ``y == 0`` is a division panic)."""
    if y == 0:
        raise MakerError(E.MATH, "rdiv by zero")
    return mul(x, RAY) // y


def rpow(x: int, n: int, b: int) -> int:
    """``Jug._rpow(x, n, b)``: ``x**n`` in base ``b`` by squaring, each product rounded half up.

    ``x == 0``: ``b`` if ``n == 0`` else ``0``. Otherwise ``z`` starts at ``x`` (odd ``n``) or
    ``b``; per halving of ``n``: ``x = (x*x + b/2) / b`` and, for odd ``n``,
    ``z = (z*x + b/2) / b``; reverts where the assembly checks for overflow.
    """
    if x == 0:
        return b if n == 0 else 0
    z = x if n % 2 else b
    half = b // 2
    n //= 2
    while n:
        xx = x * x
        if xx > UINT256_MAX:
            raise MakerError(E.MATH, "rpow: x*x overflow")
        xx_round = xx + half
        if xx_round > UINT256_MAX:
            raise MakerError(E.MATH, "rpow: rounding overflow")
        x = xx_round // b
        if n % 2:
            zx = z * x
            if zx > UINT256_MAX:
                raise MakerError(E.MATH, "rpow: z*x overflow")
            zx_round = zx + half
            if zx_round > UINT256_MAX:
                raise MakerError(E.MATH, "rpow: rounding overflow")
            z = zx_round // b
        n //= 2
    return z


def rpow_abaci(x: int, n: int, b: int) -> int:
    """``rpow`` of ``abaci.sol``: ``n == 0`` gives ``b`` first (even for ``x == 0``), ``x == 0``
    gives 0; the loop is :func:`rpow`'s, with the overflow guard ``x >= 2**128`` on squaring."""
    if n == 0:
        return b
    if x == 0:
        return 0
    z = x if n % 2 else b
    half = b // 2
    n //= 2
    while n:
        if x >> 128:
            raise MakerError(E.MATH, "rpow: x >= 2**128")
        xx_round = x * x + half
        if xx_round > UINT256_MAX:
            raise MakerError(E.MATH, "rpow: rounding overflow")
        x = xx_round // b
        if n % 2:
            zx = z * x
            if zx > UINT256_MAX:
                raise MakerError(E.MATH, "rpow: z*x overflow")
            zx_round = zx + half
            if zx_round > UINT256_MAX:
                raise MakerError(E.MATH, "rpow: rounding overflow")
            z = zx_round // b
        n //= 2
    return z


def rad_to_wad_down(rad: int) -> int:
    """DAI base units (wad) in ``rad``, rounded down (what ``DaiJoin.exit`` can pay out)."""
    return rad // RAY


def rad_to_wad_up(rad: int) -> int:
    """DAI base units (wad) covering ``rad``, rounded up (what must be joined to pay it)."""
    return -(-rad // RAY)
