"""Liquidators with flash loans, arbitrageurs restoring the AMM, competing bots."""

from __future__ import annotations

import defisim
from defisim.engine.agents.liquidator import FLASH_LENDER
from defisim.engine.markets.uniswap_v2 import get_amount_out
from defisim.engine.records import ArbitrageExecuted, PositionLiquidated, SwapExecuted
from tests.integration.scenarios import one_liquidation

USDC = 10**6
WETH = 10**18


def test_flash_loan_funds_a_liquidator_without_capital() -> None:
    data = one_liquidation()
    data["agents"] = [{"kind": "liquidator", "name": "flash", "flash_loans": True, "bid_share": 0.0}]
    data["chain"]["flash_loan_fee_bps"] = 9
    result = defisim.simulate(defisim.scenario_from_dict(data))
    (liq,) = result.records.of_type(PositionLiquidated)
    (sale,) = [s for s in result.records.of_type(SwapExecuted) if s.trader == "liquidator:flash"]
    fee = -(-liq.debt_repaid * 9 // 10_000)  # rounded up
    ledger = result.world.ledger
    assert ledger.balance_of("USDC", FLASH_LENDER) == fee
    assert ledger.balance_of("USDC", "liquidator:flash") == sale.amount_out - liq.debt_repaid - fee
    assert liq.profit_usd == (sale.amount_out - liq.debt_repaid - fee) * 10**8 // USDC - liq.gas_cost_usd
    assert ledger.conservation_errors() == []


def test_without_capital_or_flash_loans_nobody_liquidates() -> None:
    data = one_liquidation()
    data["agents"] = [{"kind": "liquidator", "name": "broke", "flash_loans": False}]
    result = defisim.simulate(defisim.scenario_from_dict(data))
    assert result.records.of_type(PositionLiquidated) == []
    assert result.world.protocols["aave"].account_data(result.world.now(), "bob").health_factor < 10**18


def _with_arbitrage() -> dict:
    data = one_liquidation()
    data["markets"].append({"kind": "external-venue", "name": "cex", "asset": "WETH", "quote": "USDC",
                            "depth_usd": 1e12, "curve": "linear"})
    data["agents"].append({"kind": "arbitrageur", "name": "arb", "pool": "weth-usdc", "venue": "cex",
                           "capital": {"WETH": "500 WETH", "USDC": "1000000 USDC"}, "bid_share": 0.0})
    return data


def test_arbitrageur_brings_the_pool_back_to_the_venue_price() -> None:
    result = defisim.simulate(defisim.scenario_from_dict(_with_arbitrage()))
    arbs = result.records.of_type(ArbitrageExecuted)
    assert arbs, "the price step and the liquidation sale must create arbitrage"
    swaps = {s.block: s for s in result.records.of_type(SwapExecuted) if s.trader == "arbitrageur:arb"}
    pool = result.world.markets["weth-usdc"]
    assert (pool.reserve0, pool.reserve1) == (swaps[max(swaps)].reserve0, swaps[max(swaps)].reserve1)
    pool_price = (pool.reserve1 / USDC) / (pool.reserve0 / WETH)  # USDC per WETH after the last arb
    venue = result.world.markets["cex"].price(result.world.block)  # deep venue: ~ the reference
    # the arbitrageur stops at the no-arbitrage band: within the 0.3 % fee of the venue price
    assert abs(pool_price / venue - 1) <= 0.0031
    assert all(a.profit_usd > -a.gas_cost_usd for a in arbs)
    # and every leg is exact Uniswap math
    first = swaps[min(swaps)]
    reserve_in, reserve_out = (1000 * WETH, 1_800_000 * USDC) if first.token_in == "WETH" else (
        1_800_000 * USDC, 1000 * WETH)
    assert first.amount_out == get_amount_out(first.amount_in, reserve_in, reserve_out)


def _race(meek_private: bool) -> defisim.Result:
    """Two liquidators with capital race for Bob; "bold" bids 90 % of profit, "meek" 10 %."""
    data = one_liquidation()
    data["agents"] = [
        {"kind": "liquidator", "name": "meek", "capital": {"USDC": "100000 USDC"}, "bid_share": 0.1,
         "private_bundles": meek_private},
        {"kind": "liquidator", "name": "bold", "capital": {"USDC": "100000 USDC"}, "bid_share": 0.9},
    ]
    return defisim.simulate(defisim.scenario_from_dict(data))


def test_competing_liquidators_highest_tip_wins() -> None:
    result = _race(meek_private=True)
    (liq,) = result.records.of_type(PositionLiquidated)
    assert liq.liquidator == "bold"
    refused = [r for r in result.records if r.kind == "LiquidationRefused"]
    assert [(r.liquidator, r.gas_cost_usd) for r in refused] == [("meek", 0)]  # dropped bundle: no gas
    # bold repaid all of Bob's debt (100 % close factor at HF 0.928), so meek finds him healthy
    assert refused[0].reason == "DROPPED: HEALTH_FACTOR_NOT_BELOW_THRESHOLD"


def test_public_mempool_loser_pays_gas_for_its_revert() -> None:
    result = _race(meek_private=False)
    refused = [r for r in result.records if r.kind == "LiquidationRefused"]
    assert len(refused) == 1 and refused[0].reason == "REVERTED: HEALTH_FACTOR_NOT_BELOW_THRESHOLD"
    assert refused[0].gas_cost_usd > 0
    assert result.gas_spent_usd["liquidator:meek"] == refused[0].gas_cost_usd


def test_summary_profit_is_net_of_gas_paid_for_reverts() -> None:
    result = _race(meek_private=False)
    meek = result.summary["agents"]["meek"]
    (refused,) = [r for r in result.records if r.kind == "LiquidationRefused"]
    assert meek["liquidations"] == 0 and meek["failed_paid_gas"] == 1
    assert meek["profit_usd"] == round(-refused.gas_cost_usd / 1e8, 2)
    (liq,) = result.records.of_type(PositionLiquidated)
    assert result.summary["agents"]["bold"]["profit_usd"] == round(liq.profit_usd / 1e8, 2)


def test_arbitrage_is_limited_by_venue_inventory_instead_of_failing() -> None:
    data = _with_arbitrage()
    data["markets"][-1]["inventory"] = {"WETH": "2 WETH", "USDC": "4000 USDC"}  # a shallow venue
    result = defisim.simulate(defisim.scenario_from_dict(data))
    ledger = result.world.ledger
    arbs = result.records.of_type(ArbitrageExecuted)
    assert arbs and all(a.token_in == "USDC" for a in arbs)  # pool below venue: buy WETH, sell on venue
    # every WETH it bought was sold on the venue for USDC the venue actually had
    paid_out = sum(a.amount_in + a.profit_usd // 100 + a.gas_cost_usd // 100 for a in arbs)
    assert paid_out <= 4000 * USDC
    assert 0 <= ledger.balance_of("USDC", "venue:cex") < 4000 * USDC
    assert ledger.conservation_errors() == []
