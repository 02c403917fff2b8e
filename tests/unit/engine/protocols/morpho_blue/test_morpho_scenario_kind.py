"""The ``morpho-blue`` scenario kind: validation messages name the field, and a world builds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import defisim
from defisim.engine.protocols.morpho_blue import (
    FixedRateIrm,
    LinearUtilizationIrm,
    MorphoBlue,
)
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world

BUNDLED = Path(__file__).resolve().parents[5] / "scenarios" / "morpho_blue.yaml"

SMALL: dict[str, Any] = yaml.safe_load("""
name: morpho-small
seed: 3
chain: {blocks: 5}
tokens:
  WETH: {decimals: 18}
  USDC: {decimals: 6}
prices:
  model: scripted
  assets:
    WETH: {start: 3000}
    USDC: {start: 1.0}
oracles:
  - {kind: chainlink, name: eth-usd, asset: WETH, source: reference, deviation: 0.005, heartbeat: 1h}
  - {kind: chainlink, name: usdc-usd, asset: USDC, source: reference, deviation: 0.0025, heartbeat: 24h}
protocols:
  - kind: morpho-blue
    name: morpho
    oracles: {WETH: eth-usd, USDC: usdc-usd}
    markets:
      - name: weth-usdc
        collateral: WETH
        loan: USDC
        lltv: 0.86
        irm: {kind: fixed, apr: 0.05}
        fee: 0.1
        supply: "10000 USDC"
        accounts:
          - {name: bob, collateral: "1 WETH", borrow: "2580 USDC"}
          - {name: ann, supply: "5 USDC"}
        borrowers:
          - {count: 20, collateral: {WETH: 1.0}, debt: USDC, size_usd: {median: 100, sigma: 0.5}}
""")


def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        defisim.scenario_from_dict(data)
    return info.value.problems


def has(problems: list[tuple[str, str]], path: str, *words: str) -> bool:
    return any(p == path and all(w.lower() in m.lower() for w in words) for p, m in problems)


def market(data: dict[str, Any]) -> dict[str, Any]:
    return data["protocols"][0]["markets"][0]


def test_bundled_scenario_validates() -> None:
    scenario = defisim.load_scenario(BUNDLED)
    kinds = [p.kind for p in scenario.protocols]
    assert kinds == ["morpho-blue"]
    assert [m.lltv for m in scenario.protocols[0].markets] == [0.86, 0.86]


def test_small_scenario_builds_exact_positions() -> None:
    world = build_world(defisim.scenario_from_dict(small()))
    morpho = world.protocols["morpho"]
    assert isinstance(morpho, MorphoBlue)
    params = morpho.market_params("weth-usdc")
    assert params.lltv == 860_000_000_000_000_000
    # apr 0.05 -> 5e16 // 31,536,000 per second
    assert params.irm == FixedRateIrm(1_585_489_599)
    assert params.oracle.price() == 3 * 10**27
    m = morpho.market("weth-usdc")
    assert m.fee == 10**17
    bob = morpho.position("weth-usdc", "bob")
    assert (bob.collateral, bob.borrow_shares) == (10**18, 2_580 * 10**12)
    assert morpho.position("weth-usdc", "ann").supply_shares == 5 * 10**12
    assert morpho.position("weth-usdc", "supplier:morpho").supply_shares == 10_000 * 10**12
    borrowers = [k for k in morpho.positions() if k.startswith("weth-usdc/borrower-0-")]
    assert len(borrowers) == 20
    assert all(morpho.is_healthy(world.now(0), "weth-usdc", k.split("/")[1]) for k in borrowers)
    assert world.invariant_errors() == []


def test_default_irm_is_irm_mock() -> None:
    data = small()
    del market(data)["irm"]
    world = build_world(defisim.scenario_from_dict(data))
    assert world.protocols["morpho"].market_params("weth-usdc").irm == LinearUtilizationIrm()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("lltv", 1.2, ("lltv", "(0, 1)")),
        ("lltv", 0.0, ("lltv", "(0, 1)")),
        ("lltv", 0.8600000000000000001, ()),  # equal to 0.86 as a float: accepted
        ("fee", 0.3, ("fee", "0.25")),
    ],
)
def test_market_number_checks(field: str, value: float, words: tuple[str, ...]) -> None:
    data = small()
    market(data)[field] = value
    if not words:
        defisim.scenario_from_dict(data)
        return
    assert has(problems_of(data), f"protocols.0.markets.0.{field}", *words)


def test_irm_checks() -> None:
    data = small()
    market(data)["irm"] = {"kind": "fixed"}
    problems = problems_of(data)
    assert any(p.startswith("protocols.0.markets.0.irm") and "apr" in m for p, m in problems), problems
    data = small()
    market(data)["irm"] = {"kind": "adaptive"}  # unknown kind
    assert any(p.startswith("protocols.0.markets.0.irm") for p, _ in problems_of(data))
    data = small()
    market(data)["irm"] = {"kind": "adaptive-curve", "initial_rate_at_target": 3.0}  # above the 200 % cap
    assert any(p.startswith("protocols.0.markets.0.irm") for p, _ in problems_of(data))
    data = small()
    market(data)["irm"] = {"kind": "adaptive-curve"}
    defisim.scenario_from_dict(data)  # valid


def test_reference_checks_name_the_field() -> None:
    data = small()
    market(data)["collateral"] = "WBTC"
    assert has(problems_of(data), "protocols.0.markets.0.collateral", "unknown token", "WBTC")
    data = small()
    del data["protocols"][0]["oracles"]["USDC"]
    assert has(problems_of(data), "protocols.0.markets.0.loan", "no oracle")
    data = small()
    data["protocols"][0]["oracles"]["USDC"] = "eth-usd"
    assert has(problems_of(data), "protocols.0.oracles.USDC", "prices WETH")
    data = small()
    data["protocols"][0]["oracles"]["WETH"] = "eth-usdd"
    assert has(problems_of(data), "protocols.0.oracles.WETH", "no oracle named", "eth-usdd")


def test_population_must_match_the_market() -> None:
    data = small()
    market(data)["borrowers"][0]["collateral"] = {"USDC": 1.0}
    market(data)["borrowers"][0]["debt"] = "WETH"
    problems = problems_of(data)
    assert has(problems, "protocols.0.markets.0.borrowers.0.collateral", "WETH")
    assert has(problems, "protocols.0.markets.0.borrowers.0.debt", "USDC")


def test_account_amounts_are_in_the_market_tokens() -> None:
    data = small()
    market(data)["accounts"][0]["collateral"] = "1 USDC"
    problems = problems_of(data)
    assert any("accounts" in p and "wrong token" in m for p, m in problems), problems


def test_duplicate_market_names_and_unknown_keys() -> None:
    data = small()
    data["protocols"][0]["markets"].append(copy.deepcopy(market(data)))
    assert any("used twice" in m for _, m in problems_of(data))
    data = small()
    market(data)["ltv"] = 0.8
    assert any(p == "protocols.0.markets.0.ltv" for p, _ in problems_of(data))


def test_not_enough_supply_for_the_borrowers_fails_assembly() -> None:
    data = small()
    market(data)["supply"] = "10 USDC"
    market(data)["accounts"] = []
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    (path, message), = info.value.problems
    assert path == "protocols.0.markets.0.supply" and "only has" in message


def test_borrow_beyond_lltv_fails_assembly_with_the_revert_reason() -> None:
    data = small()
    market(data)["accounts"][0]["borrow"] = "2580.000001 USDC"
    with pytest.raises(ScenarioError) as info:
        build_world(defisim.scenario_from_dict(data))
    (path, message), = info.value.problems
    assert path == "protocols.0.markets.0.accounts.0" and "insufficient collateral" in message
