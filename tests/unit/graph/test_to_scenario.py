"""Scenarios built from exposure graphs (defisim.graph.to_scenario)."""

from __future__ import annotations

from pathlib import Path

import pytest

from defisim.graph import GraphError, exposure_graph, graph_file_from_dict, load_graph
from defisim.graph.from_state import graph_at_block
from defisim.graph.to_scenario import (
    component_name,
    load_any,
    scenario_from_graph,
    scenario_model_from_graph,
)
from defisim.scenario import load_scenario
from tests.unit.graph.conftest import graph_data

ROOT = Path(__file__).resolve().parents[3]



def _collateral_usd(spec) -> dict[str, float]:
    out: dict[str, float] = {}
    pops = list(getattr(spec, "borrowers", []) or [])
    for m in getattr(spec, "markets", []) or []:
        pops += list(m.borrowers)
    for pop in pops:
        (asset,) = pop.collateral
        out[asset] = out.get(asset, 0.0) + pop.count * pop.size_usd.median
    return out


def test_example_small_maps_protocols_assets_pools_and_shock():
    g = load_graph(ROOT / "graphs" / "example_small.json")
    s = scenario_model_from_graph(g, scale=0.1)
    assert [p.name for p in s.protocols] == ["lendx", "cdp", "lst"]
    assert {"ETH", "sLST", "USDX", "USDC"} <= set(s.tokens)
    assert "steth-eth" in [m.name for m in s.markets]
    # the whale's sLST (account -> lendx) is folded into lendx: (2.5e8 + 1.2e8) x 0.1
    assert _collateral_usd(s.protocols[0]) == pytest.approx({"sLST": 3.7e7, "ETH": 3.0e7, "USDX": 1.0e7})
    # first asset shock of the file: sLST -30 %
    points = s.prices.assets["sLST"].points
    assert points[-1][1] == pytest.approx(points[0][1] * 0.7)
    # insurance fund = equity x scale, in the debt token (USDC, 6 decimals)
    assert s.protocols[0].insurance_fund.initial == 8_000_000 * 10**6
    named = scenario_from_graph(g, shock="LendX collateral -10%")
    assert "LendX collateral -10%" in named["description"]
    with pytest.raises(GraphError, match="unknown shock"):
        scenario_from_graph(g, shock="nope")


def test_mainnet_graph_builds_a_valid_scenario():
    g = load_graph(ROOT / "graphs" / "ethereum_mainnet_2025-09.json")
    s = scenario_model_from_graph(g)
    assert [p.name for p in s.protocols] == ["aave-v3"]
    names = {m.name for m in s.markets}
    assert {"curve-steth-eth", "uniswap-v3-wsteth-weth", "uniswap-v3-usdc-weth"} <= names
    # wstETH priced from its exact amount: 5.223e9 USD / 1.19M tokens
    assert s.prices.assets["wstETH"].points[0][1] == pytest.approx(5.223e9 / 1.19e6)
    # scaled so that Aave holds $200M of collateral
    assert sum(_collateral_usd(s.protocols[0]).values()) == pytest.approx(2e8)


def test_round_trip_graph_scenario_world_graph():
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    g0 = graph_at_block(scenario, 0)
    s = scenario_model_from_graph(g0)
    g1 = graph_at_block(s, 0)
    ids = lambda g, kind: {n.id for n in g.file.nodes if n.kind == kind}
    assert ids(g1, "protocol") == ids(g0, "protocol")
    assert ids(g1, "asset") == ids(g0, "asset")
    assert ids(g1, "pool") == ids(g0, "pool")
    for p in ("aave", "spark"):
        assert g1.node(p).family == "aave-v3"
        assert g1.node(p).value_usd == pytest.approx(g0.node(p).value_usd, rel=1e-6)
    for sym in ("WETH", "USDC", "AAVE"):
        assert s.prices.assets[sym].points is not None or s.prices.assets[sym].start is not None
    assert s.prices.assets["AAVE"].start == pytest.approx(90.0)
    for pool in ("pool:weth-usdc", "pool:aave-weth"):
        assert g1.node(pool).value_usd == pytest.approx(g0.node(pool).value_usd, rel=1e-6)


def test_load_any_and_errors(tmp_path):
    assert load_any(ROOT / "scenarios" / "default.yaml").name == "two-pools-eth-crash"
    assert load_any(ROOT / "graphs" / "example_small.json", scale=0.01).name == "graph-example-small"
    empty = exposure_graph(graph_file_from_dict(graph_data([("a", "asset", 1.0), ("p", "protocol", 1.0, 0.0)], [])))
    with pytest.raises(GraphError, match="no protocol with collateral"):
        scenario_from_graph(empty)
    assert component_name("pool:Curve stETH/ETH") == "Curve-stETH-ETH"
