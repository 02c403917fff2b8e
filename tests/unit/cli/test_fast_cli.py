"""`--fast` (the vectorised screening estimate) through the CLI: `mc` and `sweep` give the
screen's own rows, and a scenario outside its scope exits 2 naming the component."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import defisim
from defisim.cli.main import app
from defisim.montecarlo.screening import screen_paths

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
LT = "protocols.aave.reserves.WETH.liquidation_threshold"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, defisim.scenario.models.ScenarioBase]:
    base = defisim.load_scenario(ROOT / "scenarios" / "one_pool_day.yaml")
    spec = defisim.with_overrides(base, {
        "name": "fast-cli", "chain.blocks": 400, "protocols.aave.borrowers.0.count": 40,
        "markets.weth-usdc.liquidity": {"WETH": "200 WETH", "USDC": "600000 USDC"},
        "markets.cex.depth_usd": 40_000_000, "protocols.aave.insurance_fund.initial": "6000 USDC",
        "protocols.aave.suppliers": {"USDC": "24000000 USDC", "WETH": "80 WETH"},
        "agents.arb.capital": {"WETH": "120 WETH", "USDC": "400000 USDC"},
        "prices.stress.at": "10m", "prices.stress.over": "20m"})
    path = tmp_path_factory.mktemp("fast") / "small.yaml"
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    return path, defisim.load_scenario(path)


def test_mc_fast_writes_the_screens_rows_and_a_summary(small, tmp_path) -> None:
    path, spec = small
    out = tmp_path / "mc"
    res = runner.invoke(app, ["mc", str(path), "-n", "30", "--seed", "4", "--fast", "--workers", "2",
                              "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out / "screen.parquet")
    want = screen_paths(spec, paths=30, seed=4)
    pd.testing.assert_frame_equal(got, want)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["paths"] == 30 and "aave" in summary["protocols"]
    again = runner.invoke(app, ["mc", str(path), "-n", "30", "--seed", "4", "--fast", "-o", str(out),
                                "-q", "--resume"])
    assert again.exit_code == 0 and "reused" in " ".join(again.output.split()), again.output
    other = runner.invoke(app, ["mc", str(path), "-n", "31", "--seed", "4", "--fast", "-o", str(out),
                                "-q", "--resume"])
    assert other.exit_code == 2 and "paths" in " ".join(other.output.split()), other.output


def test_sweep_fast_matches_the_screen_at_each_point(small, tmp_path) -> None:
    path, spec = small
    out = tmp_path / "sweep"
    res = runner.invoke(app, ["sweep", str(path), "-p", f"{LT}=0.80,0.86", "-m", "aave.liquidation_volume.mean",
                              "-n", "20", "--seed", "2", "--fast", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    points = json.loads((out / "sweep.json").read_text())["points"]
    for p in points:
        at = defisim.with_overrides(spec, p["point"])
        mean = screen_paths(at, paths=20, seed=2)["aave.liquidation_volume_usd"].mean()
        assert p["estimates"]["aave.liquidation_volume_usd.mean"]["value"] == pytest.approx(mean, rel=1e-12)


def test_fast_refuses_a_scenario_outside_its_scope(tmp_path) -> None:
    res = runner.invoke(app, ["mc", str(ROOT / "scenarios" / "default.yaml"), "-n", "3", "--fast",
                              "-o", str(tmp_path / "x"), "-q"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "aave-v3" in text and "Traceback" not in text
