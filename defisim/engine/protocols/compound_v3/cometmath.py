"""Comet's pure arithmetic, one named function per Solidity helper, rounding as on chain.

Sources: ``CometMath.sol`` (safe casts), ``CometCore.sol`` (present and principal values),
``Comet.sol`` (``mulFactor``, ``mulPrice``, ``signedMulPrice``, ``divPrice``, ``divBaseWei``,
``repayAndSupplyAmount``, ``withdrawAndBorrowAmount``, ``getSupplyRate``, ``getBorrowRate``,
``getUtilization``, ``accruedInterestIndices``).

Rounding: every unsigned division rounds down (Solidity ``/`` on ``uint``); ``signedMulPrice``
divides a signed product and so rounds *toward zero* (a debt's USD value is rounded down in
magnitude); ``principalValueBorrow`` rounds up (``(x * 1e15 + index - 1) / index``), so a borrower
never owes less principal than the present value asks; ``principalValueSupply`` rounds down.
Overflows raise :class:`~defisim.engine.protocols.compound_v3.errors.CometError` with the
contract's reason (``InvalidUInt104``, a panic for checked ``+``/``-``).
"""

from __future__ import annotations

from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3.constants import (
    BASE_INDEX_SCALE,
    FACTOR_SCALE,
    INT104_MAX,
    INT256_MAX,
    UINT64_MAX,
    UINT104_MAX,
    UINT128_MAX,
)
from defisim.engine.protocols.compound_v3.errors import CometError

__all__ = [
    "accrued_interest_indices",
    "checked_add",
    "checked_sub",
    "div_base_wei",
    "div_price",
    "div_toward_zero",
    "get_rate",
    "mul_factor",
    "mul_price",
    "present_value",
    "present_value_borrow",
    "present_value_supply",
    "principal_value",
    "principal_value_borrow",
    "principal_value_supply",
    "repay_and_supply_amount",
    "safe64",
    "safe104",
    "safe128",
    "signed104",
    "signed256",
    "signed_mul_price",
    "unsigned104",
    "unsigned256",
    "utilization",
    "withdraw_and_borrow_amount",
]


# --- CometMath: safe casts ----------------------------------------------------------------------

def safe64(n: int) -> int:
    """``safe64``: ``n`` if it fits ``uint64``, else ``InvalidUInt64``."""
    if n > UINT64_MAX:
        raise CometError(E.INVALID_UINT64, str(n))
    return n


def safe104(n: int) -> int:
    """``safe104``: ``n`` if it fits ``uint104``, else ``InvalidUInt104``."""
    if n > UINT104_MAX:
        raise CometError(E.INVALID_UINT104, str(n))
    return n


def safe128(n: int) -> int:
    """``safe128``: ``n`` if it fits ``uint128``, else ``InvalidUInt128``."""
    if n > UINT128_MAX:
        raise CometError(E.INVALID_UINT128, str(n))
    return n


def signed104(n: int) -> int:
    """``signed104``: a ``uint104`` as ``int104``, else ``InvalidInt104``."""
    if n > INT104_MAX:
        raise CometError(E.INVALID_INT104, str(n))
    return n


def signed256(n: int) -> int:
    """``signed256``: a ``uint256`` as ``int256``, else ``InvalidInt256``."""
    if n > INT256_MAX:
        raise CometError(E.INVALID_INT256, str(n))
    return n


def unsigned104(n: int) -> int:
    """``unsigned104``: a non-negative ``int104`` as ``uint104``, else ``NegativeNumber``."""
    if n < 0:
        raise CometError(E.NEGATIVE_NUMBER, str(n))
    return n


def unsigned256(n: int) -> int:
    """``unsigned256``: a non-negative ``int256`` as ``uint256``, else ``NegativeNumber``."""
    if n < 0:
        raise CometError(E.NEGATIVE_NUMBER, str(n))
    return n


def checked_add(a: int, b: int, bits: int) -> int:
    """``a + b`` on ``uint<bits>`` with Solidity 0.8 overflow checking (panic 0x11)."""
    out = a + b
    if out >= 1 << bits:
        raise CometError(E.PANIC_ARITHMETIC, f"{a} + {b} overflows uint{bits}")
    return out


def checked_sub(a: int, b: int) -> int:
    """``a - b`` on an unsigned type with underflow checking (panic 0x11)."""
    if b > a:
        raise CometError(E.PANIC_ARITHMETIC, f"{a} - {b} underflows")
    return a - b


def div_toward_zero(a: int, b: int) -> int:
    """Solidity's signed ``a / b``: the quotient truncated toward zero (``b > 0``)."""
    q = abs(a) // b
    return q if a >= 0 else -q


# --- Comet.sol: factor and price helpers ---------------------------------------------------------

def mul_factor(n: int, factor: int) -> int:
    """``mulFactor``: ``n * factor / FACTOR_SCALE`` (rounded down)."""
    return n * factor // FACTOR_SCALE


def div_base_wei(n: int, base_wei: int, base_scale: int) -> int:
    """``divBaseWei``: ``n * baseScale / baseWei`` (rounded down)."""
    return n * base_scale // base_wei


def mul_price(n: int, price: int, from_scale: int) -> int:
    """``mulPrice``: ``n * price / fromScale``: token units to USD (1e8), rounded down."""
    return n * price // from_scale


def signed_mul_price(n: int, price: int, from_scale: int) -> int:
    """``signedMulPrice``: ``n * price / fromScale`` for signed ``n``, truncated toward zero.

    A negative balance's USD value is therefore rounded *up* (toward zero): a debt is valued
    at most at its true value, never above.
    """
    return div_toward_zero(n * signed256(price), from_scale)


def div_price(n: int, price: int, to_scale: int) -> int:
    """``divPrice``: ``n * toScale / price``: USD (1e8) to token units, rounded down."""
    return n * to_scale // price


# --- CometCore.sol: principal and present values -------------------------------------------------

def present_value_supply(base_supply_index: int, principal: int) -> int:
    """``presentValueSupply``: ``principal * baseSupplyIndex / 1e15`` (rounded down)."""
    return principal * base_supply_index // BASE_INDEX_SCALE


def present_value_borrow(base_borrow_index: int, principal: int) -> int:
    """``presentValueBorrow``: ``principal * baseBorrowIndex / 1e15`` (rounded down)."""
    return principal * base_borrow_index // BASE_INDEX_SCALE


def principal_value_supply(base_supply_index: int, present: int) -> int:
    """``principalValueSupply``: ``present * 1e15 / baseSupplyIndex``, rounded down, ``uint104``."""
    return safe104(present * BASE_INDEX_SCALE // base_supply_index)


def principal_value_borrow(base_borrow_index: int, present: int) -> int:
    """``principalValueBorrow``: ``(present * 1e15 + index - 1) / index``, rounded *up*, ``uint104``."""
    return safe104((present * BASE_INDEX_SCALE + base_borrow_index - 1) // base_borrow_index)


def present_value(principal: int, base_supply_index: int, base_borrow_index: int) -> int:
    """``presentValue``: the signed balance (base units) of a signed principal."""
    if principal >= 0:
        return signed256(present_value_supply(base_supply_index, principal))
    return -signed256(present_value_borrow(base_borrow_index, -principal))


def principal_value(present: int, base_supply_index: int, base_borrow_index: int) -> int:
    """``principalValue``: the signed principal (``int104``) of a signed balance."""
    if present >= 0:
        return signed104(principal_value_supply(base_supply_index, present))
    return -signed104(principal_value_borrow(base_borrow_index, -present))


def repay_and_supply_amount(old_principal: int, new_principal: int) -> tuple[int, int]:
    """``repayAndSupplyAmount``: a principal increase split into (repaid, supplied) principal."""
    if new_principal < old_principal:
        return 0, 0
    if new_principal <= 0:
        return new_principal - old_principal, 0
    if old_principal >= 0:
        return 0, new_principal - old_principal
    return -old_principal, new_principal


def withdraw_and_borrow_amount(old_principal: int, new_principal: int) -> tuple[int, int]:
    """``withdrawAndBorrowAmount``: a principal decrease split into (withdrawn, borrowed)."""
    if new_principal > old_principal:
        return 0, 0
    if new_principal >= 0:
        return old_principal - new_principal, 0
    if old_principal <= 0:
        return 0, old_principal - new_principal
    return old_principal, -new_principal


# --- Comet.sol: interest ------------------------------------------------------------------------

def utilization(base_supply_index: int, base_borrow_index: int, total_supply_base: int,
                total_borrow_base: int) -> int:
    """``getUtilization``: ``totalBorrow * 1e18 / totalSupply`` (present values, rounded
    down), 0 without supply. Uses the indices given (the contract: the stored ones)."""
    total_supply = present_value_supply(base_supply_index, total_supply_base)
    total_borrow = present_value_borrow(base_borrow_index, total_borrow_base)
    if total_supply == 0:
        return 0
    return total_borrow * FACTOR_SCALE // total_supply


def get_rate(util: int, kink: int, base: int, slope_low: int, slope_high: int) -> int:
    """``getSupplyRate`` / ``getBorrowRate``: per-second rate (1e18) of the kinked curve.

    ``base + mulFactor(slopeLow, u)`` up to the kink, else
    ``base + mulFactor(slopeLow, kink) + mulFactor(slopeHigh, u - kink)``; ``safe64``.
    """
    if util <= kink:
        return safe64(base + mul_factor(slope_low, util))
    return safe64(base + mul_factor(slope_low, kink) + mul_factor(slope_high, util - kink))


def accrued_interest_indices(
    base_supply_index: int,
    base_borrow_index: int,
    supply_rate: int,
    borrow_rate: int,
    time_elapsed: int,
) -> tuple[int, int]:
    """``accruedInterestIndices``: ``index += safe64(mulFactor(index, rate * elapsed))``.

    Simple (not compounded) growth over the elapsed seconds at the rates of the stored state;
    each index is a checked ``uint64``.
    """
    if time_elapsed <= 0:
        return base_supply_index, base_borrow_index
    si = checked_add(base_supply_index, safe64(mul_factor(base_supply_index, supply_rate * time_elapsed)), 64)
    bi = checked_add(base_borrow_index, safe64(mul_factor(base_borrow_index, borrow_rate * time_elapsed)), 64)
    return si, bi
