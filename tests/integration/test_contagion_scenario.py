"""The bundled contagion scenario: Maker bad debt -> DAI depeg after the PSM drains -> Aave
liquidates DAI collateral and socialises its deficit -> waUSDC devalues -> Morpho liquidates.

Asserts the order and that every link fired, not amounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from defisim.engine.contagion import (
    HolderSold,
    PegLost,
    PsmBufferDrained,
    ReceiptRateDropped,
    distress_path,
    first_distress_by_protocol,
)
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    PositionLiquidated,
)
from defisim.errors import ScenarioError
from defisim.results import Result
from defisim.scenario.loader import load_scenario, scenario_from_dict
from defisim.scenario.models import RunSpec
from defisim.simulate import simulate

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "contagion.yaml"


@pytest.fixture(scope="module")
def result() -> Result:
    scn = load_scenario(SCENARIO)
    scn = scn.model_copy(update={"run": RunSpec(sample_every_blocks=25, check_invariants_every_blocks=100)})
    return simulate(scn)


def first(result: Result, cls: type, **match: str) -> int:
    blocks = [r.block for r in result.records if isinstance(r, cls)
              and all(getattr(r, k) == v for k, v in match.items())]
    assert blocks, f"no {cls.__name__} {match}"
    return min(blocks)


def test_distress_crosses_three_protocols_in_order(result: Result) -> None:
    maker_bad = first(result, BadDebtRealized, protocol="maker")
    holders = first(result, HolderSold, protocol="maker")
    drained = first(result, PsmBufferDrained, protocol="maker")
    depeg = first(result, PegLost, stablecoin="DAI")
    aave_liq = first(result, PositionLiquidated, protocol="aave", collateral_asset="DAI")
    aave_loss = first(result, BadDebtSocialized, protocol="aave")
    devalued = first(result, ReceiptRateDropped, token="waUSDC", protocol="aave")
    morpho_liq = first(result, PositionLiquidated, protocol="morpho", collateral_asset="waUSDC")
    assert maker_bad <= holders <= drained <= depeg <= aave_liq <= aave_loss < devalued <= morpho_liq
    assert next(r for r in result.records if isinstance(r, PegLost)).cause == "psm-drained"


def test_distress_path_names_each_link(result: Result) -> None:
    path = distress_path(result.records)
    first_by = first_distress_by_protocol(result.records)
    assert first_by["maker"].link == "collateral WETH"
    assert first_by["aave"].link == "collateral DAI (issued by maker)"
    assert first_by["waUSDC"].link == "socialized loss of aave"
    assert first_by["morpho"].link == "collateral waUSDC (issued by aave)"
    order = [e.node for e in path if e.kind in ("bad-debt", "depeg", "receipt-devalued") or
             (e.kind == "liquidation" and e.node in ("aave", "morpho"))]
    assert order.index("DAI") < order.index("aave") < order.index("waUSDC") < order.index("morpho")


def test_conservation_and_component_invariants_hold(result: Result) -> None:
    assert result.world is not None
    assert result.world.invariant_errors() == []


def test_no_receipt_devaluation_without_aave_loss(result: Result) -> None:
    # the rate only falls in blocks right after Aave socialised a loss
    losses = {r.block for r in result.records if isinstance(r, BadDebtSocialized) and r.protocol == "aave"}
    for r in result.records:
        if isinstance(r, ReceiptRateDropped):
            assert r.block - 1 in losses


def test_scenario_references_are_checked() -> None:
    import yaml

    data = yaml.safe_load(SCENARIO.read_text())
    data["oracles"][-1]["receipt"] = "nope"
    with pytest.raises(ScenarioError, match="receipt"):
        scenario_from_dict(data)
    data = yaml.safe_load(SCENARIO.read_text())
    protocols = data["protocols"]
    wrapper = next(p for p in protocols if p["kind"] == "aave-static-atoken")
    protocols.remove(wrapper)
    protocols.append(wrapper)  # after the morpho market that prices waUSDC with its oracle
    with pytest.raises(ScenarioError, match="list it after the wrapper"):
        scenario_from_dict(data)


def test_run_output_shows_the_path_of_distress(result: Result) -> None:
    from rich.console import Console

    from defisim.cli.tables import distress_table

    table = distress_table(result)
    assert table is not None
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    rows = [line for line in text.splitlines() if line.strip()[:1] == "│"]
    nodes = [row.split("│")[2].strip() for row in rows]
    assert nodes.index("maker") < nodes.index("DAI") < nodes.index("aave") < nodes.index("waUSDC") < nodes.index("morpho")
    assert "collateral waUSDC (issued by aave)" in text
