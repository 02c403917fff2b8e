"""AavePool: account data, supply/borrow/repay/withdraw, interest — expected values by hand.

All prices are 8-decimal USD ints. Unless a test says otherwise every action happens at the
same timestamp, so both indexes stay at RAY and the arithmetic is the contract's rounding only.
"""

from __future__ import annotations

import pytest

from defisim.engine.fixedpoint import RAY, UINT256_MAX
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import MAX_AMOUNT, AaveError, AavePool, ReserveParams

WETH_P = ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05)
WBTC_P = ReserveParams(ltv=0.70, liquidation_threshold=0.75, liquidation_bonus=0.10)
USDC_P = ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045)
DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}


class World:
    """A pool plus its ledger and a mutable price table; checks invariants after each op."""

    def __init__(self, prices: dict[str, int] | None = None, params: dict[str, ReserveParams] | None = None) -> None:
        self.prices = prices or {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
        params = params or {"WETH": WETH_P, "WBTC": WBTC_P, "USDC": USDC_P}
        self.ledger = Ledger(DEC)
        self.pool = AavePool("aave", self.ledger, {a: p.to_config(DEC[a]) for a, p in params.items()},
                             lambda a: self.prices[a])

    def check(self) -> None:
        assert self.pool.invariant_errors() == []
        assert self.ledger.conservation_errors() == []

    def fund_and_supply(self, now: int, who: str, asset: str, amount: int) -> None:
        self.ledger.mint(asset, who, amount)
        self.pool.supply(now, who, asset, amount)
        self.check()


@pytest.fixture
def w() -> World:
    world = World()
    world.fund_and_supply(0, "lp", "USDC", 10_000_000 * 10**6)
    return world


def test_health_factor_two_collaterals(w: World) -> None:
    # 10 WETH @ 2000 and 0.5 WBTC @ 60000; debt 12,345.678901 USDC @ 0.9999
    w.prices["USDC"] = 99_990_000
    w.fund_and_supply(0, "u", "WETH", 10 * 10**18)
    w.fund_and_supply(0, "u", "WBTC", 50_000_000)
    w.pool.borrow(0, "u", "USDC", 12_345_678_901)
    w.check()
    d = w.pool.account_data(0, "u")
    # GenericLogic._getUserBalanceInBaseCurrency: balance * price / unit (floor)
    weth_base = 10 * 10**18 * 2000_00000000 // 10**18  # 2_000_000_000_000
    wbtc_base = 50_000_000 * 60000_00000000 // 10**8  # 3_000_000_000_000
    # _getUserDebtInBaseCurrency: mulDivCeil(debt, price, unit)
    debt_base = -(-12_345_678_901 * 99_990_000 // 10**6)  # 1_234_444_433_310.99.. rounds up
    assert debt_base == 1_234_444_433_311
    lt_sum = weth_base * 8250 + wbtc_base * 7500
    ltv_sum = weth_base * 8000 + wbtc_base * 7000
    # healthFactor = wadDiv(Σ value*LT, debt) / 1e4 ; wadDiv = (a*WAD + b/2) / b
    hf = (lt_sum * 10**18 + debt_base // 2) // debt_base // 10_000
    assert d.total_collateral_base == weth_base + wbtc_base
    assert d.total_debt_base == debt_base
    assert d.avg_liquidation_threshold == lt_sum // (weth_base + wbtc_base) == 7800
    assert d.avg_ltv == ltv_sum // (weth_base + wbtc_base) == 7400
    assert d.health_factor == hf == 3_159_315_960_087_004_366  # ~ 39,000 / 12,344.44


def test_no_debt_health_factor_is_max(w: World) -> None:
    w.fund_and_supply(0, "u", "WETH", 10**18)
    assert w.pool.account_data(0, "u").health_factor == UINT256_MAX
    assert w.pool.account_data(0, "nobody").total_collateral_base == 0


def test_borrow_limits(w: World) -> None:
    w.fund_and_supply(0, "u", "WETH", 10 * 10**18)  # 20,000 USD, LTV 80 % -> 16,000
    # validateHFAndLtv: collateral >= percentDivCeil(debt, ltv): 16000.000001 * 1e4 / 8000 > 20000
    with pytest.raises(AaveError) as e:
        w.pool.borrow(0, "u", "USDC", 16_000_000_001)
    assert e.value.reason == "COLLATERAL_CANNOT_COVER_NEW_BORROW"
    # above LT: HF < 1 is checked first
    with pytest.raises(AaveError) as e:
        w.pool.borrow(0, "u", "USDC", 16_600_000_000)
    assert e.value.reason == "HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD"
    w.check()
    assert w.pool.debt_of(0, "u", "USDC") == 0  # nothing committed by the refused borrows
    w.pool.borrow(0, "u", "USDC", 16_000_000_000)
    w.check()
    assert w.ledger.balance_of("USDC", "u") == 16_000_000_000
    assert w.pool.debt_of(0, "u", "USDC") == 16_000_000_000


def test_borrow_without_collateral_refused(w: World) -> None:
    with pytest.raises(AaveError) as e:
        w.pool.borrow(0, "x", "USDC", 1)
    assert e.value.reason == "LTV_VALIDATION_FAILED"


def test_withdraw_that_breaks_hf_refused(w: World) -> None:
    w.fund_and_supply(0, "u", "WETH", 10 * 10**18)
    w.pool.borrow(0, "u", "USDC", 16_000_000_000)
    # withdraw 0.4 WETH -> 9.6 WETH * 2000 * 0.825 = 15,840 < 16,000 -> HF < 1
    with pytest.raises(AaveError) as e:
        w.pool.withdraw(0, "u", "WETH", 4 * 10**17)
    assert e.value.reason == "HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD"
    # 0.3 WETH keeps HF = 9.7*2000*0.825/16000 = 1.000312.. >= 1
    assert w.pool.withdraw(0, "u", "WETH", 3 * 10**17) == 3 * 10**17
    w.check()


def test_repay_and_withdraw_max(w: World) -> None:
    w.fund_and_supply(0, "u", "WETH", 10**18)
    w.pool.borrow(0, "u", "USDC", 500_000_000)
    assert w.pool.repay(0, "u", "USDC", MAX_AMOUNT) == 500_000_000
    assert w.pool.debt_of(0, "u", "USDC") == 0
    with pytest.raises(AaveError) as e:
        w.pool.repay(0, "u", "USDC", 1)
    assert e.value.reason == "NO_DEBT_OF_SELECTED_TYPE"
    assert w.pool.withdraw(0, "u", "WETH", MAX_AMOUNT) == 10**18
    assert not w.pool.is_collateral("u", "WETH")
    w.check()


def test_supply_enables_collateral_only_with_ltv() -> None:
    params = {"WETH": WETH_P, "USDC": ReserveParams(ltv=0.0, liquidation_threshold=0.0, liquidation_bonus=0.0)}
    world = World(params=params)
    world.fund_and_supply(0, "u", "WETH", 10**18)
    world.fund_and_supply(0, "u", "USDC", 10**6)
    assert world.pool.is_collateral("u", "WETH")
    assert not world.pool.is_collateral("u", "USDC")


def test_interest_one_day_matches_compounded_formula() -> None:
    # USDC curve: base 0, slope1 4 %, slope2 60 %, optimal 90 %, reserve factor 10 %.
    world = World()
    world.fund_and_supply(0, "lp", "USDC", 1_000_000 * 10**6)
    world.fund_and_supply(0, "b", "WETH", 1000 * 10**18)
    world.pool.borrow(0, "b", "USDC", 500_000 * 10**6)
    world.check()
    r = world.pool.snapshot(0).reserves[2]
    # updateInterestRatesAndVirtualBalance after the borrow (virtual before = 1e12, taken 5e11)
    debt = 500_000 * 10**6
    avail = 1_000_000 * 10**6 - debt
    usage = (debt * RAY + (avail + debt) // 2) // (avail + debt)  # rayDiv -> 0.5 RAY
    assert usage == RAY // 2
    slope1, opt = 400 * 10**23, 9000 * 10**23
    var_rate = ((slope1 * usage + RAY // 2) // RAY * RAY + opt // 2) // opt  # rayDiv(rayMul(s1,u),opt)
    liq_rate = (((var_rate * usage + RAY // 2) // RAY) * 9000 + 5000) // 10_000  # percentMul(.., 1e4-RF)
    assert r.current_variable_borrow_rate == var_rate == 22_222_222_222_222_222_222_222_222
    assert r.current_liquidity_rate == liq_rate
    assert r.virtual_underlying_balance == avail

    day = 86_400
    # MathUtils.calculateCompoundedInterest: x = rate*dt/YEAR; RAY + x + rayMul(x, x/2 + rayMul(x, x/6))
    x = var_rate * day // 31_536_000
    growth = RAY + x + (x * (x // 2 + (x * (x // 6) + RAY // 2) // RAY) + RAY // 2) // RAY
    borrow_index = (growth * RAY + RAY // 2) // RAY  # rayMul(growth, RAY)
    # calculateLinearInterest for the liquidity index
    liq_index = ((RAY + liq_rate * day // 31_536_000) * RAY + RAY // 2) // RAY
    # VariableDebtToken.balanceOf = rayMulCeil(scaled, index); scaled = 5e11 (index was RAY)
    expected_debt = -(-debt * borrow_index // RAY)
    # (continuous compounding would give 500000 * (e^(r/365) - 1) = 30.4423270 USDC of interest)
    assert world.pool.debt_of(day, "b", "USDC") == expected_debt == 500_030_442_328
    assert world.pool.collateral_of(day, "lp", "USDC") == 10**12 * liq_index // RAY

    # an action at `day` writes the indexes and accrues the treasury share (_accrueToTreasury)
    world.ledger.mint("USDC", "b", 10**6)
    world.pool.repay(day, "b", "USDC", 10**6)
    world.check()
    r2 = world.pool.snapshot(day).reserves[2]
    assert r2.variable_borrow_index == borrow_index
    assert r2.liquidity_index == liq_index
    accrued = debt * (borrow_index - RAY) // RAY  # rayMulFloor(scaledDebt, Δindex)
    to_mint = (accrued * 1000 + 5000) // 10_000  # percentMul(.., RF)
    assert r2.accrued_to_treasury == to_mint * RAY // liq_index  # rayDivFloor(.., liqIndex)


def test_collect_treasury_pays_reserve_factor_income() -> None:
    world = World()
    world.fund_and_supply(0, "lp", "USDC", 1_000_000 * 10**6)
    world.fund_and_supply(0, "b", "WETH", 1000 * 10**18)
    world.pool.borrow(0, "b", "USDC", 500_000 * 10**6)
    world.ledger.mint("USDC", "b", 10**6)
    world.pool.repay(86_400, "b", "USDC", 10**6)
    accrued_scaled = world.pool.snapshot(86_400).reserves[2].accrued_to_treasury
    index = world.pool.snapshot(86_400).reserves[2].liquidity_index
    got = world.pool.collect_treasury(86_400, "USDC", "dao")
    # mintToTreasury(accrued, normalizedIncome); withdraw max pays rayMulFloor(scaled, index)
    assert got == accrued_scaled * index // RAY > 0
    assert world.ledger.balance_of("USDC", "dao") == got
    world.check()


def test_snapshot_is_comparable(w: World) -> None:
    w.fund_and_supply(0, "u", "WETH", 10**18)
    a, b = w.pool.snapshot(5), w.pool.snapshot(5)
    assert a == b
    acct = {s.account: s for s in a.accounts}["u"]
    assert acct.scaled_collateral == (("WETH", 10**18),)
    assert acct.collateral_enabled == ("WETH",)


def test_time_cannot_go_backwards(w: World) -> None:
    w.fund_and_supply(10, "u", "WETH", 10**18)
    w.ledger.mint("WETH", "u", 10**18)
    with pytest.raises(ValueError):
        w.pool.supply(5, "u", "WETH", 10**18)


def test_open_position_equals_separate_supply_and_borrow() -> None:
    one, two = World(), World()
    for world in (one, two):
        world.fund_and_supply(0, "lp", "USDC", 10_000_000 * 10**6)
        world.ledger.mint("WETH", "u", 3 * 10**18)
        world.ledger.mint("WBTC", "u", 10**7)
    one.pool.supply(100, "u", "WETH", 3 * 10**18)
    one.pool.supply(100, "u", "WBTC", 10**7)
    one.pool.borrow(100, "u", "USDC", 4_000 * 10**6)
    two.pool.open_position(100, "u", {"WETH": 3 * 10**18, "WBTC": 10**7}, {"USDC": 4_000 * 10**6})
    assert one.pool.snapshot(100) == two.pool.snapshot(100)
    assert one.ledger.holders("USDC") == two.ledger.holders("USDC")
    two.check()


def test_open_position_is_atomic_when_the_borrow_is_refused(w: World) -> None:
    w.ledger.mint("WETH", "u", 10**18)
    before = w.pool.snapshot(0)
    with pytest.raises(AaveError) as info:
        w.pool.open_position(0, "u", {"WETH": 10**18}, {"USDC": 1_620 * 10**6})  # > 80 % LTV, < 82.5 % LT
    assert info.value.reason == "COLLATERAL_CANNOT_COVER_NEW_BORROW"
    assert w.pool.snapshot(0) == before
    assert w.ledger.balance_of("WETH", "u") == 10**18
    w.check()
