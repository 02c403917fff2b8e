"""The named rounding functions of the perp model, on hand-computed values."""

from __future__ import annotations

import pytest

from defisim.engine.protocols.perp.config import (
    check_fee,
    check_margin_fraction,
    fraction_to_ppb,
    fraction_to_ppm,
    usd_to_quote_units,
)
from defisim.engine.protocols.perp.mathlib import (
    apportion,
    div_ceil,
    div_floor,
    div_toward_zero,
    margin_requirement_ceil,
    mul_div_ceil,
    mul_div_floor,
    mul_div_toward_zero,
    notional_floor,
    ppm_of_ceil,
    value_floor,
)

ETH, USD, E8 = 10**18, 10**6, 10**8


def test_divisions_round_as_named() -> None:
    # 7 / 2 = 3.5 ; -7 / 2 = -3.5
    assert (div_floor(7, 2), div_ceil(7, 2), div_toward_zero(7, 2)) == (3, 4, 3)
    assert (div_floor(-7, 2), div_ceil(-7, 2), div_toward_zero(-7, 2)) == (-4, -3, -3)
    # 10 * 7 / 4 = 17.5 ; -17.5
    assert (mul_div_floor(10, 7, 4), mul_div_ceil(10, 7, 4), mul_div_toward_zero(10, 7, 4)) == (17, 18, 17)
    assert (mul_div_floor(-10, 7, 4), mul_div_ceil(-10, 7, 4), mul_div_toward_zero(-10, 7, 4)) == (-18, -17, -17)
    assert ppm_of_ceil(1_000_001, 15_000) == 15_001  # 15,000.015 rounded up


def test_value_rounds_against_the_holder() -> None:
    # 5 ETH at 2,886.59 USD = 14,432.95 USDC exactly
    assert value_floor(5 * ETH, 288_659_000_000, ETH, USD) == 14_432_950_000
    assert value_floor(-5 * ETH, 288_659_000_000, ETH, USD) == -14_432_950_000
    # 1 wei at 3,000 USD is 3e-9 USDC base units: a long is worth 0, a short owes 1
    assert value_floor(1, 3_000 * E8, ETH, USD) == 0
    assert value_floor(-1, 3_000 * E8, ETH, USD) == -1
    assert notional_floor(-1, 3_000 * E8, ETH, USD) == 0


def test_margin_requirement_rounds_up_from_the_exact_product() -> None:
    # 14,432.95 USDC x 3 % = 432.9885 USDC = 432,988,500 base units exactly
    assert margin_requirement_ceil(5 * ETH, 288_659_000_000, 30_000, ETH, USD) == 432_988_500
    # 1 wei: 9e-11 base units -> 1
    assert margin_requirement_ceil(-1, 3_000 * E8, 30_000, ETH, USD) == 1
    # 0.1 WBTC (8 decimals) at 61,000 USD x 3 % = 183 USDC
    assert margin_requirement_ceil(10**7, 61_000 * E8, 30_000, 10**8, USD) == 183 * USD


def test_apportion_is_exact_with_largest_remainder() -> None:
    # 10 over 1:1:1 -> 3.33 each, the first remainder gets the extra unit
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    # 250e6 over 10,001,250 : 700 -> 249,982,503.41 and 17,496.59: the second has the larger
    # remainder and gets the unit the floors leave
    assert apportion(250 * USD, [10_001_250 * USD, 700 * USD]) == [249_982_503, 17_497]
    assert apportion(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        apportion(1, [0, 0])


def test_config_fractions_convert_exactly() -> None:
    assert fraction_to_ppm(0.03, "maintenance_margin") == 30_000
    assert fraction_to_ppm(0.666667, "backstop") == 666_667
    assert fraction_to_ppb(0.0000125, "interest_rate") == 12_500
    assert check_fee(0.015, "fee") == 15_000
    assert usd_to_quote_units(100_000, 6, "threshold_usd") == 100_000 * USD
    with pytest.raises(ValueError, match="fee"):
        check_fee(0.06, "fee")
    with pytest.raises(ValueError, match="initial_margin"):
        check_margin_fraction(0.0, "initial_margin")
    with pytest.raises(ValueError, match="finer than 1 ppm"):
        fraction_to_ppm(0.0300001, "maintenance_margin")
