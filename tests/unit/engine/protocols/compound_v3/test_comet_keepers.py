"""The ``absorber`` and ``collateral-buyer`` agents in a small world.

WETH falls from 3,000 to 2,000 at block 5; the Chainlink round lands one block later (block 6).
Three borrowers hold 1 WETH against 2,400 USDC (liquidatable below 2,400 / 0.9 = 2,666.67);
``ann`` (1 WETH, 1,000 USDC) stays healthy. The Uniswap pool already trades at 2,000, so the
store front's 2.5 % discount to the feed (1,950 per WETH) leaves buyers a margin.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

import defisim
from defisim.engine.protocols.compound_v3 import (
    AbsorberPointsAccrued,
    CollateralBought,
    Comet,
    PositionAbsorbed,
)
from defisim.engine.records import LiquidationRefused, PositionLiquidated, PriceUpdated

WORLD: dict[str, Any] = yaml.safe_load("""
name: comet-keepers
seed: 2
chain: {blocks: 12, base_fee_gwei: 10, gas_asset: WETH}
run: {check_invariants_every_blocks: 1}
tokens:
  WETH: {decimals: 18}
  USDC: {decimals: 6}
prices:
  model: scripted
  assets:
    WETH: {points: [[0, 3000], [4, 3000], [5, 2000]]}
    USDC: {start: 1.0}
markets:
  - {kind: uniswap-v2, name: weth-usdc, tokens: [WETH, USDC], liquidity: {WETH: "1000 WETH", USDC: "2000000 USDC"}}
oracles:
  - {kind: chainlink, name: eth-usd, asset: WETH, source: reference, deviation: 0.005, heartbeat: 1h}
  - {kind: chainlink, name: usdc-usd, asset: USDC, source: reference, deviation: 0.0025, heartbeat: 24h}
protocols:
  - kind: compound-v3
    name: comet
    base: USDC
    oracles: {USDC: usdc-usd, WETH: eth-usd}
    collaterals:
      WETH: {borrow_collateral_factor: 0.82, liquidate_collateral_factor: 0.90, liquidation_factor: 0.95}
    target_reserves: "5000000 USDC"
    initial_reserves: "1000 USDC"
    base_borrow_min: "100 USDC"
    suppliers: "100000 USDC"
    accounts:
      - {name: b1, collateral: {WETH: "1 WETH"}, borrow: "2400 USDC"}
      - {name: b2, collateral: {WETH: "1 WETH"}, borrow: "2400 USDC"}
      - {name: b3, collateral: {WETH: "1 WETH"}, borrow: "2400 USDC"}
      - {name: ann, collateral: {WETH: "1 WETH"}, borrow: "1000 USDC"}
agents:
  - {kind: absorber, name: keeper-a, priority_fee_gwei: 3}
  - {kind: absorber, name: keeper-b, priority_fee_gwei: 2, filter_before_absorb: false, private_bundles: false}
  - {kind: collateral-buyer, name: buyer, capital: {USDC: "10000 USDC"}, flash_loans: false}
""")


def run(change: Any = None) -> defisim.Result:
    data = copy.deepcopy(WORLD)
    if change is not None:
        change(data)
    return defisim.simulate(defisim.scenario_from_dict(data))


def test_absorbed_once_the_round_lands_by_the_higher_tip() -> None:
    result = run()
    crash = next(r for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd" and r.price == 2000 * 10**8)
    assert crash.block == 6  # observed at block 5, lands one block later
    liqs = result.records.of_type(PositionLiquidated)
    assert sorted(r.account for r in liqs) == ["b1", "b2", "b3"]
    assert {(r.block, r.liquidator, r.protocol, r.profit_usd) for r in liqs} == {(6, "keeper-a", "comet", 0)}
    # 2,400 USDC of debt each plus 72 s of interest at about 1.5 %/year (under 100 units);
    # 1 WETH at 2,000: health = mulFactor(2000e8, 0.9) * 1e18 / (debt * 1e8 / 1e6), just below 0.75
    for r in liqs:
        assert 2_400 * 10**6 < r.debt_repaid < 2_400 * 10**6 + 100
        assert r.health_before == 1_800 * 10**8 * 10**18 // (r.debt_repaid * 100)
        assert r.debt_repaid_usd == r.debt_repaid * 100 and r.collateral_seized_usd == 2_000 * 10**8
    (points,) = result.records.of_type(AbsorberPointsAccrued)
    assert (points.absorber, points.accounts, points.num_absorbs, points.num_absorbed) == ("keeper-a", 3, 1, 3)
    # one absorb of three accounts: 60,000 + 3 * 140,000 gas, at the block's base fee
    assert points.gas_used == 480_000 and points.approx_spend == 480_000 * points.base_fee
    assert len(result.records.of_type(PositionAbsorbed)) == 3
    assert result.summary["protocols"]["comet"]["liquidations"] == 3
    world = result.world
    assert world is not None
    comet = world.protocols["comet"]
    assert isinstance(comet, Comet)
    assert comet.liquidator_points("absorber:keeper-a").num_absorbed == 3
    assert comet.health_factor(world.now(), "ann") > 10**18


def test_the_slower_public_absorber_reverts_and_pays_gas() -> None:
    result = run()
    refused = [r for r in result.records.of_type(LiquidationRefused) if r.liquidator == "keeper-b"]
    assert {r.block for r in refused} == {6}
    assert all(r.reason.startswith("REVERTED: NotLiquidatable") for r in refused)
    assert sum(1 for r in refused if r.gas_cost_usd > 0) == 1  # one transaction, gas booked once
    assert result.summary["agents"]["keeper-b"]["profit_usd"] < 0
    assert result.gas_spent_usd["absorber:keeper-b"] > 0


def test_buyer_takes_the_collateral_at_the_discount_and_sells_it() -> None:
    result = run()
    bought = result.records.of_type(CollateralBought)
    assert bought and all(b.buyer == "buyer" and b.asset == "WETH" for b in bought)
    assert min(b.block for b in bought) == 7  # planned on the state after the absorb block
    assert sum(b.collateral_amount for b in bought) <= 3 * 10**18
    for b in bought:
        # the quote: 1e8 * base * 1e18 / mulFactor(2000e8, 0.975e18) / 1e6, i.e. 1,950 USDC per WETH
        assert b.collateral_amount == 10**8 * b.base_amount * 10**18 // (1950 * 10**8) // 10**6
        assert b.proceeds > b.base_amount
        assert b.reserves_after == b.reserves_before + b.base_amount
    world = result.world
    assert world is not None
    assert world.ledger.balance_of("USDC", "buyer:buyer") > 10_000 * 10**6


def test_no_sale_while_reserves_are_at_target() -> None:
    def rich(data: dict[str, Any]) -> None:
        data["protocols"][0]["initial_reserves"] = "100000 USDC"
        data["protocols"][0]["target_reserves"] = "10 USDC"

    result = run(rich)
    assert len(result.records.of_type(PositionLiquidated)) == 3
    assert result.records.of_type(CollateralBought) == []
    world = result.world
    assert world is not None
    assert world.protocols["comet"].get_collateral_reserves("WETH") == 3 * 10**18  # hodled


def test_a_gas_budget_keeps_an_absorber_out() -> None:
    def stingy(data: dict[str, Any]) -> None:
        data["agents"] = [{"kind": "absorber", "name": "cheap", "max_gas_usd_per_account": 0.01}]

    result = run(stingy)
    assert result.records.of_type(PositionLiquidated) == []
    world = result.world
    assert world is not None
    assert all(world.protocols["comet"].is_liquidatable(world.now(), a) for a in ("b1", "b2", "b3"))


def test_generic_liquidators_ignore_comet() -> None:
    def with_liquidator(data: dict[str, Any]) -> None:
        data["agents"] = [{"kind": "liquidator", "name": "liq", "capital": {"USDC": "100000 USDC"}}]

    result = run(with_liquidator)
    assert result.records.of_type(PositionLiquidated) == []
