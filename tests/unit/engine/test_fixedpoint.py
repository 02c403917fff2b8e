"""Fixed-point helpers: rounding direction and revert-equivalent overflow, by hand."""

from __future__ import annotations

import pytest

from defisim.engine import fixedpoint as fp
from defisim.engine.fixedpoint import FixedPointOverflow, RAY, UINT256_MAX, WAD


def test_wad_mul_rounds_half_up() -> None:
    # WadRayMath.wadMul: (a*b + WAD/2) / WAD
    assert fp.wad_mul(WAD // 2, 1) == 1  # 0.5 -> 1
    assert fp.wad_mul(WAD // 2 - 1, 1) == 0  # 0.4999.. -> 0
    assert fp.wad_mul(3 * WAD, 2 * WAD) == 6 * WAD


def test_wad_div_rounds_half_up() -> None:
    # WadRayMath.wadDiv: (a*WAD + b/2) / b ; 2/3 WAD = 666..666.67 -> ...667
    assert fp.wad_div(2, 3) == 666666666666666667
    assert fp.wad_div(1, 3) == 333333333333333333


def test_ray_mul_variants() -> None:
    a, b = 3, RAY // 2  # 1.5 base units
    assert fp.ray_mul(a, b) == 2  # half up
    assert fp.ray_mul_floor(a, b) == 1
    assert fp.ray_mul_ceil(a, b) == 2
    assert fp.ray_mul_ceil(4, RAY // 2) == 2  # exact: no extra unit


def test_ray_div_variants() -> None:
    # 1 * RAY / 3 RAY -> 0.333.. base units
    assert fp.ray_div(1, 3 * RAY) == 0
    assert fp.ray_div_floor(1, 3 * RAY) == 0
    assert fp.ray_div_ceil(1, 3 * RAY) == 1
    # 2/3 -> half-up 1
    assert fp.ray_div(2, 3 * RAY) == 1


def test_percent_math() -> None:
    # PercentageMath.percentMul: (v*p + 5000) / 1e4
    assert fp.percent_mul(15, 5000) == 8  # 7.5 -> 8
    assert fp.percent_mul_floor(15, 5000) == 7
    assert fp.percent_mul_ceil(14001, 5000) == 7001
    # percentDiv: (v*1e4 + p/2) / p ; 100/1.05 = 95.238 -> 95
    assert fp.percent_div(100, 10500) == 95
    assert fp.percent_div_ceil(100, 10500) == 96
    assert fp.percent_div_ceil(105, 10500) == 100


def test_conversions_and_mul_div() -> None:
    assert fp.ray_to_wad(1_499_999_999) == 1  # remainder 499_999_999 < 0.5e9
    assert fp.ray_to_wad(1_500_000_000) == 2
    assert fp.wad_to_ray(7) == 7 * 10**9
    assert fp.mul_div_down(7, 3, 2) == 10
    assert fp.mul_div_up(7, 3, 2) == 11
    assert fp.mul_div_up(6, 3, 2) == 9


def test_zero_division_raises() -> None:
    for f in (fp.wad_div, fp.ray_div, fp.ray_div_floor, fp.ray_div_ceil, fp.percent_div, fp.percent_div_ceil):
        with pytest.raises(ZeroDivisionError):
            f(1, 0)
    with pytest.raises(ZeroDivisionError):
        fp.mul_div_down(1, 1, 0)
    with pytest.raises(ZeroDivisionError):
        fp.mul_div_up(1, 1, 0)


def test_overflow_matches_contract_bounds() -> None:
    # wadMul reverts iff a > (MAX - HALF_WAD) / b
    b = 10**20
    limit = (UINT256_MAX - fp.HALF_WAD) // b
    assert fp.wad_mul(limit, b) == (limit * b + fp.HALF_WAD) // WAD
    with pytest.raises(FixedPointOverflow):
        fp.wad_mul(limit + 1, b)
    # rayMulFloor reverts iff a > MAX / b (no half added)
    lim2 = UINT256_MAX // b
    fp.ray_mul_floor(lim2, b)
    with pytest.raises(FixedPointOverflow):
        fp.ray_mul_floor(lim2 + 1, b)
    with pytest.raises(OverflowError):
        fp.wad_to_ray(UINT256_MAX)
    with pytest.raises(OverflowError):
        fp.ray_mul(-1, 1)


def test_compounded_interest_third_order() -> None:
    # MathUtils.calculateCompoundedInterest (3.6): x = rate*dt/YEAR;
    # RAY + x + rayMul(x, x/2 + rayMul(x, x/6))
    rate = 5 * RAY // 100  # 5 %/year
    dt = 86400
    x = rate * dt // 31_536_000
    inner = (x * (x // 6) + RAY // 2) // RAY
    expected = RAY + x + (x * (x // 2 + inner) + RAY // 2) // RAY
    assert fp.compounded_interest(rate, 0, dt) == expected
    assert fp.compounded_interest(rate, 5, 5) == RAY
    # linear: RAY + rate*dt/YEAR
    assert fp.linear_interest(rate, 0, dt) == RAY + rate * dt // 31_536_000
