"""Collateral exhausted with debt left: deficit, insurance-fund draw, socialisation to suppliers.

Bob's 10 WETH back 16,000 USDC; WETH drops to 1,000 so his collateral (10,000 USD) cannot
cover the debt. The liquidator takes all the collateral (repaying 10,000 / 1.05 USDC worth), the
rest of the debt becomes reserve deficit; the 1,000 USDC insurance fund pays what it can and the
remainder is written off against USDC suppliers by lowering the liquidity index.
"""

from __future__ import annotations

import pytest

import defisim
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    PositionLiquidated,
)
from tests.integration.scenarios import one_liquidation

USDC = 10**6


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    data = one_liquidation()
    data["prices"]["assets"]["WETH"]["points"] = [[0, 2000], [5, 2000], [6, 1000]]
    aave = data["protocols"][0]
    aave["insurance_fund"] = {"asset": "USDC", "initial": "1000 USDC", "liquidation_fee_share": 0.0}
    aave.pop("fee_burn")
    return defisim.simulate(defisim.scenario_from_dict(data))


def test_deficit_equals_debt_left_after_all_collateral_is_seized(result: defisim.Result) -> None:
    (liq,) = result.records.of_type(PositionLiquidated)
    (bad,) = result.records.of_type(BadDebtRealized)
    assert liq.collateral_seized + liq.protocol_fee == 10 * 10**18  # everything
    assert bad.block == liq.block and bad.account == "bob" and bad.asset == "USDC"
    assert bad.amount == 16_000 * USDC - liq.debt_repaid
    assert bad.amount_usd == bad.amount * 10**8 // USDC


def test_fund_pays_what_it_has_and_the_rest_is_socialised(result: defisim.Result) -> None:
    (bad,) = result.records.of_type(BadDebtRealized)
    (drawn,) = result.records.of_type(InsuranceFundDrawn)
    (social,) = result.records.of_type(BadDebtSocialized)
    # eliminate_deficit supplies the payment first; rounding may leave 1 wei as aTokens
    assert 1000 * USDC - 1 <= drawn.amount <= 1000 * USDC
    assert drawn.balance_after == 0
    assert social.amount == bad.amount - drawn.amount
    pool = result.world.protocols["aave"]
    assert pool.deficit("USDC") == 0
    assert result.world.invariant_errors() == []


def test_suppliers_bear_the_socialised_loss(result: defisim.Result) -> None:
    (social,) = result.records.of_type(BadDebtSocialized)
    pool = result.world.protocols["aave"]
    now = result.world.now()
    supplied = pool.collateral_of(now, "supplier:aave", "USDC")
    # 1,000,000 USDC supplied at zero interest; the loss comes off (rounded against suppliers)
    assert 1_000_000 * USDC - social.amount - 2 <= supplied <= 1_000_000 * USDC - social.amount


def test_summary_reports_the_split(result: defisim.Result) -> None:
    s = result.summary["protocols"]["aave"]
    (bad,) = result.records.of_type(BadDebtRealized)
    assert s["bad_debt_usd"] == round(bad.amount / USDC, 2)
    assert s["insurance_fund_drawn_usd"] + s["socialized_usd"] == pytest.approx(s["bad_debt_usd"], abs=0.02)


def test_a_fund_held_in_another_token_sells_it_for_the_deficit_token() -> None:
    data = one_liquidation()
    data["prices"]["assets"]["WETH"]["points"] = [[0, 2000], [5, 2000], [6, 1000]]
    aave = data["protocols"][0]
    aave["insurance_fund"] = {"asset": "WETH", "initial": "0.5 WETH", "liquidation_fee_share": 0.0}
    aave.pop("fee_burn")
    result = defisim.simulate(defisim.scenario_from_dict(data))
    (bad,) = result.records.of_type(BadDebtRealized)
    (drawn,) = result.records.of_type(InsuranceFundDrawn)
    sales = [s for s in result.records if s.kind == "SwapExecuted" and s.trader == "insurance:aave"]
    assert len(sales) == 1 and sales[0].token_in == "WETH" and sales[0].amount_in == 5 * 10**17
    assert drawn.asset == "USDC" and drawn.amount in (sales[0].amount_out, sales[0].amount_out - 1)
    assert drawn.amount < bad.amount  # half a WETH cannot cover it; the rest is socialised
    (social,) = result.records.of_type(BadDebtSocialized)
    assert social.amount == bad.amount - drawn.amount


def test_reserve_income_funds_the_insurance_fund() -> None:
    data = one_liquidation()
    data["chain"]["blocks"] = 600
    data["prices"]["assets"]["WETH"] = {"start": 2000}
    aave = data["protocols"][0]
    aave["reserves"]["USDC"].update({"variable_rate_slope1": 0.5, "variable_rate_slope2": 0.9,
                                     "reserve_factor": 0.2})
    aave["suppliers"] = {"USDC": "20000 USDC"}  # bob's 16,000 USDC loan makes utilisation 80 %
    aave["insurance_fund"] = {"asset": "USDC", "reserve_income_share": 1.0, "liquidation_fee_share": 0.0}
    aave.pop("fee_burn")
    aave["treasury_every_blocks"] = 100
    result = defisim.simulate(defisim.scenario_from_dict(data))
    funded = [r for r in result.records if r.kind == "InsuranceFundFunded"]
    assert funded and {r.source for r in funded} == {"reserve income"}
    assert [r.block % 100 for r in funded] == [0] * len(funded)
    total = sum(r.amount for r in funded)
    assert result.world.ledger.balance_of("USDC", "insurance:aave") == total == funded[-1].balance_after
    # two hours of interest on 16,000 USDC at ~44 %/year, 20 % to the treasury: about 0.32 USDC
    assert 200_000 < total < 450_000
