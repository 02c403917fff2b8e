"""The ``compound-v3``, ``absorber`` and ``collateral-buyer`` kinds: validation messages name
the field, and a world builds with exact positions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import defisim
from defisim.engine.agents.comet_absorber import CometAbsorber
from defisim.engine.agents.comet_buyer import CometCollateralBuyer
from defisim.engine.protocols.compound_v3 import Comet
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world

BUNDLED = Path(__file__).resolve().parents[5] / "scenarios" / "compound_v3.yaml"

SMALL: dict[str, Any] = yaml.safe_load("""
name: comet-small
seed: 5
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
  - {kind: uniswap-v2, name: weth-usdc, tokens: [WETH, USDC], liquidity: {WETH: "100 WETH", USDC: "300000 USDC"}}
oracles:
  - {kind: chainlink, name: eth-usd, asset: WETH, source: reference, deviation: 0.005, heartbeat: 1h}
  - {kind: chainlink, name: btc-usd, asset: WBTC, source: reference, deviation: 0.005, heartbeat: 1h}
  - {kind: chainlink, name: usdc-usd, asset: USDC, source: reference, deviation: 0.0025, heartbeat: 24h}
protocols:
  - kind: compound-v3
    name: comet
    base: USDC
    oracles: {USDC: usdc-usd, WETH: eth-usd, WBTC: btc-usd}
    collaterals:
      WETH: {borrow_collateral_factor: 0.82, liquidate_collateral_factor: 0.90, liquidation_factor: 0.95,
             supply_cap: "1000.5 WETH"}
      WBTC: {borrow_collateral_factor: 0.70, liquidate_collateral_factor: 0.77, liquidation_factor: 0.95}
    store_front_price_factor: 0.5
    target_reserves: "5000000 USDC"
    initial_reserves: "1000 USDC"
    base_borrow_min: "100 USDC"
    suppliers: "100000 USDC"
    accounts:
      - {name: bob, collateral: {WETH: "1 WETH"}, borrow: "2460 USDC"}
      - {name: ann, supply: "5 USDC"}
    borrowers:
      - {count: 20, collateral: {WETH: 0.5, WBTC: 0.5}, debt: USDC, size_usd: {median: 1000, sigma: 0.5}}
agents:
  - {kind: absorber, name: keeper, priority_fee_gwei: 3}
  - {kind: collateral-buyer, name: buyer, capital: {USDC: "1000 USDC"}}
""")


def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def comet_spec(data: dict[str, Any]) -> dict[str, Any]:
    return data["protocols"][0]


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        defisim.scenario_from_dict(data)
    return info.value.problems


def has(problems: list[tuple[str, str]], path: str, *words: str) -> bool:
    return any(p == path and all(w.lower() in m.lower() for w in words) for p, m in problems)


def test_bundled_scenario_validates_with_the_launch_settings() -> None:
    scenario = defisim.load_scenario(BUNDLED)
    (spec,) = scenario.protocols
    assert spec.kind == "compound-v3"
    weth = spec.collaterals["WETH"]
    assert (weth.borrow_collateral_factor, weth.liquidate_collateral_factor, weth.liquidation_factor) == (
        0.82, 0.90, 0.95)
    assert spec.store_front_price_factor == 0.5
    assert {a.kind for a in scenario.agents} == {"arbitrageur", "absorber", "collateral-buyer"}


def test_small_scenario_builds_exact_positions() -> None:
    world = build_world(defisim.scenario_from_dict(small()))
    comet = world.protocols["comet"]
    assert isinstance(comet, Comet)
    now = world.now(0)
    weth = comet.get_asset_info_by_address("WETH")
    assert (weth.borrow_collateral_factor, weth.liquidate_collateral_factor, weth.liquidation_factor) == (
        82 * 10**16, 90 * 10**16, 95 * 10**16)
    assert weth.supply_cap == 1000 * 10**18  # kept in whole tokens: 1000.5 -> 1000
    assert comet.get_asset_info_by_address("WBTC").supply_cap == (2**64 - 1) * 10**8  # no cap given
    assert comet.store_front_price_factor == 5 * 10**17
    assert comet.target_reserves == 5_000_000 * 10**6
    # 0.035 / year -> 35e15 // 31,536,000 per second
    assert comet.borrow_per_second_interest_rate_slope_low == 1_109_842_719
    assert comet.user_basic("bob").principal == -2_460 * 10**6
    assert comet.collateral_balance_of("bob", "WETH") == 10**18
    assert comet.user_basic("ann").principal == 5 * 10**6
    assert comet.user_basic("supplier:comet").principal == 100_000 * 10**6
    assert comet.get_reserves(now) == 1_000 * 10**6
    borrowers = [a for a in comet.positions() if a.startswith("borrower-0-")]
    assert len(borrowers) == 20
    assert all(comet.is_borrow_collateralized(now, a) for a in borrowers)
    assert all(comet.user_basic(a).assets_in == 0b11 for a in borrowers)
    kinds = {type(a) for a in world.agents}
    assert kinds == {CometAbsorber, CometCollateralBuyer}
    assert world.ledger.balance_of("USDC", "buyer:buyer") == 1_000 * 10**6
    assert world.invariant_errors() == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("liquidate_collateral_factor", 0.82, ("liquidate_collateral_factor", "greater than", "borrow_collateral_factor")),
        ("liquidate_collateral_factor", 0.80, ("liquidate_collateral_factor", "greater than")),
        ("liquidate_collateral_factor", 1.01, ("liquidate_collateral_factor", "(0.0, 1.0]")),
        ("liquidation_factor", 0.0, ("liquidation_factor", "(0.0, 1.0]")),
        ("liquidation_factor", 1.05, ("liquidation_factor", "(0.0, 1.0]")),
        ("liquidation_factor", 1.0, ()),
        ("borrow_collateral_factor", 0.82345, ("borrow_collateral_factor", "4 decimals")),
        ("borrow_collateral_factor", -0.1, ("borrow_collateral_factor", "[0.0, 1.0)")),
    ],
)
def test_collateral_factor_checks(field: str, value: float, words: tuple[str, ...]) -> None:
    data = small()
    comet_spec(data)["collaterals"]["WETH"][field] = value
    if not words:
        defisim.scenario_from_dict(data)
        return
    problems = problems_of(data)
    path = "protocols.0.collaterals.WETH"
    assert any(p in (path, f"{path}.{field}") and all(w.lower() in m.lower() for w in words)
               for p, m in problems), problems


@pytest.mark.parametrize(
    ("where", "field", "value", "words"),
    [
        ((), "store_front_price_factor", 1.5, ("store_front_price_factor", "[0.0, 1.0]")),
        ((), "store_front_price_factor", -0.5, ("store_front_price_factor",)),
        (("rates",), "supply_kink", 1.2, ("supply_kink", "[0.0, 1.0]")),
        (("rates",), "borrow_kink", -0.1, ("borrow_kink",)),
        (("rates",), "borrow_per_year_interest_rate_slope_high", -0.25, ("borrow_per_year_interest_rate_slope_high",)),
    ],
)
def test_market_number_checks(where: tuple[str, ...], field: str, value: float, words: tuple[str, ...]) -> None:
    data = small()
    target = comet_spec(data)
    for key in where:
        target = target.setdefault(key, {})
    target[field] = value
    path = ".".join(("protocols.0", *where, field))
    assert has(problems_of(data), path, *words)


def test_amounts_are_in_the_right_token() -> None:
    data = small()
    comet_spec(data)["collaterals"]["WETH"]["supply_cap"] = "10 WBTC"
    assert any("collaterals" in p and "wrong token" in m for p, m in problems_of(data))
    data = small()
    comet_spec(data)["target_reserves"] = "5 WETH"
    assert any(p.startswith("protocols.0.target_reserves") and "wrong token" in m for p, m in problems_of(data))
    data = small()
    comet_spec(data)["accounts"][0]["borrow"] = "1 WETH"
    assert any("accounts" in p and "wrong token" in m for p, m in problems_of(data))


def test_reference_checks_name_the_field() -> None:
    data = small()
    del comet_spec(data)["oracles"]["WBTC"]
    assert has(problems_of(data), "protocols.0.collaterals.WBTC", "no oracle")
    data = small()
    comet_spec(data)["oracles"]["USDC"] = "eth-usd"
    assert has(problems_of(data), "protocols.0.oracles.USDC", "prices WETH")
    data = small()
    comet_spec(data)["base"] = "DAI"
    assert has(problems_of(data), "protocols.0.base", "unknown token", "DAI")
    data = small()
    comet_spec(data)["collaterals"]["USDC"] = dict(comet_spec(data)["collaterals"]["WBTC"])
    assert any("base token USDC cannot also be a collateral" in m for _, m in problems_of(data))


def test_population_must_match_the_market() -> None:
    data = small()
    pop = comet_spec(data)["borrowers"][0]
    pop["collateral"] = {"WETH": 1.0, "DAI": 1.0}
    pop["debt"] = "WETH"
    problems = problems_of(data)
    assert has(problems, "protocols.0.borrowers.0.collateral.DAI", "not a collateral")
    assert has(problems, "protocols.0.borrowers.0.debt", "must be USDC")


def test_agents_must_name_a_compound_v3_protocol() -> None:
    data = small()
    data["agents"][0]["protocols"] = ["aave"]
    assert has(problems_of(data), "agents.0.protocols.0", "no protocol named", "aave")
    data = small()
    data["protocols"] = []
    assert has(problems_of(data), "agents.0.protocols", "no compound-v3 protocol")


def test_base_token_decimals_are_checked() -> None:
    data = small()
    data["tokens"]["USDC"]["decimals"] = 4
    assert has(problems_of(data), "protocols.0.base", "6 to 18")


def test_assembly_reports_reverts_with_the_field() -> None:
    data = small()
    comet_spec(data)["accounts"][0]["borrow"] = "2460.000001 USDC"  # one unit beyond 0.82
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    (path, message), = info.value.problems
    assert path == "protocols.0.accounts.0" and "NotCollateralized" in message
    data = small()
    comet_spec(data)["suppliers"] = "10 USDC"
    comet_spec(data)["accounts"] = []
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    (path, message), = info.value.problems
    assert path == "protocols.0.suppliers" and "only has" in message
