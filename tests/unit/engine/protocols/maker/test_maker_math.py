"""dss math, price curves, Jug and Spotter: exact integers derived by hand from the formulas."""

from __future__ import annotations

import pytest
from maker_env import ILK, RAD, RAY, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.maker import (
    ExponentialDecrease,
    LinearDecrease,
    MakerError,
    StairstepExponentialDecrease,
    annual_to_duty,
)
from defisim.engine.protocols.maker.dsmath import (
    UINT256_MAX,
    add,
    mul_int,
    rad_to_wad_down,
    rad_to_wad_up,
    rdiv,
    rmul,
    rpow,
    rpow_abaci,
    sub,
    wmul,
)

# --- rpow ------------------------------------------------------------------------------------


def test_rpow_rounds_each_product_half_up() -> None:
    # 1.5**2 in base 10: z starts at b = 10 (n even); x = (15*15 + 5) // 10 = 23; n = 1 is odd:
    # z = (10*23 + 5) // 10 = 23, i.e. 2.25 rounded half up to 2.3
    assert rpow(15, 2, 10) == 23
    # 1.05**3 in base 100: z = x = 105 (n odd); x = (105*105 + 50) // 100 = 110;
    # z = (105*110 + 50) // 100 = 116 (true value 1.157625)
    assert rpow(105, 3, 100) == 116


def test_rpow_edge_cases_of_both_versions() -> None:
    assert rpow(0, 0, RAY) == RAY and rpow(0, 5, RAY) == 0          # Jug: x == 0 first
    assert rpow_abaci(0, 0, RAY) == RAY and rpow_abaci(0, 3, RAY) == 0  # abaci: n == 0 first
    assert rpow(RAY, 10**9, RAY) == RAY
    with pytest.raises(MakerError):
        rpow_abaci(2**128, 2, RAY)  # the abaci guard: x >= 2**128 before squaring


def test_rpow_of_a_per_second_rate_over_three_seconds() -> None:
    # x = 1 + 1e-9 (ray), n = 3: z = x; x' = ((1e27 + 1e18)**2 + 5e26) // 1e27
    #   = (1e54 + 2e45 + 1e36 + 5e26) // 1e27 = 1e27 + 2e18 + 1e9;
    # z = ((1e27 + 1e18) * (1e27 + 2e18 + 1e9) + 5e26) // 1e27
    #   = (1e54 + 3e45 + 3e36 + 1e27 + 5e26) // 1e27 = 1e27 + 3e18 + 3e9 + 1  (= (1 + 1e-9)**3)
    assert rpow(RAY + 10**18, 3, RAY) == RAY + 3 * 10**18 + 3 * 10**9 + 1


def test_checked_arithmetic_reverts_like_solidity() -> None:
    with pytest.raises(MakerError, match="dss/math"):
        sub(1, 2)
    with pytest.raises(MakerError, match="dss/math"):
        add(UINT256_MAX, 1)
    with pytest.raises(MakerError, match="dss/math"):
        mul_int(2**255, 1)  # int(x) < 0 in the Vat's _mul
    assert wmul(3 * WAD, WAD // 2) == 3 * WAD // 2
    assert rmul(7, RAY // 2) == 3          # 3.5 rounded down
    assert rdiv(1, 3) == RAY // 3          # 333...333 (27 threes)
    assert rad_to_wad_down(RAD + 1) == WAD and rad_to_wad_up(RAD + 1) == WAD + 1


# --- Abaci -----------------------------------------------------------------------------------

TOP = 2_000 * RAY


def test_linear_decrease() -> None:
    calc = LinearDecrease(1_000)
    # rmul(top, (tau - dur) * RAY / tau): 750 * RAY // 1000 = 0.75 RAY -> 1,500
    assert calc.price(TOP, 250) == 1_500 * RAY
    # one second before tau: 1 * RAY // 1000 = 1e24 -> 2,000 * 1e-3 = 2
    assert calc.price(TOP, 999) == 2 * RAY
    assert calc.price(TOP, 1_000) == 0 and calc.price(TOP, 5_000) == 0


def test_stairstep_exponential_decrease() -> None:
    calc = StairstepExponentialDecrease(90, 99 * RAY // 100)
    assert calc.price(TOP, 0) == TOP and calc.price(TOP, 89) == TOP   # 0 steps: rpow = RAY
    assert calc.price(TOP, 90) == 1_980 * RAY                           # one step: x 0.99
    # two steps: rpow(0.99, 2) = (0.9801e54 + 5e26) // 1e27 = 0.9801e27 -> 1,960.2
    assert calc.price(TOP, 180) == 19_602 * RAY // 10
    # three steps: z = 0.99e27; x = 0.9801e27; z = (0.99e27 * 0.9801e27 + 5e26) // 1e27
    #   = 0.970299e27 -> 2,000 * 0.970299 = 1,940.598
    assert calc.price(TOP, 270) == 1_940_598 * RAY // 1_000
    with pytest.raises(MakerError, match="cut-gt-RAY"):
        StairstepExponentialDecrease(90, RAY + 1)


def test_exponential_decrease() -> None:
    calc = ExponentialDecrease(999 * RAY // 1_000)
    # rpow(0.999, 2): z = RAY; x = (0.998001e54 + 5e26) // 1e27 = 0.998001e27; z = x
    assert calc.price(TOP, 2) == 1_996_002 * RAY // 1_000
    assert calc.price(TOP, 0) == TOP
    with pytest.raises(MakerError, match="cut-gt-RAY"):
        ExponentialDecrease(RAY + 1)


# --- Jug --------------------------------------------------------------------------------------

def test_annual_duty_matches_the_published_eth_a_value() -> None:
    # ETH-A 2 % a year, as on chain: (1.02) ** (1 / 31_536_000) in ray
    assert annual_to_duty(0.02) == 1_000_000_000_627_937_192_491_029_810
    assert annual_to_duty(0) == RAY


def test_drip_compounds_rate_and_pays_the_vow() -> None:
    env = MakerEnv()
    env.vault("alice", 10, 13_000)                      # Art = 13,000 wad at rate RAY
    env.mk.jug.file_duty(ILK, RAY + 10**18, env.now)    # 1e-9 per second, right after init
    rate = env.mk.jug.drip(ILK, env.now + 3)
    # rate = rmul(rpow(1 + 1e-9, 3), RAY) = 1e27 + 3e18 + 3e9 + 1 (see the rpow test)
    assert rate == RAY + 3 * 10**18 + 3 * 10**9 + 1
    assert env.vat.ilks[ILK].rate == rate
    # fold: the Vow receives Art * (rate - RAY) = 13,000e18 * (3e18 + 3e9 + 1) rad
    assert env.vat.dai_of(env.mk.vow.address) == 13_000 * WAD * (3 * 10**18 + 3 * 10**9 + 1)
    assert env.mk.jug.ilks[ILK].rho == env.now + 3
    assert env.mk.invariant_errors() == []
    with pytest.raises(MakerError, match="Jug/invalid-now"):
        env.mk.jug.drip(ILK, env.now)
    with pytest.raises(MakerError, match="Jug/rho-not-updated"):
        env.mk.jug.file_duty(ILK, RAY, env.now)


def test_drip_raises_the_debt_of_a_vault() -> None:
    env = MakerEnv(duty=annual_to_duty(0.02))
    env.vault("alice", 10, 10_000)
    env.mk.jug.drip(ILK, env.now + 31_536_000)
    # one year at 2 %: within one wei per 1e18 of 10,200 DAI (rpow rounds each squaring)
    assert abs(env.mk.debt_of(ILK, "alice") - 10_200 * WAD) < 10**6


# --- Spotter ----------------------------------------------------------------------------------

def test_poke_writes_price_over_mat() -> None:
    env = MakerEnv()
    # val = 2,000e18 (wad); spot = rdiv(rdiv(val * 1e9, par), mat) = 2,000e27 * 1e27 // 1.5e27
    #     = 1,333.333... e27 rounded down: 1333 followed by 27 threes
    assert env.vat.ilks[ILK].spot == int("1333" + "3" * 27)
    env.price(1_500)
    assert env.vat.ilks[ILK].spot == 1_000 * RAY
    assert env.mk.health(ILK, "nobody") == UINT256_MAX
