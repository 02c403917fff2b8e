"""The bundled scenario scripts run and their figures agree with the records."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import defisim
from defisim.engine.records import PositionLiquidated

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCENARIOS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_bonus_sweep_trades_bad_debt_for_liquidator_profit() -> None:
    rows = _load("sweep_liquidation_bonus").sweep([0.02, 0.10], blocks=450)
    low, high = rows
    assert (low["bonus"], high["bonus"]) == (0.02, 0.10)
    assert high["bad_debt_usd"] < low["bad_debt_usd"]
    assert high["liquidator_profit_usd"] > low["liquidator_profit_usd"]
    assert low["liquidations"] > 0 and high["liquidations"] > 0


def test_benchmark_scenario_is_valid_and_crashes_both_assets() -> None:
    bench = _load("benchmark")
    scenario = bench.benchmark_scenario(300, blocks=1200)
    result = defisim.simulate(scenario)
    assert {p.name for p in scenario.protocols} == {"aave"}
    assert len([b for b in scenario.protocols[0].borrowers]) == 2
    assert sum(b.count for b in scenario.protocols[0].borrowers) == 300
    liqs = result.records.of_type(PositionLiquidated)
    assert {r.collateral_asset for r in liqs} >= {"WETH", "WBTC"}
    flat = defisim.simulate(bench.benchmark_scenario(300, blocks=600, crash=False))
    assert flat.records.of_type(PositionLiquidated) == []
