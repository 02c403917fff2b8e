"""`defisim run`: results folder, refusal to clobber, bad input without traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from defisim.cli.main import app
from tests.integration.scenarios import one_liquidation

runner = CliRunner()


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(one_liquidation()))
    return path


def test_run_writes_a_complete_results_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(_scenario(tmp_path)), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "liquidations" in res.output and "aave" in res.output
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == ["plots/health.png", "plots/prices.png", "plots/solvency.png",
                     "records.csv", "records.parquet", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocols"]["aave"]["liquidations"] == 1
    assert summary["seed"] == 1 and summary["meta"]["scenario_digest"]
    frame = pd.read_parquet(out / "records.parquet")
    assert (frame["record"] == "PositionLiquidated").sum() == 1
    assert not list(tmp_path.glob("*.partial-*"))


def test_seed_and_blocks_options_are_used(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(_scenario(tmp_path)), "--out", str(out), "-q", "--seed", "5",
                              "--blocks", "4"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["seed"], summary["blocks"]) == (5, 4)
    assert summary["protocols"]["aave"]["liquidations"] == 0  # the price moves at block 6


def test_existing_results_are_never_clobbered(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(scenario), "--out", str(out), "-q"]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    res = runner.invoke(app, ["run", str(scenario), "--out", str(out), "-q", "--seed", "3"])
    assert res.exit_code == 2
    assert "--overwrite" in res.output and "Traceback" not in res.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    res = runner.invoke(app, ["run", str(scenario), "--out", str(out), "-q", "--seed", "3", "--overwrite"])
    assert res.exit_code == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 3


def test_bad_scenario_exits_2_and_leaves_no_folder(tmp_path: Path) -> None:
    data = one_liquidation()
    data["protocols"][0]["reserves"]["WETH"]["ltv"] = 0.9  # above LT 0.825
    data["agents"][0]["protocols"] = ["nope"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    assert "protocols.0.reserves.WETH" in res.output and "agents.0.protocols.0" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob("out*"))


def test_infeasible_borrow_is_a_scenario_error(tmp_path: Path) -> None:
    data = one_liquidation()
    data["protocols"][0]["accounts"][0]["borrow"] = {"USDC": "16200 USDC"}  # above the 80 % LTV, below the LT
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "protocols.0.accounts.0.borrow.USDC" in res.output and "COLLATERAL_CANNOT_COVER_NEW_BORROW" in res.output
    assert "Traceback" not in res.output


def test_default_run_uses_the_bundled_scenario(tmp_path: Path) -> None:
    out = tmp_path / "default"
    res = runner.invoke(app, ["run", "--blocks", "20", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["scenario"] == "two-pools-eth-crash"
