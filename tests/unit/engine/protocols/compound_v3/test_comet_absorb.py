"""``absorb`` against hand calculation from ``Comet.absorbInternal``, and the reserve accounting.

Setup: 100,000 USDC of reserves, 1,000,000 USDC lent by ``lp``; ``bob`` posts 10 WETH at 3,000
and borrows 20,000 USDC (capacity 10 * 3,000 * 0.82 = 24,600). No time passes unless a test
says so, so every index is 1e15 and principal equals balance.
"""

from __future__ import annotations

import pytest
from comet_env import T0, USD, USDC, WAD, WBTC, WETH, CometEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.compound_v3 import (
    AbsorberPointsAccrued,
    CometError,
    LiquidatorPoints,
    PositionAbsorbed,
    SeizedCollateral,
    absorb_records,
)
from defisim.engine.protocols.compound_v3 import errors as E
from defisim.engine.protocols.compound_v3.constants import NO_DEBT
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    PositionLiquidated,
)


def bob_env(reserves: int = 100_000 * USDC, **changes: object) -> CometEnv:
    env = CometEnv(**changes)
    env.reserves(reserves)
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", 10 * WETH)
    env.borrow("bob", 20_000 * USDC)
    return env


def test_reserves_start_as_the_donation() -> None:
    env = bob_env()
    # balance 1,100,000 - 20,000; supply 1,000,000; borrow 20,000
    assert env.comet.get_reserves(T0) == 100_000 * USDC


def test_liquidate_factor_not_borrow_factor_decides_absorption() -> None:
    env = bob_env()
    env.usd["eth-usd"] = 2_500 * USD
    # borrow side: 25,000 * 0.82 = 20,500 >= 20,000: still collateralized
    # liquidate side: 25,000 * 0.90 = 22,500 >= 20,000: not liquidatable
    assert env.comet.is_borrow_collateralized(T0, "bob")
    assert not env.comet.is_liquidatable(T0, "bob")
    env.usd["eth-usd"] = 2_400 * USD
    # 24,000 * 0.82 = 19,680 < 20,000: cannot borrow more; 24,000 * 0.90 = 21,600: not absorbable
    assert not env.comet.is_borrow_collateralized(T0, "bob")
    assert not env.comet.is_liquidatable(T0, "bob")
    # health at the liquidate CF: 21,600e8 * 1e18 / 20,000e8 = 1.08e18
    assert env.comet.health_factor(T0, "bob") == 108 * 10**16
    before = env.state()
    with pytest.raises(CometError) as err:
        env.comet.absorb(T0, "keeper", ["bob"])
    assert err.value.reason == E.NOT_LIQUIDATABLE
    assert env.state() == before


def test_absorb_credits_collateral_at_the_liquidation_factor() -> None:
    env = bob_env()
    env.usd["eth-usd"] = 2_200 * USD
    # 10 WETH = mulPrice(10e18, 2200e8, 1e18) = 2.2e12 USD; * 0.90 = 1.98e12 < debt 2e12
    assert env.comet.health_factor(T0, "bob") == 99 * 10**16  # 1.98e12 * 1e18 / 2e12
    result = env.comet.absorb(T0, "keeper", ["bob"], gas_used=200_000, base_fee=30 * 10**9)
    env.check()
    (a,) = result.accounts
    assert a.collateral == (SeizedCollateral("WETH", 10 * WETH, 2_200_000_000_000),)
    # deltaValue = mulFactor(2.2e12, 0.95e18) = 2.09e12; deltaBalance = 2.09e12 * 1e6 / 1e8
    assert (a.delta_value, a.delta_balance) == (2_090_000_000_000, 20_900 * USDC)
    # newBalance = -20,000 + 20,900 = +900: bob keeps 900 USDC as a supply balance
    assert (a.old_principal, a.new_principal, a.old_balance) == (-20_000 * USDC, 900 * USDC, -20_000 * USDC)
    assert (a.repay_amount, a.supply_amount) == (20_000 * USDC, 900 * USDC)
    # AbsorbDebt(basePaidOut = 20,900 USDC, usdValue = 20,900e8)
    assert (a.base_paid_out, a.value_of_base_paid_out) == (20_900 * USDC, 20_900 * USD)
    assert (a.debt_absorbed, a.collateral_value_base, a.shortfall) == (20_000 * USDC, 22_000 * USDC, 0)
    # reserves pay the credited 20,900: 100,000 -> 79,100
    assert (a.reserves_before, a.reserves_after) == (100_000 * USDC, 79_100 * USDC)
    assert env.comet.get_reserves(T0) == 79_100 * USDC
    assert env.comet.get_collateral_reserves("WETH") == 10 * WETH
    assert env.comet.collateral_balance_of("bob", "WETH") == 0
    assert env.comet.user_basic("bob").assets_in == 0
    assert env.comet.balance_of(T0, "bob") == 900 * USDC
    assert env.comet.health_factor(T0, "bob") == NO_DEBT
    t = env.comet.totals_basic()
    assert (t.total_supply_base, t.total_borrow_base) == (1_000_900 * USDC, 0)
    # liquidatorPoints: 1 call, 1 account, 200,000 gas * 30 gwei
    assert result.points == LiquidatorPoints(1, 1, 6 * 10**15)
    assert env.comet.liquidator_points("keeper") == LiquidatorPoints(1, 1, 6 * 10**15)


def test_absorb_with_a_shortfall_is_covered_by_reserves() -> None:
    env = bob_env()
    env.usd["eth-usd"] = 1_500 * USD
    (a,) = env.comet.absorb(T0, "keeper", ["bob"]).accounts
    env.check()
    # deltaValue = mulFactor(1.5e12, 0.95e18) = 1.425e12 -> 14,250 USDC < 20,000: balance floors at 0
    assert (a.delta_balance, a.new_principal, a.base_paid_out) == (14_250 * USDC, 0, 20_000 * USDC)
    # shortfall = debt - collateral at the feed = 20,000 - 15,000
    assert (a.shortfall, a.shortfall_usd) == (5_000 * USDC, 5_000 * USD)
    assert (a.reserve_equity_before, a.reserves_drawn, a.uncovered) == (100_000 * USDC, 5_000 * USDC, 0)
    assert a.reserves_after == 80_000 * USDC
    # equity after: 80,000 + divPrice(mulPrice(10 WETH, 1,500), 1e8, 1e6) = 80,000 + 15,000
    assert env.comet.reserve_equity(T0) == 95_000 * USDC


def test_shortfall_beyond_reserves_is_uncovered_and_recorded() -> None:
    env = bob_env(reserves=2_000 * USDC)
    env.usd["eth-usd"] = 1_500 * USD
    result = env.comet.absorb(T0, "absorber:k", ["bob"], gas_used=100_000, base_fee=10**10)
    (a,) = result.accounts
    assert (a.shortfall, a.reserves_drawn, a.uncovered) == (5_000 * USDC, 2_000 * USDC, 3_000 * USDC)
    assert a.reserves_after == 2_000 * USDC - 20_000 * USDC  # getReserves goes negative
    records = absorb_records(env.comet, 7, "k", result, gas_cost_usd=1_001)
    kinds = [type(r) for r in records]
    assert kinds == [PositionAbsorbed, PositionLiquidated, BadDebtRealized, InsuranceFundDrawn,
                     BadDebtSocialized, AbsorberPointsAccrued]
    absorbed, liquidated, bad, drawn, social, points = records
    assert isinstance(liquidated, PositionLiquidated)
    assert (liquidated.liquidator, liquidated.account, liquidated.collateral_asset, liquidated.debt_asset) == (
        "k", "bob", "WETH", "USDC")
    assert (liquidated.debt_repaid, liquidated.collateral_seized, liquidated.protocol_fee) == (
        20_000 * USDC, 10 * WETH, 0)
    assert (liquidated.debt_repaid_usd, liquidated.collateral_seized_usd) == (20_000 * USD, 15_000 * USD)
    # health before: mulFactor(1.5e12, 0.9e18) * 1e18 / 2e12 = 1.35e12 * 1e18 / 2e12 = 0.675e18
    assert (liquidated.health_before, liquidated.health_after) == (675 * 10**15, NO_DEBT)
    assert (liquidated.profit_usd, liquidated.gas_cost_usd) == (0, 1_001)
    assert isinstance(bad, BadDebtRealized) and (bad.asset, bad.amount, bad.amount_usd) == (
        "USDC", 5_000 * USDC, 5_000 * USD)
    assert isinstance(drawn, InsuranceFundDrawn) and (drawn.amount, drawn.amount_usd, drawn.balance_after) == (
        2_000 * USDC, 2_000 * USD, 0)
    assert isinstance(social, BadDebtSocialized) and (social.amount, social.amount_usd) == (3_000 * USDC, 3_000 * USD)
    assert isinstance(absorbed, PositionAbsorbed)
    assert absorbed.collateral == (("WETH", 10 * WETH, 15_000 * USD),)
    assert (absorbed.reserves_before, absorbed.reserves_after) == (2_000 * USDC, -18_000 * USDC)
    assert isinstance(points, AbsorberPointsAccrued)
    assert (points.absorber, points.accounts, points.num_absorbs, points.approx_spend) == ("k", 1, 1, 10**15)


def test_exact_boundary_and_interest_alone_make_an_account_absorbable() -> None:
    env = CometEnv()
    env.lend("lp", 1_000_000 * USDC)
    env.post("bob", "WETH", WETH)
    env.borrow("bob", 1_800 * USDC)
    env.usd["eth-usd"] = 2_000 * USD
    # cap = mulFactor(2000e8, 0.9e18) = 1800e8 = the debt's value: liquidity 0, not liquidatable
    assert env.comet.health_factor(T0, "bob") == WAD
    assert not env.comet.is_liquidatable(T0, "bob")
    # u = 1800e6 * 1e18 / 1e12 = 1.8e15; borrow rate = 475646879 + mulFactor(1109842719, 1.8e15)
    # = 475646879 + 1997716 = 477644595 per second.
    # 1 s: index 1e15 + mulFactor(1e15, 477644595) = 1000000000477644; debt 1800e6 * that / 1e15
    #      = 1800000000.86 -> 1800000000: still not liquidatable
    assert env.comet.borrow_balance_of(T0 + 1, "bob") == 1_800 * USDC
    assert not env.comet.is_liquidatable(T0 + 1, "bob")
    # 2 s: index 1e15 + 955289 -> debt 1800000001.72 -> 1800000001 (worth 180000000100 > 1800e8)
    assert env.comet.borrow_balance_of(T0 + 2, "bob") == 1_800 * USDC + 1
    assert env.comet.is_liquidatable(T0 + 2, "bob")
    (a,) = env.comet.absorb(T0 + 2, "keeper", ["bob"]).accounts
    env.check()
    assert a.debt_absorbed == 1_800 * USDC + 1


def test_two_collaterals_and_a_batch() -> None:
    env = CometEnv()
    env.reserves(50_000 * USDC)
    env.lend("lp", 1_000_000 * USDC)
    env.post("alice", "WETH", WETH)
    env.post("alice", "WBTC", WBTC // 10)
    env.borrow("alice", 6_000 * USDC)  # capacity 3,000 * 0.82 + 6,000 * 0.70 = 6,660
    env.post("bob", "WETH", 10 * WETH)
    env.borrow("bob", 20_000 * USDC)
    env.usd["eth-usd"] = 2_000 * USD
    env.usd["btc-usd"] = 39_000 * USD
    # alice: 2,000 * 0.9 + 3,900 * 0.77 = 4,803 < 6,000; bob: 20,000 * 0.9 = 18,000 < 20,000
    result = env.comet.absorb(T0, "keeper", ["alice", "bob"])
    env.check()
    alice, bob = result.accounts
    # WBTC: mulPrice(1e7, 39000e8, 1e8) = 3900e8
    assert alice.collateral == (SeizedCollateral("WETH", WETH, 2_000 * USD),
                                SeizedCollateral("WBTC", WBTC // 10, 3_900 * USD))
    # deltaValue = mulFactor(2000e8, .95) + mulFactor(3900e8, .95) = 1900e8 + 3705e8 = 5605e8
    assert alice.delta_value == 5_605 * USD
    assert alice.shortfall == 100 * USDC  # 6,000 - 5,900
    assert bob.shortfall == 0  # 20,000 <= 20,000 of collateral: exactly covered
    assert bob.delta_balance == 19_000 * USDC
    # bob absorbed second: the reserves before him are alice's after
    assert bob.reserves_before == alice.reserves_after == 50_000 * USDC - 6_000 * USDC
    assert result.points == LiquidatorPoints(1, 2, 0)
    assert env.comet.get_collateral_reserves("WBTC") == WBTC // 10
    assert env.comet.get_collateral_reserves("WETH") == 11 * WETH


def test_a_batch_reverts_whole_if_one_account_is_healthy_or_repeated() -> None:
    env = bob_env()
    env.post("ann", "WETH", 10 * WETH)
    env.borrow("ann", 1_000 * USDC)
    env.usd["eth-usd"] = 2_200 * USD
    before = env.state()
    for accounts in (["bob", "ann"], ["bob", "bob"]):
        with pytest.raises(CometError) as err:
            env.comet.absorb(T0, "keeper", accounts)
        assert err.value.reason == E.NOT_LIQUIDATABLE
        assert env.state() == before


def test_absorb_paused() -> None:
    env = bob_env()
    env.usd["eth-usd"] = 1_000 * USD
    env.comet.pause(False, False, False, True, False)
    with pytest.raises(CometError) as err:
        env.comet.absorb(T0, "keeper", ["bob"])
    assert err.value.reason == E.PAUSED


def test_candidates_screen_finds_exactly_the_absorbable() -> None:
    env = bob_env()
    env.post("ann", "WETH", 10 * WETH)
    env.borrow("ann", 10_000 * USDC)
    env.post("cat", "WETH", WETH)
    env.borrow("cat", 1_800 * USDC)
    assert env.comet.liquidation_candidates(T0) == []
    env.usd["eth-usd"] = 2_000 * USD
    # bob (20,000 vs 18,000) is liquidatable; cat sits exactly on the boundary (a candidate by
    # the screen's margin, not liquidatable exactly); ann is far from it
    found = env.comet.liquidation_candidates(T0)
    assert found[0] == "bob" and set(found) <= {"bob", "cat"}
    assert [a for a in found if env.comet.is_liquidatable(T0, a)] == ["bob"]
    estimates = sorted(env.comet.health_factors_estimate(T0).tolist())
    assert estimates[0] == pytest.approx(0.9) and estimates[-1] == pytest.approx(1.8)
