"""MathLib, SharesMathLib, UtilsLib, the incentive factor, the oracle and the IRMs, by hand.

Every expected number is derived in the test (or its comment) from the Solidity formulas in
``@morpho-org/morpho-blue@1.0.0`` ``libraries/`` and ``mocks/IrmMock.sol``.
"""

from __future__ import annotations

import pytest

from defisim.engine.protocols.morpho_blue import (
    FixedRateIrm,
    LinearUtilizationIrm,
    Market,
    MorphoError,
    chainlink_pair_price,
    liquidation_incentive_factor,
)
from defisim.engine.protocols.morpho_blue.constants import UINT128_MAX, UINT256_MAX
from defisim.engine.protocols.morpho_blue.errors import (
    MAX_UINT128_EXCEEDED,
    PANIC_ARITHMETIC,
    PANIC_DIVISION,
)
from defisim.engine.protocols.morpho_blue.mathlib import (
    checked_add128,
    checked_sub128,
    exactly_one_zero,
    mul_div_down,
    mul_div_up,
    to_uint128,
    u_min,
    w_div_down,
    w_div_up,
    w_mul_down,
    w_taylor_compounded,
    zero_floor_sub,
)
from defisim.engine.protocols.morpho_blue.sharesmath import (
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
)

WAD = 10**18
YEAR = 365 * 24 * 3600


# --- MathLib ---------------------------------------------------------------------------------

def test_mul_div_rounding_directions() -> None:
    assert mul_div_down(7, 3, 2) == 10  # 21 / 2 = 10.5
    assert mul_div_up(7, 3, 2) == 11
    assert mul_div_up(6, 3, 2) == 9  # exact: no extra unit
    assert w_mul_down(15 * 10**17, 3) == 4  # 1.5 * 3 = 4.5 -> 4
    assert w_div_down(1, 3) == 333333333333333333
    assert w_div_up(1, 3) == 333333333333333334


def test_mul_div_reverts_like_checked_solidity() -> None:
    with pytest.raises(MorphoError) as e:
        mul_div_down(2**255, 2, 1)
    assert e.value.reason == PANIC_ARITHMETIC
    with pytest.raises(MorphoError) as e:
        mul_div_down(1, 1, 0)
    assert e.value.reason == PANIC_DIVISION
    # mulDivUp computes d - 1 first: with d = 0 that underflows (0x11), not a 0x12 division
    with pytest.raises(MorphoError) as e:
        mul_div_up(1, 1, 0)
    assert e.value.reason == PANIC_ARITHMETIC
    # x * y fits but x * y + (d - 1) does not
    with pytest.raises(MorphoError) as e:
        mul_div_up(UINT256_MAX, 1, 2)
    assert e.value.reason == PANIC_ARITHMETIC


def test_w_taylor_compounded_five_percent_over_a_year() -> None:
    rate = 5 * 10**16 // YEAR  # 5 % APR per second, truncated
    assert rate == 1_585_489_599
    first = rate * YEAR  # 5e16 minus 5e16 mod 31,536,000
    assert first == 5 * 10**16 - (5 * 10**16) % YEAR == 49_999_999_994_064_000
    second = first * first // (2 * WAD)
    assert second == 1_249_999_999_703_200
    third = second * first // (3 * WAD)
    assert third == 20_833_333_325_913
    assert w_taylor_compounded(rate, YEAR) == first + second + third == 51_270_833_327_093_113
    # three Taylor terms of e^0.05 - 1 = 0.05 + 0.00125 + 0.0000208333...
    assert abs(w_taylor_compounded(rate, YEAR) - 51_270_833_333_333_333) < 10**7
    assert w_taylor_compounded(rate, 0) == 0
    assert w_taylor_compounded(0, YEAR) == 0


def test_w_taylor_compounded_overflow_panics() -> None:
    with pytest.raises(MorphoError) as e:
        w_taylor_compounded(2**200, 2**60)
    assert e.value.reason == PANIC_ARITHMETIC


# --- UtilsLib --------------------------------------------------------------------------------

def test_utils() -> None:
    assert exactly_one_zero(0, 5) and exactly_one_zero(5, 0)
    assert not exactly_one_zero(0, 0) and not exactly_one_zero(1, 1)
    assert u_min(3, 2) == 2 and u_min(2, 3) == 2
    assert zero_floor_sub(5, 7) == 0 and zero_floor_sub(7, 5) == 2
    assert to_uint128(UINT128_MAX) == UINT128_MAX
    with pytest.raises(MorphoError) as e:
        to_uint128(UINT128_MAX + 1)
    assert e.value.reason == MAX_UINT128_EXCEEDED == "max uint128 exceeded"
    # `x -= y.toUint128()`: the cast is checked before the subtraction
    with pytest.raises(MorphoError) as e:
        checked_sub128(5, UINT128_MAX + 1)
    assert e.value.reason == MAX_UINT128_EXCEEDED
    with pytest.raises(MorphoError) as e:
        checked_sub128(5, 6)
    assert e.value.reason == PANIC_ARITHMETIC
    with pytest.raises(MorphoError) as e:
        checked_add128(UINT128_MAX, 1)
    assert e.value.reason == PANIC_ARITHMETIC


# --- SharesMathLib ----------------------------------------------------------------------------

def test_empty_market_converts_one_asset_to_a_million_shares() -> None:
    # VIRTUAL_SHARES = 1e6, VIRTUAL_ASSETS = 1: shares = assets * (0 + 1e6) / (0 + 1)
    assert to_shares_down(1, 0, 0) == 10**6
    assert to_shares_up(1, 0, 0) == 10**6
    assert to_assets_down(10**6, 0, 0) == 1
    assert to_assets_down(10**6 - 1, 0, 0) == 0  # 999,999 / 1e6 rounds down to 0
    assert to_assets_up(1, 0, 0) == 1  # one share costs a whole wei rounding up


def test_share_conversions_with_virtual_offsets() -> None:
    # 1,000 assets and 2e9 shares: (2e9 + 1e6) / (1000 + 1) = 2_001_000_000 / 1001
    # = 1_999_000 + 1000/1001 shares per asset
    ta, ts = 1_000, 2 * 10**9
    assert to_shares_down(1, ta, ts) == 1_999_000
    assert to_shares_up(1, ta, ts) == 1_999_001
    # 10 assets: 20_010_000_000 / 1001 = 19_990_009 rem 991
    assert to_shares_down(10, ta, ts) == 19_990_009
    assert to_shares_up(10, ta, ts) == 19_990_010
    # back: shares * 1001 / 2_001_000_000
    # 19_990_009 * 1001 = 20_009_999_009 -> 9.9999995
    assert to_assets_down(19_990_009, ta, ts) == 9
    assert to_assets_up(19_990_009, ta, ts) == 10
    # 19_990_010 * 1001 = 20_010_000_010 -> 10.000000005: rounding up went in the protocol's favour
    assert to_assets_down(19_990_010, ta, ts) == 10
    assert to_assets_up(19_990_010, ta, ts) == 11


def test_exact_ratio_when_totals_are_in_virtual_proportion() -> None:
    # 1000 assets, 1e9 shares: (1e9 + 1e6) / 1001 = 1e6 exactly, so no rounding at all
    assert to_shares_down(10, 1_000, 10**9) == to_shares_up(10, 1_000, 10**9) == 10**7


# --- liquidation incentive factor --------------------------------------------------------------

@pytest.mark.parametrize(
    ("lltv_milli", "expected"),
    [
        # min(1.15, 1 / (1 - 0.3 * (1 - lltv))), each division rounded down (WAD)
        (860, 1_043_841_336_116_910_229),  # 1 / 0.958 = 1.04384133611691022964...
        (915, 1_026_167_265_264_238_070),  # 1 / 0.9745 = 1.02616726526423807...
        (980, 1_006_036_217_303_822_937),  # 1 / 0.994 = 1.00603621730382293...
        (385, 115 * 10**16),  # 1 / 0.8155 = 1.2262... capped at 1.15
        (0, 115 * 10**16),
    ],
)
def test_liquidation_incentive_factor(lltv_milli: int, expected: int) -> None:
    assert liquidation_incentive_factor(lltv_milli * 10**15) == expected


def test_lif_086_is_one_wad_divided_by_0958_rounded_down() -> None:
    # WAD - 0.3e18.wMulDown(0.14e18) = 1e18 - 4.2e16 = 9.58e17
    assert 10**18 - 3 * 10**17 * 14 * 10**16 // 10**18 == 958 * 10**15
    assert liquidation_incentive_factor(86 * 10**16) == 10**36 // (958 * 10**15)


# --- oracle --------------------------------------------------------------------------------------

def test_chainlink_pair_price_weth_in_usdc() -> None:
    # SCALE = 10 ** (36 + 6 + 8 - 18 - 8) = 1e24; 3000 USD / 1 USD -> 3e27:
    # one wei of WETH is 3000e6 / 1e18 = 3e-9 USDC units, times 1e36
    assert chainlink_pair_price(3000 * 10**8, 10**8, 18, 6) == 3 * 10**27
    # USDC at 0.9999: 1e24 * 3000e8 / 99_990_000 = 3e31 / 9999 = 3000300030003000300030003000.30...
    assert chainlink_pair_price(3000 * 10**8, 99_990_000, 18, 6) == 3_000_300_030_003_000_300_030_003_000


def test_chainlink_pair_price_wbtc_and_same_decimals() -> None:
    # WBTC (8 dp) in USDC (6 dp): SCALE = 10 ** (36 + 6 - 8) = 1e34; 60,000 -> 6e38
    assert chainlink_pair_price(60_000 * 10**8, 10**8, 8, 6) == 6 * 10**38
    # WETH in an 18-dp dollar token: 1e36 * 3000 = 3e39
    assert chainlink_pair_price(3000 * 10**8, 10**8, 18, 18) == 3 * 10**39
    # floor: 1 USD collateral in 3 USD loan, same decimals -> 1e36 / 3 rounded down
    assert chainlink_pair_price(10**8, 3 * 10**8, 18, 18) == 333_333_333_333_333_333_333_333_333_333_333_333


def test_chainlink_pair_price_refuses_a_zero_quote() -> None:
    with pytest.raises(MorphoError) as e:
        chainlink_pair_price(3000 * 10**8, 0, 18, 6)
    assert e.value.reason == PANIC_DIVISION


# --- IRMs ----------------------------------------------------------------------------------------

def test_irm_mock_is_utilization_per_year() -> None:
    irm = LinearUtilizationIrm()
    half = Market(total_supply_assets=2 * 10**12, total_supply_shares=0, total_borrow_assets=10**12,
                  total_borrow_shares=0, last_update=0, fee=0)
    # wDivDown(1e12, 2e12) = 5e17; 5e17 / 31,536,000 = 15,854,895,991.88 -> 15,854,895,991
    assert irm.borrow_rate(None, half) == 15_854_895_991  # type: ignore[arg-type]
    empty = Market(0, 0, 0, 0, 0, 0)
    assert irm.borrow_rate(None, empty) == 0  # type: ignore[arg-type]
    # utilisation is rounded down before the division: 1/3 -> 333333333333333333 // YEAR
    third = Market(3, 0, 1, 0, 0, 0)
    assert irm.borrow_rate(None, third) == 333_333_333_333_333_333 // YEAR == 10_569_930_661  # type: ignore[arg-type]


def test_fixed_irm_ignores_the_market() -> None:
    irm = FixedRateIrm(1_585_489_599)
    assert irm.borrow_rate(None, Market(1, 2, 3, 4, 5, 6)) == 1_585_489_599  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FixedRateIrm(-1)
