"""The ``perp`` and ``perp-liquidator`` kinds: validation names the field, a world builds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import defisim
from defisim.engine.agents.perp_liquidator import PerpLiquidator
from defisim.engine.protocols.perp import PerpExchange
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world

BUNDLED = Path(__file__).resolve().parents[5] / "scenarios" / "perp.yaml"

SMALL: dict[str, Any] = yaml.safe_load("""
name: perp-small
seed: 3
chain: {blocks: 5}
tokens:
  WETH: {decimals: 18}
  WBTC: {decimals: 8}
  USDC: {decimals: 6}
prices:
  model: scripted
  assets:
    WETH: {start: 3000}
    WBTC: {start: 60000}
    USDC: {start: 1.0}
markets:
  - {kind: uniswap-v2, name: weth-usdc, tokens: [WETH, USDC], liquidity: {WETH: "1000 WETH", USDC: "3000000 USDC"}}
  - {kind: uniswap-v2, name: wbtc-usdc, tokens: [WBTC, USDC], liquidity: {WBTC: "50 WBTC", USDC: "3000000 USDC"}}
oracles:
  - {kind: chainlink, name: eth-usd, asset: WETH, source: reference, deviation: 0.005, heartbeat: 1h}
  - {kind: chainlink, name: btc-usd, asset: WBTC, source: reference, deviation: 0.005, heartbeat: 1h}
protocols:
  - kind: perp
    name: perpdex
    markets:
      - {name: ETH-PERP, asset: WETH, oracle: eth-usd, venue: weth-usdc}
      - {name: BTC-PERP, asset: WBTC, oracle: btc-usd, venue: wbtc-usdc, initial_margin: 0.1, maintenance_margin: 0.05}
    insurance_fund: {initial: "1000 USDC"}
    vault: {collateral: "1000000 USDC", inventory: {WETH: "100 WETH", USDC: "300000 USDC"}}
    traders:
      - {count: 20, market: ETH-PERP, long_share: 0.5, isolated_share: 0.5, size_usd: {median: 5000, sigma: 0.5}, leverage: {min: 2, max: 20}}
    accounts:
      - {name: whale, collateral: "10000 USDC", long: {WETH: "10 WETH"}, short: {WBTC: "0.1 WBTC"}}
      - {name: iso, collateral: "1000 USDC", short: {WETH: "1 WETH"}, isolated: true}
agents:
  - {kind: perp-liquidator, name: engine}
""")


def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def perp(data: dict[str, Any]) -> dict[str, Any]:
    return data["protocols"][0]


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        defisim.scenario_from_dict(data)
    return info.value.problems


def has(problems: list[tuple[str, str]], path: str, *words: str) -> bool:
    return any(p == path and all(w.lower() in m.lower() for w in words) for p, m in problems)


def test_bundled_scenario_validates() -> None:
    scenario = defisim.load_scenario(BUNDLED)
    assert [p.kind for p in scenario.protocols] == ["perp"]
    assert "perp-liquidator" in [a.kind for a in scenario.agents]


def test_small_scenario_builds_exact_accounts() -> None:
    world = build_world(defisim.scenario_from_dict(small()))
    ex = world.protocols["perpdex"]
    assert isinstance(ex, PerpExchange)
    eth, btc = ex.market_params("ETH-PERP"), ex.market_params("BTC-PERP")
    assert (eth.initial_margin_ppm, eth.maintenance_margin_ppm) == (50_000, 30_000)   # defaults
    assert (btc.initial_margin_ppm, btc.maintenance_margin_ppm) == (100_000, 50_000)
    assert ex.liquidation.fee_ppm == ex.liquidation.max_fee_ppm == 15_000
    staged = ex.liquidation.staged
    assert staged is not None
    assert (staged.threshold, staged.step_ppm, staged.cooldown_s, staged.backstop_ppm) == (
        100_000 * 10**6, 200_000, 30, 666_667)
    assert (ex.funding.interval_s, ex.funding.sample_s, ex.funding.interest_per_interval,
            ex.funding.max_rate) == (3_600, 60, 12_500, 40_000_000)
    # whale: cross, 10 ETH long (30,000) and 0.1 BTC short (6,000) at the oracle
    assert ex.positions("whale") == {"ETH-PERP": (10 * 10**18, 30_000 * 10**6),
                                     "BTC-PERP": (-(10**7), -6_000 * 10**6)}
    assert ex.position("iso@ETH-PERP", "ETH-PERP") == (-(10**18), -3_000 * 10**6)
    assert ex.collateral("iso@ETH-PERP") == 1_000 * 10**6
    traders = [k for k in ex.accounts() if k.startswith("trader-0-")]
    assert len(traders) == 20
    assert any("@" in k for k in traders) and any("@" not in k for k in traders)
    assert all(ex.equity(k) >= ex.initial_requirement(k) for k in traders)
    assert ex.fund_balance() == 1_000 * 10**6
    long, short = ex.open_interest("ETH-PERP")
    assert long == short > 0
    assert [type(a) for a in world.agents] == [PerpLiquidator]
    assert world.invariant_errors() == []


def test_a_small_run_pays_funding_and_checks_invariants() -> None:
    data = small()
    data["chain"]["blocks"] = 310
    data["run"] = {"check_invariants_every_blocks": 10}
    result = defisim.simulate(defisim.scenario_from_dict(data))
    paid = [r for r in result.records if r.kind == "FundingPaid"]
    assert [(r.block, r.market) for r in paid] == [(300, "ETH-PERP"), (300, "BTC-PERP")]
    assert result.summary["protocols"]["perpdex"]["liquidations"] == 0


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (lambda p: p["markets"][0].update(maintenance_margin=0.05), "protocols.0.markets.0.maintenance_margin",
         ("below initial_margin",)),
        (lambda p: p["markets"][0].update(initial_margin=1.5), "protocols.0.markets.0.initial_margin", ("(0, 1]",)),
        (lambda p: p.update(liquidation={"max_fee": 0.01, "fee": 0.015}), "protocols.0.liquidation.fee",
         ("must not exceed max_fee",)),
        (lambda p: p.update(liquidation={"max_fee": 0.06}), "protocols.0.liquidation.max_fee", ("5 %",)),
        (lambda p: p.update(liquidation={"staged": {"step": 0}}), "protocols.0.liquidation.staged.step",
         ("(0, 1]",)),
        (lambda p: p.update(funding={"interval": "1h", "sample_every": "2h"}), "protocols.0.funding.sample_every",
         ("must not exceed interval",)),
        (lambda p: p["traders"][0].update(leverage={"min": 2, "max": 25}), "protocols.0.traders.0.leverage.max",
         ("max leverage 20",)),
        (lambda p: p["traders"][0].update(market="DOGE-PERP"), "protocols.0.traders.0.market", ("no market",)),
        (lambda p: p["markets"][0].update(oracle="eth-usdd"), "protocols.0.markets.0.oracle", ("no oracle",)),
        (lambda p: p["markets"][0].update(oracle="btc-usd"), "protocols.0.markets.0.oracle", ("prices WBTC",)),
        (lambda p: p["markets"][0].update(venue="wbtc-usdc"), "protocols.0.markets.0.venue", ("trades",)),
        (lambda p: p["markets"][1].update(venue="weth-usdc", asset="WETH"), "protocols.0",
         ("two markets",)),
        (lambda p: p["vault"].update(collateral="5 WETH"), "protocols.0.vault.collateral", ("wrong token",)),
        (lambda p: p.update(insurance_fund={"asset": "WETH", "initial": 0}), "protocols.0.insurance_fund.asset",
         ("quote token",)),
        (lambda p: p["accounts"][1].update(long={"WBTC": "0.1 WBTC"}), "protocols.0.accounts.1.isolated",
         ("exactly one position",)),
        (lambda p: p["accounts"][0].update(long={"DOGE": 1}), "protocols.0.accounts.0.long.DOGE",
         ("unknown token",)),
        (lambda p: p["accounts"][0].update(collateral="1 WETH"), "protocols.0.accounts.0.collateral",
         ("wrong token",)),
        (lambda p: p["insurance_fund"].update(initial="1 WBTC"), "protocols.0.insurance_fund.initial",
         ("wrong token",)),
    ],
)
def test_validation_names_the_field(edit: Any, path: str, words: tuple[str, ...]) -> None:
    data = small()
    edit(perp(data))
    problems = problems_of(data)
    assert has(problems, path, *words), problems


def test_liquidator_must_name_a_perp_exchange() -> None:
    data = small()
    data["agents"][0]["exchanges"] = ["perpdx"]
    assert has(problems_of(data), "agents.0.exchanges.0", "no perp protocol named 'perpdx'")


def test_an_undercapitalised_vault_is_refused_at_build() -> None:
    data = small()
    perp(data)["vault"]["collateral"] = "100 USDC"
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    assert any(p == "protocols.0.vault.collateral" and "initial margin" in m for p, m in info.value.problems)
