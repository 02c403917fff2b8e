"""Comet's arithmetic against hand calculation from the Solidity formulas (Comet.sol,
CometCore.sol, CometMath.sol). Expected integers are derived in the comments."""

from __future__ import annotations

import pytest

from defisim.engine.protocols.compound_v3 import (
    AssetConfig,
    CometError,
    pack_asset_info,
)
from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3.cometmath import (
    accrued_interest_indices,
    div_price,
    get_rate,
    mul_factor,
    mul_price,
    present_value,
    present_value_borrow,
    present_value_supply,
    principal_value,
    principal_value_borrow,
    principal_value_supply,
    repay_and_supply_amount,
    safe104,
    signed104,
    signed_mul_price,
    unsigned256,
    utilization,
    withdraw_and_borrow_amount,
)

E15 = 10**15
E18 = 10**18
YEAR = 31_536_000


def test_mul_factor_and_prices_round_down() -> None:
    # mulFactor(n, f) = n * f / 1e18: 1,000 * 0.95 = 950; 999 * 0.333... = 332.66 -> 332
    assert mul_factor(1000, 95 * 10**16) == 950
    assert mul_factor(999, E18 // 3) == 332
    # mulPrice(n, price, scale) = n * price / scale: 1.5 WETH at 2,000.12345678 USD
    # = 1.5e18 * 200012345678 / 1e18 = 300018518517 (USD 1e8, .0 exact)
    assert mul_price(15 * 10**17, 200_012_345_678, E18) == 300_018_518_517
    # 1 wei of WETH at 3,000 USD: 1 * 3e11 / 1e18 = 3e-7 -> 0
    assert mul_price(1, 3000 * 10**8, E18) == 0
    # divPrice(n, price, toScale) = n * toScale / price: 1,000.00 USD (1e11) at 0.99990000
    # USDC -> 1e11 * 1e6 / 99990000 = 1000100010.001 -> 1,000.100010 USDC
    assert div_price(10**11, 99_990_000, 10**6) == 1_000_100_010


def test_signed_mul_price_truncates_toward_zero() -> None:
    # Solidity int division truncates: -3 * 1 / 2 = -1 (a floor would give -2)
    assert signed_mul_price(-3, 1, 2) == -1
    assert signed_mul_price(3, 1, 2) == 1
    # a debt of 1,234.567891 USDC at 0.99999999 USD: -1234567891 * 99999999 / 1e6
    # = -(123456789100000000 - 1234567891) / 1e6 = -123456787865.432109
    # -> -123456787865 (rounded toward zero: the debt is never overvalued)
    assert signed_mul_price(-1_234_567_891, 99_999_999, 10**6) == -123_456_787_865


def test_present_and_principal_values_round_as_comet() -> None:
    si, bi = 1_000_071_232_876_662, 1_000_117_808_219_065
    # presentValueSupply = p * si / 1e15: 1e12 * 1000071232876662 / 1e15 = 1000071232876.662 -> down
    assert present_value_supply(si, 10**12) == 1_000_071_232_876
    # presentValueBorrow = p * bi / 1e15: 8e11 * 1000117808219065 / 1e15 = 800094246575.252 -> down
    assert present_value_borrow(bi, 8 * 10**11) == 800_094_246_575
    # principalValueSupply rounds down: 1e6 * 1e15 / si = 999928.77... -> 999928
    assert principal_value_supply(si, 10**6) == 999_928
    # principalValueBorrow rounds up: (1e6 * 1e15 + bi - 1) / bi = ceil(999882.2056...) = 999883
    assert principal_value_borrow(bi, 10**6) == 999_883
    # signed wrappers pick the index by sign
    assert principal_value(10**6, si, bi) == 999_928
    assert principal_value(-(10**6), si, bi) == -999_883
    assert present_value(-999_883, si, bi) == -(999_883 * bi // E15)  # = -1000000 (999883 * 1.0001178... = 1000000.79)
    assert present_value(-999_883, si, bi) == -1_000_000
    assert present_value(999_928, si, bi) == 999_928 * si // E15 == 999_999  # 999999.15 -> down


def test_repay_and_supply_amount_splits_a_principal_increase() -> None:
    assert repay_and_supply_amount(-100, -40) == (60, 0)   # only repaid
    assert repay_and_supply_amount(-100, 30) == (100, 30)  # repaid all, then supplied
    assert repay_and_supply_amount(20, 50) == (0, 30)      # only supplied
    assert repay_and_supply_amount(50, 20) == (0, 0)       # a decrease is neither


def test_withdraw_and_borrow_amount_splits_a_principal_decrease() -> None:
    assert withdraw_and_borrow_amount(100, 40) == (60, 0)    # only withdrawn
    assert withdraw_and_borrow_amount(100, -30) == (100, 30)  # withdrew all, then borrowed
    assert withdraw_and_borrow_amount(-20, -50) == (0, 30)    # only borrowed
    assert withdraw_and_borrow_amount(20, 50) == (0, 0)


def test_kinked_rates_at_and_above_the_kink() -> None:
    # cUSDCv3 launch: per-year / 31,536,000 (rounded down, as the constructor)
    base = 15 * 10**15 // YEAR     # 0.015 / year  -> 475646879
    low = 35 * 10**15 // YEAR      # 0.035 / year  -> 1109842719
    high = 25 * 10**16 // YEAR     # 0.25 / year   -> 7927447995
    assert (base, low, high) == (475_646_879, 1_109_842_719, 7_927_447_995)
    kink = 8 * 10**17
    # u = 0.8 (at the kink, low branch): base + mulFactor(low, 0.8) = 475646879 + 887874175
    assert get_rate(kink, kink, base, low, high) == 1_363_521_054
    # u = 0.9: base + mulFactor(low, kink) + mulFactor(high, 0.1) = 475646879 + 887874175 + 792744799
    assert get_rate(9 * 10**17, kink, base, low, high) == 2_156_265_853
    # u = 0: the base rate
    assert get_rate(0, kink, base, low, high) == base


def test_utilization_and_simple_interest_over_a_day() -> None:
    # 800,000 borrowed of 1,000,000 supplied at index 1e15: 8e11 * 1e18 / 1e12 = 0.8e18
    assert utilization(E15, E15, 10**12, 8 * 10**11) == 8 * 10**17
    supply_rate = mul_factor(325 * 10**14 // YEAR, 8 * 10**17)  # 1030568239 * 0.8 = 824454591
    borrow_rate = 1_363_521_054
    # index += mulFactor(index, rate * 86400): 1e15 * 824454591 * 86400 / 1e18 = 71232876662.4 -> down
    #                                          1e15 * 1363521054 * 86400 / 1e18 = 117808219065.6 -> down
    assert accrued_interest_indices(E15, E15, supply_rate, borrow_rate, 86_400) == (
        1_000_071_232_876_662, 1_000_117_808_219_065)
    assert accrued_interest_indices(E15, E15, supply_rate, borrow_rate, 0) == (E15, E15)


def test_safe_casts_revert_with_cometmath_errors() -> None:
    with pytest.raises(CometError) as err:
        safe104(2**104)
    assert err.value.reason == E.INVALID_UINT104
    with pytest.raises(CometError) as err:
        signed104(2**103)
    assert err.value.reason == E.INVALID_INT104
    with pytest.raises(CometError) as err:
        unsigned256(-1)
    assert err.value.reason == E.NEGATIVE_NUMBER


def test_asset_info_keeps_four_decimals_and_whole_token_caps() -> None:
    # 0.82 stays 0.82; 0.90123456 is stored as uint16(0.90123456e18 / 1e14) = 9012 -> 0.9012e18;
    # a cap of 1,234.5 WETH is stored as 1,234 whole tokens.
    cfg = AssetConfig("WETH", "eth-usd", 18, 82 * 10**16, 901_234_560_000_000_000, 95 * 10**16,
                      1_234_500_000_000_000_000_000)
    info = pack_asset_info(cfg, 3, 18)
    assert info.offset == 3
    assert info.scale == 10**18
    assert info.borrow_collateral_factor == 82 * 10**16
    assert info.liquidate_collateral_factor == 9012 * 10**14
    assert info.liquidation_factor == 95 * 10**16
    assert info.supply_cap == 1234 * 10**18


@pytest.mark.parametrize(
    ("bcf", "lcf", "reason"),
    [
        (90 * 10**16, 90 * 10**16, E.BORROW_CF_TOO_LARGE),        # equal: borrowCF >= liquidateCF
        (80 * 10**16, 11 * 10**17, E.LIQUIDATE_CF_TOO_LARGE),     # liquidateCF > 1
        (900_010_000_000_000_000, 900_019_999_999_999_999, E.BORROW_CF_TOO_LARGE),  # equal after descaling
    ],
)
def test_asset_config_checks(bcf: int, lcf: int, reason: str) -> None:
    with pytest.raises(CometError) as err:
        pack_asset_info(AssetConfig("WETH", "eth-usd", 18, bcf, lcf, 95 * 10**16, 0), 0, 18)
    assert err.value.reason == reason


def test_asset_decimals_must_match_the_token() -> None:
    with pytest.raises(CometError) as err:
        pack_asset_info(AssetConfig("WBTC", "btc-usd", 18, 7 * 10**17, 77 * 10**16, 95 * 10**16, 0), 0, 8)
    assert err.value.reason == E.BAD_DECIMALS
