"""Aave 3.0 rule set (``AavePool(..., version="3.0")``): hand-computed exact cases.

Every expected integer below was derived from the 3.0 Solidity formulas
(``@aave/core-v3@1.19.3``), written out in the comments; none was copied from the model's output.
Notation: ``rmul``/``rdiv``/``pmul``/``pdiv``/``wdiv`` are half-up ``rayMul``/``rayDiv``/
``percentMul``/``percentDiv``/``wadDiv``; SPY = 31,536,000 s.

Reserves (``ReserveParams`` defaults: protocol fee 10 %, reserve factor 10 %, optimal usage
90 %, base 0, slope1 4 %, slope2 60 %): WETH (18 dp) LTV 80 % / LT 82.5 % / bonus 5 %;
USDC (6 dp) 75 % / 78 % / 4.5 %. Prices 8 dp, USDC at 1.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import defisim
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import (
    MAX_AMOUNT,
    AaveError,
    AavePool,
    LiquidationOutcome,
    LiquidationRefusal,
    ReserveParams,
)
from defisim.engine.protocols.aave_v3._v30 import AavePoolV30
from defisim.scenario.kinds.protocols import AaveV3Spec
from tests.integration.scenarios import one_liquidation

RAY = 10**27
WAD = 10**18
SPY = 31_536_000
USDC = 10**6
WETH = 10**18
DEC = {"WETH": 18, "USDC": 6}
PARAMS = {
    "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05),
    "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045),
}


def _pool(version: str, prices: dict[str, int], lp: dict[str, int]) -> tuple[AavePool, Ledger]:
    ledger = Ledger(DEC)
    pool = AavePool(
        "aave", ledger, {a: p.to_config(DEC[a]) for a, p in PARAMS.items()}, prices.__getitem__,
        version=version,
    )
    for asset, amount in lp.items():
        ledger.mint(asset, "lp", amount)
        pool.supply(0, "lp", asset, amount)
    return pool, ledger


def _liquidate(pool: AavePool, ledger: Ledger, now: int, coll: str, debt: str, user: str,
               amount: int) -> LiquidationOutcome | LiquidationRefusal:
    ledger.mint(debt, "liq", 10**30)
    return pool.liquidation_call(now, "liq", coll, debt, user, amount)


# --- construction ---------------------------------------------------------------------------


def test_version_selects_the_rule_set() -> None:
    p30, _ = _pool("3.0", {"WETH": 2000 * 10**8, "USDC": 10**8}, {})
    p36, _ = _pool("3.6", {"WETH": 2000 * 10**8, "USDC": 10**8}, {})
    assert isinstance(p30, AavePoolV30) and isinstance(p30, AavePool)
    assert type(p36) is AavePool
    assert (p30.rules.version, p36.rules.version) == ("3.0", "3.6")
    assert p30.rules.min_base_max_close_factor is None and not p30.rules.books_deficit
    with pytest.raises(AaveError) as exc:
        _pool("3.1", {"WETH": 1, "USDC": 1}, {})
    assert exc.value.reason == "UNSUPPORTED_VERSION"


# --- close factor -----------------------------------------------------------------------------


def _two_debts(version: str, weth_price: int) -> tuple[AavePool, Ledger, dict[str, int]]:
    """b: 10 WETH collateral, debts 10,000 USDC + 1 WETH (opened at WETH = 2,000)."""
    prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool(version, prices, {"USDC": 100_000 * USDC, "WETH": 100 * WETH})
    ledger.mint("WETH", "b", 10 * WETH)
    pool.supply(0, "b", "WETH", 10 * WETH)
    pool.borrow(0, "b", "USDC", 10_000 * USDC)
    pool.borrow(0, "b", "WETH", WETH)
    prices["WETH"] = weth_price
    return pool, ledger, prices


def test_close_factor_is_half_of_the_reserve_debt_above_hf_095() -> None:
    # WETH = 1,317: collateral 10 * 1317e8 = 1,317,000,000,000 base; debt 1e12 + 1317e8.
    # HF = wdiv(pmul(1317000000000, 8250), 1131700000000) = wdiv(1086525000000, 1131700000000)
    pool, ledger, _ = _two_debts("3.0", 1317 * 10**8)
    assert pool.account_data(0, "b").health_factor == 960082177255456393
    # 3.0: pmul(10,000 USDC, 5000) -- half of the USDC debt, not of the total debt (3.6 caps at
    # 50 % of 11,317 USD = 5,658.5 USDC).
    assert pool.max_liquidatable_debt(0, "WETH", "USDC", "b") == 5_000 * USDC
    out = _liquidate(pool, ledger, 0, "WETH", "USDC", "b", MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome)
    # base = 1e8 * 5e9 * 1e18 // (1317e8 * 1e6) = 3796507213363705391
    # max  = pmul(base, 10500) = 3986332574031890661 (< 10 WETH)
    # fee  = pmul(max - pdiv(max, 10500), 1000) = 18982536066818527
    assert out.debt_repaid == 5_000 * USDC
    assert out.collateral_seized == 3986332574031890661 - 18982536066818527
    assert out.protocol_fee == 18982536066818527
    assert pool.debt_of(0, "b", "USDC") == 5_000 * USDC
    assert pool.collateral_of(0, "b", "WETH") == 10 * WETH - 3986332574031890661
    assert pool.collateral_of(0, "aave:treasury", "WETH") == 18982536066818527
    assert pool.invariant_errors() == []

    p36, _, _ = _two_debts("3.6", 1317 * 10**8)
    assert p36.max_liquidatable_debt(0, "WETH", "USDC", "b") == 5_658_500_000


def test_close_factor_is_the_whole_reserve_debt_at_or_below_hf_095() -> None:
    # WETH = 1,300: HF = wdiv(pmul(1.3e12, 8250), 1.13e12) = wdiv(1.0725e12, 1.13e12)
    pool, ledger, _ = _two_debts("3.0", 1300 * 10**8)
    assert pool.account_data(0, "b").health_factor == 949115044247787611
    assert pool.max_liquidatable_debt(0, "WETH", "USDC", "b") == 10_000 * USDC
    out = _liquidate(pool, ledger, 0, "WETH", "USDC", "b", MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome)
    # base = 1e8 * 1e10 * 1e18 // (1300e8 * 1e6) = 7692307692307692307; max = 8076923076923076922
    # fee = pmul(max - pdiv(max, 10500), 1000) = 38461538461538462
    assert (out.debt_repaid, out.collateral_seized, out.protocol_fee) == (
        10_000 * USDC, 8076923076923076922 - 38461538461538462, 38461538461538462
    )
    assert pool.is_collateral("b", "WETH")  # 10 WETH were not all taken
    assert "USDC" not in pool._borrow["b"] and "WETH" in pool._borrow["b"]


# --- no dust rule -------------------------------------------------------------------------------


def _dust_case(version: str) -> tuple[AavePool, Ledger]:
    """b: 2 WETH, 3,000 USDC debt; WETH 2,000 -> 1,700 (HF 0.935 under both versions)."""
    prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool(version, prices, {"USDC": 100_000 * USDC})
    ledger.mint("WETH", "b", 2 * WETH)
    pool.supply(0, "b", "WETH", 2 * WETH)
    pool.borrow(0, "b", "USDC", 3_000 * USDC)
    prices["WETH"] = 1700 * 10**8
    return pool, ledger


def test_no_dust_revert_where_36_reverts() -> None:
    p36, l36 = _dust_case("3.6")
    refused = _liquidate(p36, l36, 0, "WETH", "USDC", "b", 2_500 * USDC)
    assert isinstance(refused, LiquidationRefusal) and refused.reason == "MUST_NOT_LEAVE_DUST"

    pool, ledger = _dust_case("3.0")
    # HF = wdiv(pmul(3400e8, 8250), 3000e8) = wdiv(2805e8, 3000e8) = 0.935
    assert pool.account_data(0, "b").health_factor == 935 * 10**15
    out = _liquidate(pool, ledger, 0, "WETH", "USDC", "b", 2_500 * USDC)
    assert isinstance(out, LiquidationOutcome)
    # base = 1e8 * 2.5e9 * 1e18 // (1700e8 * 1e6) = 1470588235294117647
    # max  = pmul(base, 10500) = 1544117647058823529
    # pdiv(max, 10500) = 1470588235294117647 -> bonus 73529411764705882 -> fee 7352941176470588
    assert out.debt_repaid == 2_500 * USDC
    assert out.protocol_fee == 7352941176470588
    assert out.collateral_seized == 1544117647058823529 - 7352941176470588
    # 500 USDC of debt and 455882352941176471 wei (~775 USD) of collateral are left: dust is fine
    assert pool.debt_of(0, "b", "USDC") == 500 * USDC
    assert pool.collateral_of(0, "b", "WETH") == 2 * WETH - 1544117647058823529
    # value = 455882352941176471 * 1700e8 // 1e18 = 77500000000; pmul(., 8250) = 63937500000
    # HF = wdiv(63937500000, 500e8) = 1.27875
    assert out.health_after == 1_278_750_000_000_000_000


# --- collateral exhausted: the debt stays -----------------------------------------------------


def _crash(version: str) -> tuple[AavePool, Ledger]:
    """b: 1 WETH, 1,500 USDC; WETH 2,000 -> 1,000 (HF 0.55)."""
    prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool(version, prices, {"USDC": 100_000 * USDC})
    ledger.mint("WETH", "b", WETH)
    pool.supply(0, "b", "WETH", WETH)
    pool.borrow(0, "b", "USDC", 1_500 * USDC)
    prices["WETH"] = 1000 * 10**8
    return pool, ledger


def test_collateral_exhausted_leaves_the_debt_without_deficit() -> None:
    pool, ledger = _crash("3.0")
    assert pool.account_data(0, "b").health_factor == 55 * 10**16  # wdiv(825e8, 1500e8)
    out = _liquidate(pool, ledger, 0, "WETH", "USDC", "b", MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome)
    # base = 1e8 * 1.5e9 * 1e18 // (1000e8 * 1e6) = 1.5e18; max = 1.575e18 > 1 WETH, so
    # collateral = 1 WETH and debt = pdiv(1000e8 * 1e18 * 1e6 // (1e8 * 1e18), 10500)
    #                              = pdiv(1e9, 10500) = 952380952   (3.6: ceil, 952380953)
    # fee = pmul(1e18 - pdiv(1e18, 10500), 1000) = pmul(47619047619047619, 1000) = 4761904761904762
    assert out.debt_repaid == 952_380_952
    assert out.protocol_fee == 4761904761904762
    assert out.collateral_seized == WETH - 4761904761904762
    assert out.collateral_disabled and not pool.is_collateral("b", "WETH")
    left = 1_500 * USDC - 952_380_952
    assert out.deficits == () and out.deficits_usd == ()
    assert out.unbacked_debt == (("USDC", left),)
    assert out.health_after == 0  # wdiv(pmul(0, 0), debt)
    assert pool.deficit("USDC") == 0
    assert pool.debt_of(0, "b", "USDC") == left
    assert pool.unbacked_debt(0) == {"USDC": left}
    assert pool.snapshot(0).reserves[1].deficit == 0
    # the deficit tools have nothing to do
    assert pool.eliminate_deficit(0, "lp", "USDC", 10 * USDC) == 0
    assert pool.socialize_deficit(0, "USDC") == 0
    assert pool.invariant_errors() == []

    p36, l36 = _crash("3.6")
    out36 = _liquidate(p36, l36, 0, "WETH", "USDC", "b", MAX_AMOUNT)
    assert isinstance(out36, LiquidationOutcome)
    assert out36.debt_repaid == 952_380_953
    assert out36.deficits == (("USDC", 1_500 * USDC - 952_380_953),)
    assert out36.unbacked_debt == () and p36.unbacked_debt(0) == {}


def test_no_self_liquidation_check_in_30() -> None:
    pool, ledger = _crash("3.0")
    ledger.mint("USDC", "b", 10**12)
    assert isinstance(pool.liquidation_call(0, "b", "WETH", "USDC", "b", 100 * USDC), LiquidationOutcome)
    p36, l36 = _crash("3.6")
    l36.mint("USDC", "b", 10**12)
    refused = p36.liquidation_call(0, "b", "WETH", "USDC", "b", 100 * USDC)
    assert isinstance(refused, LiquidationRefusal) and refused.reason == "SELF_LIQUIDATION"


# --- interest: v1 strategy, 3.0 compounding, treasury, half-up rounding -------------------------


def _year(version: str) -> tuple[AavePool, Ledger]:
    """lp: 10,000 USDC; b: 6 WETH, borrows 9,000 USDC at t=0 (usage exactly 90 %)."""
    prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool(version, prices, {"USDC": 10_000 * USDC})
    ledger.mint("WETH", "b", 6 * WETH)
    pool.supply(0, "b", "WETH", 6 * WETH)
    pool.borrow(0, "b", "USDC", 9_000 * USDC)
    return pool, ledger


def test_v1_rates_at_the_kink() -> None:
    pool, _ = _year("3.0")
    r = pool.snapshot(0).reserves[1]
    # balanceOf(aToken) = 1e10 before the payout, taken 9e9 -> usage = rdiv(9e9, 1e10) = 0.9 RAY
    # var = 0 + rdiv(rmul(4e25, 9e26), 9e26) = 4e25
    # overall = rdiv(rmul(9e18, 4e25), 9e18) = 4e25; liq = pmul(rmul(4e25, 9e26), 9000) = 3.24e25
    assert r.current_variable_borrow_rate == 4 * 10**25
    assert r.current_liquidity_rate == 324 * 10**23
    assert r.virtual_underlying_balance == 1_000 * USDC  # = balanceOf(aToken) in 3.0


def test_one_year_of_interest_with_30_formulas() -> None:
    pool, ledger = _year("3.0")
    ledger.mint("USDC", "x", 15)
    pool.supply(SPY, "x", "USDC", 15)
    r = pool.snapshot(SPY).reserves[1]
    # liquidity index = rmul(RAY + 3.24e25 * SPY // SPY, RAY) = 1.0324e27
    assert r.liquidity_index == 10324 * 10**23
    # calculateCompoundedInterest (3.0), rate 4e25, exp = SPY:
    #   bp2 = rmul(4e25, 4e25) // SPY**2 = 1.6e24 // 994519296000000 = 1608817452
    #   bp3 = rmul(1608817452, 4e25) // SPY = 64352698 // 31536000 = 2
    #   RAY + 4e25 + SPY*(SPY-1)*bp2 // 2 + SPY*(SPY-1)*(SPY-2)*bp3 // 6
    #   = 1040810454360354976037888000          (3.6 formula: 1040810666666666666666666667)
    assert r.variable_borrow_index == 1040810454360354976037888000
    # _accrueToTreasury: rmul(9e9, idx) - rmul(9e9, RAY) = 9367294089 - 9e9 = 367294089
    #   pmul(367294089, 1000) = 36729409; rdiv(36729409, 1.0324e27) = 35576723
    assert r.accrued_to_treasury == 35_576_723
    # supply of 15 wei: rdiv(15, 1.0324e27) = round(14.529) = 15 scaled (3.6 floors to 14)
    assert pool._a["USDC"]["x"] == 15
    assert pool.collateral_of(SPY, "x", "USDC") == 15  # rmul(15, 1.0324e27) = round(15.486)
    # rates after: debt D = 9367294089, available = 1e9 + 15 (balance before the transfer + added)
    #   u = rdiv(D, D + 1e9 + 15) = 903542814068121087037312432 (> 0.9)
    #   var = 4e25 + rmul(6e26, rdiv(u - 9e26, 1e26)) = 61256884408726522223874592
    #   overall = rdiv(rmul(D * 1e9, var), D * 1e9) = 61256884408726522261748112 (!= var)
    #   liq = pmul(rmul(overall, u), 9000) = 49813395947735736271729482
    assert r.current_variable_borrow_rate == 61256884408726522223874592
    assert r.current_liquidity_rate == 49813395947735736271729482
    assert pool.invariant_errors() == []

    p36, l36 = _year("3.6")
    l36.mint("USDC", "x", 15)
    p36.supply(SPY, "x", "USDC", 15)
    assert p36.snapshot(SPY).reserves[1].variable_borrow_index == 1040810666666666666666666667
    assert p36.collateral_of(SPY, "x", "USDC") == 14


def test_one_wei_supply_rounds_half_up() -> None:
    pool, ledger = _year("3.0")
    ledger.mint("USDC", "x", 1)
    pool.supply(SPY, "x", "USDC", 1)  # rdiv(1, 1.0324e27) = round(0.9686) = 1 scaled
    assert pool._a["USDC"]["x"] == 1 and pool.collateral_of(SPY, "x", "USDC") == 1
    p36, l36 = _year("3.6")
    l36.mint("USDC", "x", 1)
    with pytest.raises(AaveError) as exc:
        p36.supply(SPY, "x", "USDC", 1)  # floor: 0 scaled
    assert exc.value.reason == "INVALID_AMOUNT"


def test_update_state_checks_the_stored_timestamp() -> None:
    """Same-asset liquidation: 3.0 accrues the treasury once (3.6 twice, from two caches)."""

    def build(version: str) -> tuple[AavePool, Ledger, dict[str, int]]:
        prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
        pool, ledger = _pool(version, prices, {"USDC": 100_000 * USDC, "WETH": 100 * WETH})
        ledger.mint("USDC", "b", 10_000 * USDC)
        pool.supply(0, "b", "USDC", 10_000 * USDC)
        pool.borrow(0, "b", "USDC", 3_000 * USDC)
        pool.borrow(0, "b", "WETH", 2 * WETH)
        prices["WETH"] = 2600 * 10**8
        return pool, ledger, prices

    pool, ledger, _ = build("3.0")
    ref, _, _ = build("3.0")
    ref.touch_reserve(86_400, "USDC")  # one accrual to t
    out = _liquidate(pool, ledger, 86_400, "USDC", "USDC", "b", 100 * USDC)
    assert isinstance(out, LiquidationOutcome)
    assert pool.snapshot(0).reserves[1].accrued_to_treasury == ref.snapshot(0).reserves[1].accrued_to_treasury


def test_screen_finds_accounts_pushed_under_by_the_truncated_average_threshold() -> None:
    prices = {"WETH": 3000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool("3.0", prices, {"USDC": 100_000 * USDC})
    ledger.mint("WETH", "c", WETH // 2)
    ledger.mint("USDC", "c", 999 * USDC)
    pool.supply(0, "c", "WETH", WETH // 2)
    pool.supply(0, "c", "USDC", 999 * USDC)
    pool.borrow(0, "c", "USDC", 1_604_210_000)
    prices["WETH"] = 2000 * 10**8
    # collateral 1000e8 + 999e8; avgLT = (1000 * 8250 + 999 * 7800) // 1999 = 8025 (8025.11 exact)
    # HF = wdiv(pmul(1999e8, 8025), 1604.21e8) = wdiv(160419750000, 160421000000) < 1, while the
    # untruncated HF is 1604.22 / 1604.21 = 1 + 6.2e-6: outside 3.6's 1e-6 screen margin.
    assert pool.account_data(0, "c").health_factor == 999992208002692914
    assert pool.liquidatable_accounts(0) == ["c"]


# --- borrow / withdraw / repay -------------------------------------------------------------------


def test_borrow_validation_runs_before_the_mint() -> None:
    prices = {"WETH": 2000 * 10**8, "USDC": 10**8}
    pool, ledger = _pool("3.0", prices, {"USDC": 100_000 * USDC})
    with pytest.raises(AaveError) as exc:
        pool.borrow(0, "nobody", "USDC", USDC)
    assert exc.value.reason == "COLLATERAL_BALANCE_IS_ZERO"
    ledger.mint("WETH", "b", WETH)
    pool.supply(0, "b", "WETH", WETH)
    # pdiv(0 + 1600.000001e8, 8000) = 200000000125 > 2000e8
    with pytest.raises(AaveError) as exc:
        pool.borrow(0, "b", "USDC", 1_600 * USDC + 1)
    assert exc.value.reason == "COLLATERAL_CANNOT_COVER_NEW_BORROW"
    pool.borrow(0, "b", "USDC", 1_600 * USDC)  # pdiv(1600e8, 8000) = 2000e8: allowed
    # HF now wdiv(pmul(2000e8, 8250), 1600e8) = 1.03125 > 1, but LTV is used up
    with pytest.raises(AaveError) as exc:
        pool.borrow(0, "b", "USDC", 1)
    assert exc.value.reason == "COLLATERAL_CANNOT_COVER_NEW_BORROW"
    with pytest.raises(AaveError) as exc:
        pool.borrow(0, "b", "USDC", 0)
    assert exc.value.reason == "INVALID_AMOUNT"


def test_withdraw_and_repay_max() -> None:
    pool, ledger = _year("3.0")
    t = SPY
    debt = pool.debt_of(t, "b", "USDC")
    assert debt == 9_367_294_089  # rmul(9e9, 1040810454360354976037888000)
    ledger.mint("USDC", "b", debt)
    assert pool.repay(t, "b", "USDC", MAX_AMOUNT) == debt
    assert "USDC" not in pool._borrow.get("b", ()) and pool._d["USDC"] == {}
    # lp: rmul(1e10, 1.0324e27) = 10,324 USDC; cash is 1e9 + 9367294089 = 10,367.294089 USDC
    assert pool.withdraw(t, "lp", "USDC", MAX_AMOUNT) == 10_324 * USDC
    assert pool.invariant_errors() == []


def test_treasury_collects_and_keeps_working() -> None:
    pool, ledger = _year("3.0")
    pool.touch_reserve(SPY, "USDC")
    # accrued 35576723 scaled (see above): rmul(35576723, 1.0324e27) = 36729409 underlying
    assert pool.collect_treasury(SPY, "USDC", "t") == 36_729_409
    assert ledger.balance_of("USDC", "t") == 36_729_409
    assert pool.invariant_errors() == []


# --- scenario kind -------------------------------------------------------------------------------


def _spec(**extra: object) -> dict[str, object]:
    return {
        "kind": "aave-v3", "name": "aave", "oracles": {"WETH": "eth-usd"},
        "reserves": {"WETH": {"ltv": 0.8, "liquidation_threshold": 0.825, "liquidation_bonus": 0.05}},
        **extra,
    }


def test_scenario_kind_accepts_the_version() -> None:
    assert AaveV3Spec.model_validate(_spec()).version == "3.6"
    assert AaveV3Spec.model_validate(_spec(version="3.0")).version == "3.0"
    with pytest.raises(ValidationError) as exc:
        AaveV3Spec.model_validate(_spec(version="3.1"))
    assert exc.value.errors()[0]["loc"] == ("version",)


def test_scenario_runs_under_30_and_keeps_bad_debt_on_the_account() -> None:
    from defisim.engine.records import BadDebtRealized, PositionLiquidated

    data = one_liquidation()
    data["prices"]["assets"]["WETH"]["points"] = [[0, 2000], [5, 2000], [6, 1000]]
    aave = data["protocols"][0]
    aave["version"] = "3.0"
    aave["insurance_fund"] = {"asset": "USDC", "initial": "1000 USDC", "liquidation_fee_share": 0.0}
    aave.pop("fee_burn")
    result = defisim.simulate(defisim.scenario_from_dict(data))
    pool = result.world.protocols["aave"]
    assert isinstance(pool, AavePoolV30)
    liqs = result.records.of_type(PositionLiquidated)
    (bad,) = result.records.of_type(BadDebtRealized)  # reported, but left on the account
    (liq,) = liqs
    assert (bad.account, bad.asset, bad.block) == ("bob", "USDC", liq.block)
    assert pool.deficit("USDC") == 0
    now = result.world.now()
    assert not pool.is_collateral("bob", "WETH")  # all 10 WETH seized at 1,000
    assert pool.unbacked_debt(now) == {"USDC": pool.debt_of(now, "bob", "USDC")} != {}
    assert result.world.invariant_errors() == []


def test_v30_scenario_records_unbacked_debt_as_bad_debt() -> None:
    """3.0 books no deficit, but a liquidation that exhausts collateral leaves debt that the
    run reports as BadDebtRealized (and nothing for an insurance fund to cover)."""
    from pathlib import Path

    import defisim
    from defisim.engine.records import BadDebtRealized, PositionLiquidated

    root = Path(__file__).resolve().parents[5]
    scn = defisim.load_scenario(root / "scenarios" / "validation" / "aave_v30.yaml")
    result = defisim.simulate(scn)
    pool = result.world.protocols["aave"]
    bad = result.records.of_type(BadDebtRealized)
    assert bad, "the one-minute crash must leave some positions without collateral"
    unbacked = pool.unbacked_debt(result.world.now())
    # recorded when collateral ran out; interest has grown the unbacked debt since
    assert 0 < sum(b.amount for b in bad if b.asset == "USDC") <= unbacked.get("USDC", 0)
    assert pool.deficit("USDC") == 0
    liquidated = {r.account for r in result.records.of_type(PositionLiquidated)}
    assert {b.account for b in bad} <= liquidated
