"""The exposure graph of a scenario's state (defisim.graph.from_state)."""

from __future__ import annotations

from pathlib import Path

import pytest

from defisim.graph import as_exposure_graph, debtrank
from defisim.graph.from_state import graph_at, graph_at_block, graph_from_world
from defisim.scenario import load_scenario
from defisim.scenario.assemble import build_world
from defisim.simulate import simulate

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def default():
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    world = build_world(scenario, scenario.seed, scenario.chain.blocks)
    return scenario, world, graph_from_world(world, scenario)


def _edges(g, kind, target=None, source=None):
    return [e for e in g.file.edges if e.kind == kind and (target is None or e.target == target)
            and (source is None or e.source == source)]


def test_nodes_and_edges_of_default(default):
    _scenario, _world, g = default
    kinds = {n.id: n.kind for n in g.file.nodes}
    assert {k: v for k, v in kinds.items() if v != "account"} == {
        "aave": "protocol", "spark": "protocol", "WETH": "asset", "USDC": "asset", "AAVE": "asset",
        "pool:weth-usdc": "pool", "pool:aave-weth": "pool", "pool:cex": "pool",
        "oracle:eth-usd": "oracle", "oracle:usdc-usd": "oracle"}
    assert sum(1 for v in kinds.values() if v == "account") == 10
    assert g.node("aave").family == "aave-v3" and g.node("WETH").decimals == 18
    assert g.node("pool:weth-usdc").symbol == "WETH/USDC"
    assert {(e.source, e.target) for e in _edges(g, "oracle_feeds")} == {
        ("oracle:eth-usd", "aave"), ("oracle:eth-usd", "spark")}
    assert {(e.source, e.target) for e in _edges(g, "oracle_reads_pool")} == {("oracle:eth-usd", "pool:cex")}
    # liquidators sell WETH for USDC through the one WETH/USDC pool
    assert {(e.source, e.target) for e in _edges(g, "liquidations_sell_into")} == {
        ("aave", "pool:weth-usdc"), ("spark", "pool:weth-usdc")}
    assert g.shocks[0].asset == "WETH" and g.shocks[0].drop == pytest.approx(0.4)
    # the graph passes the file checks again through its networkx view
    assert as_exposure_graph(g.nx).file == g.file


@pytest.mark.parametrize("protocol", ["aave", "spark"])
def test_collateral_and_debt_base_units_are_the_worlds(default, protocol):
    _scenario, world, g = default
    pool = world.protocols[protocol]
    now = world.now()
    borrowers = [a for a in pool.positions() if pool.debt_of(now, a, "USDC")]
    total_weth = sum(pool.collateral_of(now, a, "WETH") for a in borrowers if pool.is_collateral(a, "WETH"))
    total_debt = sum(pool.debt_of(now, a, "USDC") for a in borrowers)
    accounts = {e.source for e in _edges(g, "debt_owed_to", target=protocol)}
    weth = [e for e in _edges(g, "collateral_held_in", source="WETH")
            if e.target == protocol or e.target in accounts]
    assert all(e.token == "WETH" for e in weth)
    assert sum(e.amount_base_units for e in weth) == total_weth
    # USD at the protocol's oracle: each edge is the floor of base units x price per position
    price = world.oracles["eth-usd"].latest_answer() / 1e8
    direct = next(e for e in weth if e.target == protocol)
    assert direct.value_usd == pytest.approx(direct.amount_base_units / 1e18 * price, rel=1e-9)
    assert sum(e.value_usd for e in weth) == pytest.approx(g.node(protocol).value_usd, rel=1e-12)
    for e in _edges(g, "debt_owed_to", target=protocol):
        owner = e.source.split(":", 2)[2]
        assert e.amount_base_units == pool.debt_of(now, owner, "USDC") and e.token == "USDC"
        assert g.node(e.source).value_usd == pytest.approx(
            next(x for x in weth if x.target == e.source).value_usd)
    assert total_debt > 0


def test_buffer_is_fund_reserves_and_overcollateralisation(default):
    scenario, world, g = default
    node = g.node("aave")
    assert "insurance_fund 250,000.00" in node.notes
    pool = world.protocols["aave"]
    now = world.now()
    over = 0
    for a in pool.positions():
        debt = pool.value_usd("USDC", pool.debt_of(now, a, "USDC"))
        if debt:
            over += max(0, pool.value_usd("WETH", pool.collateral_of(now, a, "WETH")) - debt)
    assert node.equity_usd == pytest.approx((over + 250_000 * 10**8) / 1e8, rel=1e-9)
    bare = graph_from_world(world, scenario, overcollateralisation=False, top_accounts=0, shocks=False)
    assert bare.node("aave").equity_usd == pytest.approx(250_000.0)
    assert not any(n.kind == "account" for n in bare.file.nodes) and bare.shocks == []


def test_later_block_after_the_crash_holds_less_collateral_value(default):
    scenario, _, g0 = default
    g = graph_at_block(scenario, 400)
    assert g.nx.graph["block"] == 400
    for p in ("aave", "spark"):
        assert g.node(p).value_usd < 0.6 * g0.node(p).value_usd
    assert g.node("WETH").value_usd < g0.node("WETH").value_usd
    res = debtrank(g, g.shocks[0]) if g.shocks else None
    assert res is None or res.R >= 0


def test_simulate_records_graphs_and_graph_at_replays():
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    result = simulate(scenario, blocks=60, graph_blocks=[0, 30])
    assert sorted(result.graphs) == [0, 30]
    assert graph_at(result, 30) is result.graphs[30]
    replay = graph_at(result, 45)  # not recorded: rebuilt and run to block 45
    assert replay.nx.graph["block"] == 45
    again = simulate(scenario, blocks=60, graph_blocks=[45])
    assert again.graphs[45].file == replay.file
    last = graph_at(result, 60)
    assert last.nx.graph["block"] == 60
    assert simulate(scenario, blocks=5).graphs == {}


def test_mixed_families_graph():
    scenario = load_scenario(ROOT / "scenarios" / "mixed_families.yaml")
    world = build_world(scenario, scenario.seed, scenario.chain.blocks)
    g = graph_from_world(world, scenario, top_accounts=3)
    fams = {n.id: n.family for n in g.file.nodes if n.kind == "protocol"}
    assert fams == {"aave": "aave-v3", "morpho": "morpho-blue", "comet": "compound-v3", "maker": "maker",
                    "perpdex": "perp"}
    issued = _edges(g, "token_issued_by")
    assert [(e.source, e.target) for e in issued] == [("DAI", "maker")]
    assert issued[0].amount_base_units == world.ledger.supply("DAI")
    system = world.protocols["maker"]
    total = sum(system.collateral_of(ilk, u) for ilk, urns in system.vat.urns.items()
                for u, urn in urns.items() if urn.art)
    accounts = {e.source for e in _edges(g, "debt_owed_to", target="maker")}
    got = sum(e.amount_base_units for e in _edges(g, "collateral_held_in", source="WETH")
              if e.target == "maker" or e.target in accounts)
    assert got == total
    comet = world.protocols["comet"]
    assert "reserves 25,000,000.00" in g.node("comet").notes
    assert comet.base_token == "USDC"
    assert {(e.source, e.target) for e in _edges(g, "oracle_reads_pool")} == {
        ("oracle:eth-usd", "pool:cex"), ("oracle:eth-osm", "pool:cex")}
    sells = {(e.source, e.target) for e in _edges(g, "liquidations_sell_into")}
    assert ("perpdex", "pool:weth-usdc") in sells and ("maker", "pool:dai-usdc") in sells
    assert ("comet", "pool:weth-usdc") in sells
