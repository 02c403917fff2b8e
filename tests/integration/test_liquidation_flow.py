"""One liquidation through the whole engine, every number checked by hand.

Bob supplies 10 WETH and borrows 16,000 USDC on an Aave V3 pool with zero interest rates.
WETH's reference price steps from 2,000 to 1,800 at block 6. The Chainlink feed sees the move
at block 6 and its round lands one block later, so the liquidator can act only in block 7.
At 1,800, HF = 10 * 1800 * 0.825 / 16000 = 0.928 <= 0.95: the close factor is 100 %.
"""

from __future__ import annotations

import pytest

import defisim
from defisim.engine.markets.uniswap_v2 import get_amount_out
from tests.integration.scenarios import one_liquidation
from defisim.engine.records import (
    InsuranceFundFunded,
    LiquidationRefused,
    PositionLiquidated,
    PriceUpdated,
    SwapExecuted,
    TokensBurned,
)


WAD = 10**18
BPS = 10_000


def percent_mul(x: int, bps: int) -> int:
    return (x * bps + BPS // 2) // BPS


def percent_div(x: int, bps: int) -> int:
    return (x * BPS + bps // 2) // bps


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    scenario = defisim.scenario_from_dict(one_liquidation())
    return defisim.simulate(scenario)


def test_oracle_round_lands_one_block_after_the_move(result: defisim.Result) -> None:
    rounds = [r for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd"]
    assert [(r.block, r.price) for r in rounds] == [(0, 2000 * 10**8), (7, 1800 * 10**8)]


def test_liquidation_happens_in_the_landing_block_with_aave_numbers(result: defisim.Result) -> None:
    (liq,) = result.records.of_type(PositionLiquidated)
    assert liq.block == 7 and liq.account == "bob" and liq.liquidator == "solo"
    # HF before: wadDiv(collateral_base * LT, debt_base) / 1e4 (GenericLogic)
    collateral_base = 10 * 1800 * 10**8
    debt_base = 16_000 * 10**8
    assert liq.health_before == (collateral_base * 8250 * WAD + debt_base // 2) // debt_base // BPS
    # 100 % close factor: the whole debt is repaid
    assert liq.debt_repaid == 16_000 * 10**6
    # LiquidationLogic._calculateAvailableCollateralToLiquidate
    base_collateral = (10**8 * liq.debt_repaid * 10**18) // (1800 * 10**8 * 10**6)
    max_collateral = percent_mul(base_collateral, 10_500)
    bonus_part = max_collateral - percent_div(max_collateral, 10_500)
    fee = percent_mul(bonus_part, 1_000)
    assert liq.protocol_fee == fee
    assert liq.collateral_seized == max_collateral - fee
    assert liq.debt_repaid_usd == 16_000 * 10**8


def test_liquidator_profit_is_amm_proceeds_minus_repaid_minus_gas(result: defisim.Result) -> None:
    (liq,) = result.records.of_type(PositionLiquidated)
    (sale,) = [s for s in result.records.of_type(SwapExecuted) if s.trader == "liquidator:solo"]
    assert sale.block == 7 and sale.token_in == "WETH" and sale.amount_in == liq.collateral_seized
    assert sale.amount_out == get_amount_out(liq.collateral_seized, 1000 * WAD, 1_800_000 * 10**6)
    (built,) = [b for b in result.records if b.kind == "BlockBuilt" and b.block == 7]
    gas_cost = 450_000 * built.base_fee * 1800 * 10**8 // WAD  # tip 0 (bid_share 0)
    assert liq.gas_cost_usd == gas_cost
    assert liq.profit_usd == (sale.amount_out - liq.debt_repaid) * 10**8 // 10**6 - gas_cost
    ledger = result.world.ledger
    assert ledger.balance_of("USDC", "liquidator:solo") == 100_000 * 10**6 - liq.debt_repaid + sale.amount_out
    assert ledger.balance_of("WETH", "liquidator:solo") == 0


def test_protocol_fee_is_split_between_fund_burn_and_treasury(result: defisim.Result) -> None:
    (liq,) = result.records.of_type(PositionLiquidated)
    fee = liq.protocol_fee
    to_fund, to_burn = fee * 5_000 // BPS, fee * 3_000 // BPS
    swaps = [s for s in result.records.of_type(SwapExecuted) if s.trader == "treasury:aave"]
    fund_swap = next(s for s in swaps if s.token_out == "USDC")
    burn_swap = next(s for s in swaps if s.token_out == "AAVE")
    assert (fund_swap.amount_in, burn_swap.amount_in) == (to_fund, to_burn)
    (funded,) = result.records.of_type(InsuranceFundFunded)
    assert funded.amount == fund_swap.amount_out and funded.balance_after == fund_swap.amount_out
    (burned,) = result.records.of_type(TokensBurned)
    assert burned.amount == burn_swap.amount_out and burned.paid_amount == to_burn
    assert burned.supply_after == 1_100_000 * WAD - burned.amount
    ledger = result.world.ledger
    assert ledger.supply("AAVE") == burned.supply_after
    assert ledger.balance_of("WETH", "treasury:aave") == fee - to_fund - to_burn


def test_no_refusals_and_state_is_consistent(result: defisim.Result) -> None:
    assert result.records.of_type(LiquidationRefused) == []
    assert result.world.invariant_errors() == []
    pool = result.world.protocols["aave"]
    now = result.world.now()
    assert pool.debt_of(now, "bob", "USDC") == 0
    (liq,) = result.records.of_type(PositionLiquidated)
    assert pool.collateral_of(now, "bob", "WETH") == 10 * WAD - liq.collateral_seized - liq.protocol_fee


def test_summary_agrees_with_records(result: defisim.Result) -> None:
    s = result.summary["protocols"]["aave"]
    assert s["liquidations"] == 1
    assert s["first_liquidation_block"] == s["last_liquidation_block"] == 7
    assert s["debt_repaid_usd"] == 16_000.0
    assert s["bad_debt_usd"] == 0.0
    (burned,) = result.records.of_type(TokensBurned)
    assert s["tokens_burned_base_units"] == {"AAVE": burned.amount}
