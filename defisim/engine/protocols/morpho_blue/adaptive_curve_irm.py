"""Morpho's AdaptiveCurveIrm (``morpho-blue-irm``, ``src/adaptive-curve-irm/``) on Python ints.

The IRM of every Morpho Blue market on Ethereum mainnet. Each market has a *rate at target*
(``rateAtTarget[id]``, per-second WAD, stored by the IRM); the borrow rate is a curve through
it, steepness 4: ``rateAtTarget / 4`` at 0 % utilisation, ``rateAtTarget`` at the 90 % target,
``4 * rateAtTarget`` at 100 %. While utilisation is off target, the rate at target moves
exponentially, at 50/year times the normalised error ``err`` (-1 at 0 %, 0 at 90 %, +1 at
100 %), clamped to [0.1 %, 200 %] per year. ``borrowRate`` returns the curve at a trapezoidal
average of the rate at target over the elapsed time and stores the end value; Morpho calls it
in ``_accrueInterest`` (only when ``elapsed != 0`` and ``irm != address(0)``) and once in
``createMarket``. ``borrowRateView`` is the same computation without the store.

Every operation is the contract's, on ``int256`` with Solidity 0.8 semantics: signed division
rounds toward zero (Python's ``//`` floors, so :func:`sdiv` is used wherever an operand can be
negative), checked products and sums raise the panic a revert would carry
(:class:`~defisim.engine.protocols.morpho_blue.errors.MorphoError`), and ``ExpLib.wExp`` keeps
its two bounds and its ``unchecked`` shifts.

=============================  ==============================================================
:func:`w_exp`                  ``ExpLib.wExp``
:func:`w_mul_to_zero`          ``MathLib.wMulToZero`` (signed, toward zero)
:func:`w_div_to_zero`          ``MathLib.wDivToZero``
:func:`bound`                  ``UtilsLib.bound``
:func:`curve`                  ``AdaptiveCurveIrm._curve``
:func:`new_rate_at_target`     ``AdaptiveCurveIrm._newRateAtTarget``
:func:`normalized_error`       ``err`` of ``_borrowRate``
:func:`adaptive_borrow_rate`   ``AdaptiveCurveIrm._borrowRate`` (utilisation, start rate at
                               target, elapsed -> average rate, end rate at target)
:class:`AdaptiveCurveIrm`      the contract: ``rateAtTarget``, ``borrowRate``, ``borrowRateView``
=============================  ==============================================================

Units: rates are per second, WAD (1e18); utilisation and ``err`` WAD; time in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from defisim.engine.protocols.morpho_blue.constants import SECONDS_PER_YEAR, WAD
from defisim.engine.protocols.morpho_blue.errors import (
    PANIC_ARITHMETIC,
    PANIC_DIVISION,
    MorphoError,
)
from defisim.engine.protocols.morpho_blue.mathlib import checked_sub, w_div_down
from defisim.engine.protocols.morpho_blue.types import Market, MarketParams

__all__ = [
    "ADJUSTMENT_SPEED",
    "CURVE_STEEPNESS",
    "INITIAL_RATE_AT_TARGET",
    "INT256_MAX",
    "INT256_MIN",
    "LN_2_INT",
    "LN_WEI_INT",
    "MAX_RATE_AT_TARGET",
    "MIN_RATE_AT_TARGET",
    "TARGET_UTILIZATION",
    "WEXP_UPPER_BOUND",
    "WEXP_UPPER_VALUE",
    "AdaptiveCurveIrm",
    "adaptive_borrow_rate",
    "bound",
    "curve",
    "new_rate_at_target",
    "normalized_error",
    "sdiv",
    "utilization",
    "w_div_to_zero",
    "w_exp",
    "w_mul_to_zero",
]

INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)

# --- ConstantsLib (per-second rates are `x ether / int256(365 days)`, positive: // is exact) ---
CURVE_STEEPNESS = 4 * WAD
"""``ConstantsLib.CURVE_STEEPNESS``: 4 (WAD)."""
ADJUSTMENT_SPEED = 50 * WAD // SECONDS_PER_YEAR
"""``ConstantsLib.ADJUSTMENT_SPEED``: 50/year, per second (WAD): 1585489599188."""
TARGET_UTILIZATION = 9 * 10**17
"""``ConstantsLib.TARGET_UTILIZATION``: 90 % (WAD)."""
INITIAL_RATE_AT_TARGET = 4 * 10**16 // SECONDS_PER_YEAR
"""``ConstantsLib.INITIAL_RATE_AT_TARGET``: 4 %/year, per second (WAD): 1268391679."""
MIN_RATE_AT_TARGET = 10**15 // SECONDS_PER_YEAR
"""``ConstantsLib.MIN_RATE_AT_TARGET``: 0.1 %/year, per second (WAD): 31709791."""
MAX_RATE_AT_TARGET = 2 * WAD // SECONDS_PER_YEAR
"""``ConstantsLib.MAX_RATE_AT_TARGET``: 200 %/year, per second (WAD): 63419583967."""

# --- ExpLib -------------------------------------------------------------------------------------
LN_2_INT = 693_147_180_559_945_309
"""``ExpLib.LN_2_INT``: ln 2 (WAD)."""
LN_WEI_INT = -41_446_531_673_892_822_312
"""``ExpLib.LN_WEI_INT``: ln(1e-18) (WAD); below it ``wExp`` is 0."""
WEXP_UPPER_BOUND = 93_859_467_695_000_404_319
"""``ExpLib.WEXP_UPPER_BOUND``: ln(int256 max / 1e36) (WAD, floored); at or above it ``wExp``
is :data:`WEXP_UPPER_VALUE`."""
WEXP_UPPER_VALUE = 57_716_089_161_558_943_949_701_069_502_944_508_345_128_422_502_756_744_429_568
"""``ExpLib.WEXP_UPPER_VALUE``: ``wExp(WEXP_UPPER_BOUND)`` (WAD)."""


# --- int256 arithmetic --------------------------------------------------------------------------

def _i256(x: int, what: str) -> int:
    """``x`` if it fits in ``int256``, else the checked-arithmetic panic."""
    if not INT256_MIN <= x <= INT256_MAX:
        raise MorphoError(PANIC_ARITHMETIC, f"int256 {what}")
    return x


def sdiv(x: int, y: int) -> int:
    """Solidity's checked ``int256`` division ``x / y``: rounds toward zero (``-7 / 2 == -3``).

    Panics on ``y == 0`` (0x12) and on ``type(int256).min / -1`` (0x11).
    """
    if y == 0:
        raise MorphoError(PANIC_DIVISION, f"{x} / 0")
    q = abs(x) // abs(y)
    q = q if (x >= 0) == (y >= 0) else -q
    return _i256(q, f"{x} / {y}")


def w_mul_to_zero(x: int, y: int) -> int:
    """``MathLib.wMulToZero``: ``(x * y) / WAD``, checked product, rounded toward zero."""
    return sdiv(_i256(x * y, f"{x} * {y}"), WAD)


def w_div_to_zero(x: int, y: int) -> int:
    """``MathLib.wDivToZero``: ``(x * WAD) / y``, checked product, rounded toward zero."""
    return sdiv(_i256(x * WAD, f"{x} * WAD"), y)


def bound(x: int, low: int, high: int) -> int:
    """``UtilsLib.bound``: ``max(min(x, high), low)`` (``low`` when ``low > high``)."""
    return max(min(x, high), low)


def w_exp(x: int) -> int:
    """``ExpLib.wExp``: e^x for a WAD ``x`` (WAD result).

    0 below :data:`LN_WEI_INT`; :data:`WEXP_UPPER_VALUE` at or above :data:`WEXP_UPPER_BOUND`;
    otherwise ``x = q ln2 + r`` with ``q = (x ± ln2/2) / ln2`` (toward zero), ``e^r`` to second
    order (``WAD + r + r*r / WAD / 2``) and ``2^q`` as a shift (right shift for ``q < 0``).
    """
    if x < LN_WEI_INT:
        return 0
    if x >= WEXP_UPPER_BOUND:
        return WEXP_UPPER_VALUE
    half_ln2 = sdiv(LN_2_INT, 2)
    q = sdiv(x + (-half_ln2 if x < 0 else half_ln2), LN_2_INT)
    r = x - q * LN_2_INT
    exp_r = WAD + r + sdiv(sdiv(r * r, WAD), 2)  # > 0: |r| <= ln2 / 2
    return exp_r << q if q >= 0 else exp_r >> -q


# --- the curve ------------------------------------------------------------------------------------

def curve(rate_at_target: int, err: int) -> int:
    """``_curve``: ``((1 - 1/C) err + 1) * rateAtTarget`` if ``err < 0``, else
    ``((C - 1) err + 1) * rateAtTarget``; each product rounded toward zero (WAD)."""
    coeff = WAD - w_div_to_zero(WAD, CURVE_STEEPNESS) if err < 0 else CURVE_STEEPNESS - WAD
    return w_mul_to_zero(_i256(w_mul_to_zero(coeff, err) + WAD, "curve sum"), rate_at_target)


def new_rate_at_target(start_rate_at_target: int, linear_adaptation: int) -> int:
    """``_newRateAtTarget``: ``start.wMulToZero(wExp(linearAdaptation))`` bounded to
    [:data:`MIN_RATE_AT_TARGET`, :data:`MAX_RATE_AT_TARGET`]."""
    return bound(w_mul_to_zero(start_rate_at_target, w_exp(linear_adaptation)),
                 MIN_RATE_AT_TARGET, MAX_RATE_AT_TARGET)


def utilization(market: Market) -> int:
    """``tBA.wDivDown(tSA)`` (WAD, rounded down), 0 for an empty market (as ``_borrowRate``)."""
    if market.total_supply_assets == 0:
        return 0
    return w_div_down(market.total_borrow_assets, market.total_supply_assets)


def normalized_error(util: int) -> int:
    """``err`` of ``_borrowRate``: ``(util - target).wDivToZero(norm)`` with ``norm`` the target
    at or below it and ``1 - target`` above it (WAD: -1e18 at 0 %, 0 at 90 %, 1e18 at 100 %)."""
    err_norm = WAD - TARGET_UTILIZATION if util > TARGET_UTILIZATION else TARGET_UTILIZATION
    return w_div_to_zero(_i256(util - TARGET_UTILIZATION, "utilization - target"), err_norm)


def adaptive_borrow_rate(util: int, start_rate_at_target: int, elapsed: int | Callable[[], int],
                         initial_rate_at_target: int = INITIAL_RATE_AT_TARGET) -> tuple[int, int]:
    """``_borrowRate`` on its inputs: ``(avgRate, endRateAtTarget)`` (per-second WAD).

    ``util``: utilisation (WAD); ``start_rate_at_target``: the stored ``rateAtTarget[id]``
    (0: first interaction: average and end rate at target are ``initial_rate_at_target``, the
    contract's :data:`INITIAL_RATE_AT_TARGET` unless a scenario chose another); ``elapsed``:
    ``block.timestamp - market.lastUpdate`` in seconds, or a function computing it — the
    contract evaluates (and may revert on) that subtraction only when it needs it, after the
    first-interaction test.

    ``err = (util - target).wDivToZero(target or 1 - target)``; ``speed =
    ADJUSTMENT_SPEED.wMulToZero(err)``; ``linearAdaptation = speed * elapsed``; the end rate at
    target is ``new_rate_at_target(start, linearAdaptation)``, the average is
    ``(start + end + 2 * new_rate_at_target(start, linearAdaptation / 2)) / 4`` (divisions
    toward zero), and the rate is ``curve(average, err)``.
    """
    err = normalized_error(util)
    if start_rate_at_target == 0:
        avg = end = initial_rate_at_target
    else:
        speed = w_mul_to_zero(ADJUSTMENT_SPEED, err)
        seconds = elapsed() if callable(elapsed) else elapsed
        linear = _i256(speed * _i256(seconds, "elapsed"), f"{speed} * {seconds}")
        if linear == 0:
            avg = end = start_rate_at_target
        else:
            end = new_rate_at_target(start_rate_at_target, linear)
            mid = new_rate_at_target(start_rate_at_target, sdiv(linear, 2))
            total = _i256(_i256(start_rate_at_target + end, "rate sum") + _i256(2 * mid, "2 * mid"), "rate sum")
            avg = sdiv(total, 4)
    return curve(avg, err), end


class AdaptiveCurveIrm:
    """The ``AdaptiveCurveIrm`` contract (kind ``adaptive-curve``), shared by any number of markets.

    Storage is ``rateAtTarget``: market name (the simulator's market id; on a fork the ``0x`` id)
    -> per-second WAD, 0 until the market's first interaction. ``rate_at_target`` presets it
    (e.g. the values read from a chain). ``initial_rate_at_target`` replaces
    :data:`INITIAL_RATE_AT_TARGET` at a market's first interaction (the contract's constant by
    default; a scenario may start a market elsewhere on the curve); it must lie in
    [:data:`MIN_RATE_AT_TARGET`, :data:`MAX_RATE_AT_TARGET`].

    ``now`` is ``block.timestamp`` (unix seconds). Instances compare by identity, like two
    deployments of the contract.
    """

    __slots__ = ("_rate_at_target", "initial_rate_at_target")
    kind: ClassVar[str] = "adaptive-curve"

    def __init__(self, initial_rate_at_target: int = INITIAL_RATE_AT_TARGET,
                 rate_at_target: Mapping[str, int] | None = None) -> None:
        if type(initial_rate_at_target) is not int or not (
                MIN_RATE_AT_TARGET <= initial_rate_at_target <= MAX_RATE_AT_TARGET):
            raise ValueError(f"initial_rate_at_target ({initial_rate_at_target!r}) must be an int in "
                             f"[{MIN_RATE_AT_TARGET}, {MAX_RATE_AT_TARGET}] (per-second WAD: 0.1 % to 200 % a year)")
        self.initial_rate_at_target = initial_rate_at_target
        self._rate_at_target: dict[str, int] = {}
        for market, value in (rate_at_target or {}).items():
            if type(value) is not int or not 0 <= value <= INT256_MAX:
                raise ValueError(f"rate_at_target[{market!r}] ({value!r}) must be a non-negative int256 "
                                 "(per-second WAD; 0 = never used)")
            self._rate_at_target[market] = value

    def __repr__(self) -> str:
        return (f"AdaptiveCurveIrm(initial_rate_at_target={self.initial_rate_at_target}, "
                f"rate_at_target={self._rate_at_target!r})")

    def rate_at_target(self, market: str) -> int:
        """``rateAtTarget(id)``: the stored per-second WAD rate at target (0 if never used)."""
        return self._rate_at_target.get(market, 0)

    def rates_at_target(self) -> dict[str, int]:
        """A copy of the whole ``rateAtTarget`` mapping (markets used so far)."""
        return dict(self._rate_at_target)

    def _borrow_rate(self, params: MarketParams, market: Market, now: int) -> tuple[int, int]:
        return adaptive_borrow_rate(utilization(market), self._rate_at_target.get(params.name, 0),
                                    lambda: checked_sub(now, market.last_update), self.initial_rate_at_target)

    def borrow_rate_view(self, params: MarketParams, market: Market, now: int) -> int:
        """``borrowRateView(marketParams, market)`` at ``block.timestamp == now``: the average
        per-second rate (WAD) over ``[market.lastUpdate, now]``; nothing is stored."""
        return self._borrow_rate(params, market, now)[0]

    def stage_borrow_rate(self, params: MarketParams, market: Market, now: int) -> tuple[int, Callable[[], None]]:
        """``borrowRate`` split for a transaction: the rate, and the storage write
        (``rateAtTarget[id] = endRateAtTarget``) to run when the transaction commits."""
        rate, end = self._borrow_rate(params, market, now)
        name = params.name

        def write() -> None:
            self._rate_at_target[name] = end

        return rate, write

    def borrow_rate(self, params: MarketParams, market: Market, now: int) -> int:
        """``borrowRate(marketParams, market)`` at ``block.timestamp == now``: the average rate
        (per-second WAD), storing the end rate at target for ``params.name``."""
        rate, write = self.stage_borrow_rate(params, market, now)
        write()
        return rate
