"""Exact fixed-point arithmetic on Python ints, one named function per rounding direction.

Scales:

* **WAD** = 10**18 (health factors, generic 18-decimal numbers),
* **RAY** = 10**27 (interest rates and indexes),
* **percentage / bps** = 10**4 is 100.00 % (LTV, thresholds, bonus, fees).

Every function mirrors one function of Aave V3.6 (``WadRayMath``, ``PercentageMath``,
``MathUtils``) and rounds exactly as it does:

* ``wad_mul``/``wad_div``/``ray_mul``/``ray_div``/``percent_mul``/``percent_div``/``ray_to_wad``
  round **half up** (``x.5`` goes up),
* ``*_floor`` variants truncate, ``*_ceil`` variants round up on any remainder.

Overflow: the contracts work in ``uint256`` and revert when an intermediate product would not
fit. Each function here raises :class:`FixedPointOverflow` (an ``OverflowError``) in exactly the
cases where its contract counterpart reverts on overflow, so that a simulated call fails where
the on-chain call would. Division by zero raises :class:`ZeroDivisionError` (the contracts
revert). Negative inputs are outside ``uint256`` and raise :class:`FixedPointOverflow` too.
"""

from __future__ import annotations

from defisim.errors import DefisimError

__all__ = [
    "WAD",
    "HALF_WAD",
    "RAY",
    "HALF_RAY",
    "WAD_RAY_RATIO",
    "PERCENTAGE_FACTOR",
    "HALF_PERCENTAGE_FACTOR",
    "UINT256_MAX",
    "SECONDS_PER_YEAR",
    "FixedPointOverflow",
    "wad_mul",
    "wad_div",
    "ray_mul",
    "ray_mul_floor",
    "ray_mul_ceil",
    "ray_div",
    "ray_div_floor",
    "ray_div_ceil",
    "ray_to_wad",
    "wad_to_ray",
    "percent_mul",
    "percent_mul_floor",
    "percent_mul_ceil",
    "percent_div",
    "percent_div_ceil",
    "mul_div_down",
    "mul_div_up",
    "linear_interest",
    "compounded_interest",
]

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10**4
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
UINT256_MAX = 2**256 - 1
SECONDS_PER_YEAR = 365 * 24 * 3600
"""``MathUtils.SECONDS_PER_YEAR`` (365 days, leap years ignored)."""


class FixedPointOverflow(DefisimError, OverflowError):
    """An intermediate value left ``uint256``: the mirrored contract function would revert."""


def _check_uint(*values: int) -> None:
    for v in values:
        if v < 0 or v > UINT256_MAX:
            raise FixedPointOverflow(f"{v} is outside uint256")


def _check_product(a: int, b: int, add: int = 0) -> None:
    """Revert-equivalent check that ``a * b + add`` fits in uint256 (inputs too)."""
    if a < 0 or b < 0 or a > UINT256_MAX or b > UINT256_MAX or a * b + add > UINT256_MAX:
        _check_uint(a, b)
        raise FixedPointOverflow(f"{a} * {b} + {add} overflows uint256")


# --- WAD ----------------------------------------------------------------------------------

def wad_mul(a: int, b: int) -> int:
    """``a * b / WAD`` rounded half up (``WadRayMath.wadMul``). WAD in, WAD out."""
    p = a * b + HALF_WAD
    if p > UINT256_MAX or a < 0 or b < 0 or a > UINT256_MAX or b > UINT256_MAX:
        _check_product(a, b, HALF_WAD)
    return p // WAD


def wad_div(a: int, b: int) -> int:
    """``a * WAD / b`` rounded half up (``WadRayMath.wadDiv``). WAD in, WAD out."""
    if b == 0:
        raise ZeroDivisionError("wad_div by zero")
    _check_product(a, WAD, b // 2)
    return (a * WAD + b // 2) // b


# --- RAY ----------------------------------------------------------------------------------

def ray_mul(a: int, b: int) -> int:
    """``a * b / RAY`` rounded half up (``WadRayMath.rayMul``). RAY in, RAY out."""
    p = a * b + HALF_RAY
    if p > UINT256_MAX or a < 0 or b < 0 or a > UINT256_MAX or b > UINT256_MAX:
        _check_product(a, b, HALF_RAY)
    return p // RAY


def ray_mul_floor(a: int, b: int) -> int:
    """``a * b / RAY`` rounded down (``WadRayMath.rayMulFloor``, Aave 3.5+)."""
    p = a * b
    if p > UINT256_MAX or a < 0 or b < 0 or a > UINT256_MAX or b > UINT256_MAX:
        _check_product(a, b)
    return p // RAY


def ray_mul_ceil(a: int, b: int) -> int:
    """``a * b / RAY`` rounded up (``WadRayMath.rayMulCeil``, Aave 3.5+)."""
    p = a * b
    if p > UINT256_MAX or a < 0 or b < 0 or a > UINT256_MAX or b > UINT256_MAX:
        _check_product(a, b)
    return -(-p // RAY)


def ray_div(a: int, b: int) -> int:
    """``a * RAY / b`` rounded half up (``WadRayMath.rayDiv``)."""
    if b == 0:
        raise ZeroDivisionError("ray_div by zero")
    _check_product(a, RAY, b // 2)
    return (a * RAY + b // 2) // b


def ray_div_floor(a: int, b: int) -> int:
    """``a * RAY / b`` rounded down (``WadRayMath.rayDivFloor``, Aave 3.5+)."""
    if b == 0:
        raise ZeroDivisionError("ray_div_floor by zero")
    _check_product(a, RAY)
    return a * RAY // b


def ray_div_ceil(a: int, b: int) -> int:
    """``a * RAY / b`` rounded up (``WadRayMath.rayDivCeil``, Aave 3.5+)."""
    if b == 0:
        raise ZeroDivisionError("ray_div_ceil by zero")
    _check_product(a, RAY)
    return -(-(a * RAY) // b)


def ray_to_wad(a: int) -> int:
    """RAY to WAD, rounded half up (``WadRayMath.rayToWad``; never overflows)."""
    _check_uint(a)
    q, r = divmod(a, WAD_RAY_RATIO)
    return q + (1 if r >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    """WAD to RAY, exact (``WadRayMath.wadToRay``; reverts on overflow)."""
    _check_product(a, WAD_RAY_RATIO)
    return a * WAD_RAY_RATIO


# --- percentages (bps, 1e4 = 100 %) -------------------------------------------------------

def percent_mul(value: int, bps: int) -> int:
    """``value * bps / 1e4`` rounded half up (``PercentageMath.percentMul``)."""
    _check_product(value, bps, HALF_PERCENTAGE_FACTOR)
    return (value * bps + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_mul_floor(value: int, bps: int) -> int:
    """``value * bps / 1e4`` rounded down (``PercentageMath.percentMulFloor``)."""
    _check_product(value, bps)
    return value * bps // PERCENTAGE_FACTOR


def percent_mul_ceil(value: int, bps: int) -> int:
    """``value * bps / 1e4`` rounded up (``PercentageMath.percentMulCeil``)."""
    _check_product(value, bps)
    return -(-(value * bps) // PERCENTAGE_FACTOR)


def percent_div(value: int, bps: int) -> int:
    """``value * 1e4 / bps`` rounded half up (``PercentageMath.percentDiv``)."""
    if bps == 0:
        raise ZeroDivisionError("percent_div by zero")
    _check_product(value, PERCENTAGE_FACTOR, bps // 2)
    return (value * PERCENTAGE_FACTOR + bps // 2) // bps


def percent_div_ceil(value: int, bps: int) -> int:
    """``value * 1e4 / bps`` rounded up (``PercentageMath.percentDivCeil``)."""
    if bps == 0:
        raise ZeroDivisionError("percent_div_ceil by zero")
    _check_product(value, PERCENTAGE_FACTOR)
    return -(-(value * PERCENTAGE_FACTOR) // bps)


# --- generic mul-div ----------------------------------------------------------------------

def mul_div_down(a: int, b: int, c: int) -> int:
    """``a * b / c`` rounded down, as the contracts' plain ``(a * b) / c`` (checked mul)."""
    if c == 0:
        raise ZeroDivisionError("mul_div_down by zero")
    p = a * b
    if p > UINT256_MAX or a < 0 or b < 0 or c < 0 or a > UINT256_MAX or b > UINT256_MAX or c > UINT256_MAX:
        _check_product(a, b)
        _check_uint(c)
    return p // c


def mul_div_up(a: int, b: int, c: int) -> int:
    """``a * b / c`` rounded up (``MathUtils.mulDivCeil``)."""
    if c == 0:
        raise ZeroDivisionError("mul_div_up by zero")
    p = a * b
    if p > UINT256_MAX or a < 0 or b < 0 or c < 0 or a > UINT256_MAX or b > UINT256_MAX or c > UINT256_MAX:
        _check_product(a, b)
        _check_uint(c)
    return -(-p // c)


# --- interest -----------------------------------------------------------------------------

def linear_interest(rate_ray: int, last_update: int, now: int) -> int:
    """Growth factor (RAY) of simple interest: ``RAY + rate * dt / SECONDS_PER_YEAR``.

    Mirrors ``MathUtils.calculateLinearInterest``: ``rate * dt`` is checked, the division
    truncates. ``rate_ray`` is a yearly rate in RAY; times are unix seconds.
    """
    dt = now - last_update
    _check_product(rate_ray, dt)
    return RAY + rate_ray * dt // SECONDS_PER_YEAR


def compounded_interest(rate_ray: int, last_update: int, now: int) -> int:
    """Growth factor (RAY) of compounded interest, third-order Taylor approximation.

    Mirrors ``MathUtils.calculateCompoundedInterest`` of Aave 3.6:
    ``x = rate * dt / SECONDS_PER_YEAR`` (truncated), then
    ``RAY + x + rayMul(x, x / 2 + rayMul(x, x / 6))`` (half-up ``rayMul``, truncating ``/``).
    Returns exactly ``RAY`` when ``dt == 0``. The contract computes this unchecked; rates and
    time spans of real reserves keep it far from overflow, so no check is made here.
    """
    dt = now - last_update
    if dt == 0:
        return RAY
    x = rate_ray * dt // SECONDS_PER_YEAR
    return RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))
