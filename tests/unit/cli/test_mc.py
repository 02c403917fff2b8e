"""`defisim mc`: path dataset, summary.json consistent with it, plots, resume, bad input.

The scenario is the bundled default cut down to a few dozen borrowers and 60 blocks, with a
gbm price model and a stress crash so every path differs and has bad debt.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from defisim.cli.main import app
from defisim.montecarlo.report import summarize_dataset, write_mc_outputs
from defisim.montecarlo.runner import read_dataset
from tests.tiny_scenarios import tiny_default, write_yaml

ROOT = Path(__file__).resolve().parents[3]
PATHS = 24
SEED = 11
runner = CliRunner()


def _tiny_yaml(folder: Path) -> Path:
    return write_yaml(tiny_default("mc-cli-tiny", blocks=60, aave=25, spark=20), folder)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One completed `defisim mc` run: (scenario file, results folder, output)."""
    folder = tmp_path_factory.mktemp("mc-cli")
    scenario, out = _tiny_yaml(folder), folder / "out"
    res = runner.invoke(app, ["mc", str(scenario), "--paths", str(PATHS), "--seed", str(SEED),
                              "--workers", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return scenario, out, res.output


def test_mc_writes_dataset_summary_and_plots(done: tuple[Path, Path, str]) -> None:
    _, out, output = done
    df = read_dataset(out)
    assert list(df["path"]) == list(range(PATHS))
    assert df["aave.bad_debt_usd"].nunique() > 1  # the gbm paths differ
    summary = json.loads((out / "summary.json").read_text())
    assert summary["paths"] == PATHS and summary["rng_seed"] == SEED
    assert set(summary["protocols"]) == {"aave", "spark"}
    for protocol, entry in summary["protocols"].items():
        assert {"metrics", "p_insolvency", "p_insolvency_ci", "tail"} <= set(entry)
        for metric in ("bad_debt_usd", "liquidation_volume_usd", "insurance_fund_drawn_usd",
                       "socialized_usd", "liquidations"):
            col = df[f"{protocol}.{metric}"].astype(float)
            stats = entry["metrics"][metric]
            assert stats["n"] == PATHS
            assert stats["mean"] == pytest.approx(col.mean(), rel=1e-12)
            assert stats["max"] == col.max() and stats["min"] == col.min()
            assert [lv["level"] for lv in stats["levels"]] == [0.95, 0.99, 0.999]
            assert stats["levels"][-1]["var"] == col.max()  # 0.999 of 24 paths: the worst one
        bad = df[f"{protocol}.bad_debt_usd"]
        assert entry["p_insolvency"] == pytest.approx((bad > 0).mean())
        tail = entry["tail"]
        if tail["available"]:
            assert tail["shape"] == tail["fit"]["shape"] and len(tail["quantiles"]) == 3
        else:
            assert tail["reason"].startswith("no tail fit: ")
        assert "aave.tokens_burned_base_units.AAVE" in df.columns
        assert "tokens_burned_base_units.AAVE" in summary["protocols"]["aave"]["metrics"]
    pngs = sorted((out / "plots").glob("*.png"))
    names = {p.name for p in pngs}
    assert {"aave.histograms.png", "spark.histograms.png", "aave.mean_excess.png"} <= names
    assert all(p.stat().st_size > 1000 for p in pngs)
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temp files left
    for word in ("aave", "spark", "P(insolvency)", "VaR / ES 99.9%", "tail shape",
                 "liquidation volume mean", "insurance fund drawn mean"):
        assert word in output


def test_resume_of_a_complete_folder_runs_nothing_and_gives_the_same_summary(
        done: tuple[Path, Path, str]) -> None:
    scenario, out, _ = done
    before = (out / "summary.json").read_bytes()
    parts = {p: p.stat().st_mtime_ns for p in (out / "paths").iterdir()}
    res = runner.invoke(app, ["mc", str(scenario), "--paths", str(PATHS), "--seed", str(SEED),
                              "--workers", "2", "--out", str(out), "--resume", "-q"])
    assert res.exit_code == 0, res.output
    assert f"0 run, {PATHS} already present" in " ".join(res.output.split())
    assert (out / "summary.json").read_bytes() == before
    assert {p: p.stat().st_mtime_ns for p in (out / "paths").iterdir()} == parts


def test_resume_into_another_batch_folder_is_refused(done: tuple[Path, Path, str]) -> None:
    scenario, out, _ = done
    res = runner.invoke(app, ["mc", str(scenario), "--paths", str(PATHS), "--seed", str(SEED + 1),
                              "--out", str(out), "--resume", "-q"])
    assert res.exit_code == 2, res.output
    assert "different" in res.output and "seed" in res.output
    assert "Traceback" not in res.output


def test_non_empty_folder_without_resume_is_refused(done: tuple[Path, Path, str]) -> None:
    scenario, out, _ = done
    res = runner.invoke(app, ["mc", str(scenario), "--paths", str(PATHS), "--out", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert "not empty" in res.output and "resume" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["--paths", "0"], "--paths must be >= 1"),
    (["--paths", "3", "--workers", "0"], "--workers must be >= 1"),
])
def test_bad_numbers_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    res = runner.invoke(app, ["mc", *args, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not (tmp_path / "o").exists()


def test_ctrl_c_says_resume_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import defisim.montecarlo.runner as mc_runner

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mc_runner, "run_paths", interrupted)
    res = runner.invoke(app, ["mc", str(_tiny_yaml(tmp_path)), "--paths", "5", "--out",
                              str(tmp_path / "o"), "-q"])
    assert res.exit_code == 130, res.output
    assert "--resume" in res.output


# --- the library functions on synthetic data --------------------------------------------

def _synthetic(n: int, bad_debt: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "path": np.arange(n), "path_seed": np.arange(n),
        "aave.bad_debt_usd": bad_debt,
        "aave.liquidation_volume_usd": rng.random(n) * 1e6,
        "aave.tokens_burned_base_units.AAVE": pd.Series([10**20 + i for i in range(n)], dtype=object),
        "run_seconds": rng.random(n),
    })


def test_heavy_tail_gets_a_gpd_fit_and_a_tail_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 400
    bad = np.where(rng.random(n) < 0.6, rng.pareto(3.0, n) * 1000.0, 0.0)
    df = _synthetic(n, bad)
    summary = summarize_dataset(df, rng_seed=5)
    assert summary == summarize_dataset(df.assign(run_seconds=0.0), rng_seed=5)  # timing ignored
    tail = summary["protocols"]["aave"]["tail"]
    assert tail["available"] and 0.0 < tail["shape"] < 1.0
    lo, hi = tail["shape_ci"]
    assert lo < tail["shape"] < hi
    assert [q["level"] for q in tail["quantiles"]] == [0.95, 0.99, 0.999]
    assert tail["quantiles"][0]["value"] < tail["quantiles"][2]["value"]
    written = write_mc_outputs(df, summary, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "summary.json", "plots/aave.histograms.png", "plots/aave.mean_excess.png",
        "plots/aave.tail.png"]
    assert json.loads((tmp_path / "summary.json").read_text()) == summary


def test_no_bad_debt_gives_a_reason_not_a_crash(tmp_path: Path) -> None:
    df = _synthetic(50, np.zeros(50))
    summary = summarize_dataset(df, rng_seed=None)
    entry = summary["protocols"]["aave"]
    assert entry["p_insolvency"] == 0.0
    assert entry["tail"]["available"] is False
    assert entry["tail"]["reason"].startswith("no tail fit: ")
    written = write_mc_outputs(df, summary, tmp_path)
    assert [p.name for p in written] == ["summary.json", "aave.histograms.png"]
