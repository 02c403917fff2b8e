"""DebtRank against the block-time run (defisim.graph.compare)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from defisim.engine.records import BadDebtRealized, RecordLog
from defisim.graph import debtrank, exposure_graph, graph_file_from_dict
from defisim.graph.compare import (
    compare_static_dynamic,
    comparison_table,
    plot_comparison,
)
from defisim.graph.to_scenario import scenario_model_from_graph
from defisim.simulate import simulate
from tests.unit.graph.conftest import graph_data

NODES = [("eth", "asset", 1.0e9), ("usdc", "asset", 1.0e9),
         ("lend", "protocol", 6.0e7, 1.0e7), ("lend2", "protocol", 3.0e7, 6.0e7), ("other", "protocol", 1.0e6, 1.0e6)]
EDGES = [("eth", "lend", "collateral_held_in", 6.0e7), ("eth", "lend2", "collateral_held_in", 3.0e7)]



def _graph():
    data = graph_data(NODES, EDGES, shocks=[{"name": "eth -40%", "asset": "eth", "drop": 0.4}])
    data["nodes"][0]["symbol"] = "WETH"
    data["nodes"][1]["symbol"] = "USDC"
    return exposure_graph(graph_file_from_dict(data))


def _summary(bad=0.0, drawn=0.0, social=0.0, first=None, liqs=0):
    return {"bad_debt_usd": bad, "insurance_fund_drawn_usd": drawn, "socialized_usd": social,
            "first_liquidation_block": first, "liquidations": liqs}


def test_comparison_arithmetic_on_a_crafted_graph(tmp_path):
    g = _graph()
    log = RecordLog()
    log.append(BadDebtRealized(40, "lend2", "x", "USDC", 10, 1))
    log.append(BadDebtRealized(70, "lend", "y", "USDC", 10, 1))
    log.append(BadDebtRealized(20, "lend", "z", "USDC", 10, 1))
    result = SimpleNamespace(
        summary={"protocols": {"lend": _summary(3e6, 1e6, 2.5e6, 10, 5), "lend2": _summary(1e6, 1e6, 0.0, 30, 2),
                               "other": _summary()}},
        records=log, scenario=SimpleNamespace(name="crafted"), seed=1, blocks=100)
    cmp = compare_static_dynamic(g, result)
    rows = {r["protocol"]: r for r in cmp["protocols"]}
    h = debtrank(g, g.shocks[0]).by_id()
    # linear per link: 0.4 x min(1, 6e7 / 1e7) and 0.4 x min(1, 3e7 / 6e7)
    assert rows["lend"]["debtrank_h"] == pytest.approx(h["lend"]) == pytest.approx(0.4)
    assert rows["lend2"]["debtrank_h"] == pytest.approx(0.2)
    assert rows["lend"]["loss_usd"] == 3.5e6  # max(bad debt 3e6, drawn 1e6 + socialised 2.5e6)
    assert rows["lend"]["loss_share"] == pytest.approx(3.5e6 / 6e7)
    assert rows["lend"]["loss_share_of_buffer"] == pytest.approx(0.35)
    assert rows["lend2"]["loss_usd"] == 1e6 and rows["lend2"]["loss_share_of_buffer"] == pytest.approx(1 / 60)
    assert rows["lend"]["first_bad_debt_block"] == 20 and rows["lend2"]["first_bad_debt_block"] == 40
    assert rows["other"]["debtrank_round"] == -1 and rows["other"]["loss_usd"] == 0.0
    assert cmp["order_static"] == ["lend", "lend2"] and cmp["order_dynamic"] == ["lend", "lend2"]
    assert cmp["rank_agreement"] == pytest.approx(1.0)
    assert comparison_table(cmp).row_count == 3
    assert plot_comparison(cmp, tmp_path / "c.png").stat().st_size > 1000


def test_static_and_dynamic_on_the_scenario_built_from_the_graph():
    g = _graph()
    scenario = scenario_model_from_graph(g, scale=0.2, blocks=400)
    result = simulate(scenario)
    cmp = compare_static_dynamic(g, result)
    rows = {r["protocol"]: r for r in cmp["protocols"]}
    assert rows["lend"]["simulated"] and rows["lend2"]["simulated"]
    assert rows["other"]["simulated"] is False  # no collateral: not in the scenario
    summary = result.summary["protocols"]["lend"]
    assert rows["lend"]["loss_usd"] == max(summary["bad_debt_usd"],
                                           summary["insurance_fund_drawn_usd"] + summary["socialized_usd"])
    assert rows["lend"]["liquidations"] > 0
    assert cmp["shock"]["name"] == "eth -40%"
