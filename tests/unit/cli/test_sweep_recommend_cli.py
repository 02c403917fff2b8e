"""`defisim sweep` and `defisim recommend`: outputs, exit codes, and every bad input refused
with a message naming the problem (exit 2, no traceback)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim.cli.main import app
from tests.tiny_scenarios import tiny_default, write_yaml

ROOT = Path(__file__).resolve().parents[3]
LT = "protocols.aave.reserves.WETH.liquidation_threshold"
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    spec = tiny_default("cli-sweep-tiny", blocks=40, aave=20, spark=10, stress_at="3m", depth=0.4, over="1m")
    return write_yaml(spec, tmp_path_factory.mktemp("tiny"))


class _Out:
    """A CLI result with its output's line wrapping undone (rich wraps at the terminal width)."""

    def __init__(self, res) -> None:
        self.exit_code, self.raw = res.exit_code, res.output
        self.output = " ".join(res.output.split())


def _run(*args: str) -> _Out:
    return _Out(runner.invoke(app, list(args)))


def test_sweep_writes_json_csv_and_plots(tiny, tmp_path) -> None:
    out = tmp_path / "s"
    res = _run("sweep", str(tiny), "-p", f"{LT}=0.81:0.85:0.02", "-m", "aave.bad_debt.mean",
               "-n", "4", "--workers", "1", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert "tornado" in res.output and "Sobol" in res.output
    data = json.loads((out / "sweep.json").read_text())
    assert [p["point"][LT] for p in data["points"]] == [0.81, 0.83, 0.85]
    assert all((out / "plots" / f).is_file() for f in ("response.png", "tornado.png", "sobol.png"))
    again = _run("sweep", str(tiny), "-p", f"{LT}=0.81:0.85:0.02", "-m", "aave.bad_debt.mean",
                 "-n", "4", "--workers", "1", "-o", str(out), "-q", "--resume")
    assert again.exit_code == 0, again.output
    assert json.loads((out / "sweep.json").read_text())["points"] == data["points"]


def test_recommend_reports_a_choice_or_exits_1(tiny, tmp_path) -> None:
    out = tmp_path / "r"
    res = _run("recommend", str(tiny), "-t", "aave.liquidations.mean < 1e9", "-p", f"{LT}=0.80:0.86:0.02",
               "-n", "4", "--workers", "1", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert "recommended" in res.output and f"{LT} = 0.86" in res.output
    assert json.loads((out / "recommend.json").read_text())["chosen"]["point"] == {LT: 0.86}
    none = _run("recommend", str(tiny), "-t", "aave.liquidations.mean < 0", "-p", f"{LT}=0.80:0.86:0.02",
                "-n", "4", "--workers", "1", "-o", str(tmp_path / "r2"), "-q")
    assert none.exit_code == 1, none.output
    assert "no setting meets the target" in none.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("args", "message"), [
    (["sweep", "-p", "protocols.aave.reserves.WETH.nope=0.1,0.2"], "no such parameter"),
    (["sweep", "-p", f"{LT}=0.9:0.8:0.01"], "inverted range"),
    (["sweep", "-p", f"{LT}=0.8:0.8:0.01"], "empty range"),
    (["sweep", "-p", f"{LT}=0.5,0.8"], "the scenario refuses this point"),
    (["sweep"], "give at least one --param"),
    (["sweep", "-p", f"{LT}=0.8,0.81", "-m", "bad_debt.var"], "--metric"),
    (["sweep", "-p", f"{LT}=0.8,0.81", "--sobol", "6"], "power of two"),
    (["recommend", "-p", f"{LT}=0.8,0.81", "-t", "bad_debt.var99 <"], "does not parse"),
    (["recommend", "-p", f"{LT}=0.8,0.81", "-t", "bad_debt.var99 < 1e6 +"], "is not a number"),
    (["recommend", "-p", f"{LT}=0.8,0.81"], "give a --target"),
    (["recommend", "-p", "chain.gas_limit=1000000,2000000", "-t", "bad_debt.var99 < 1"], "--maximize chain.gas_limit"),
    (["recommend", "-p", f"{LT}=0.8,0.81", "-t", "bad_debt.var99 < 1", "--minimize", "chain.blocks"], "not one of the --param"),
    (["mc", "-n", "2", "--scheduler", "http://127.0.0.1:8786"], "tcp://"),
])
def test_bad_input_exits_2_naming_the_problem(tiny, tmp_path, args, message) -> None:
    res = _run(args[0], str(tiny), *args[1:], "-n", "2", "-o", str(tmp_path / "o"), "-q") \
        if "-n" not in args else _run(args[0], str(tiny), *args[1:], "-o", str(tmp_path / "o"), "-q")
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()  # bad input writes nothing


def test_unreachable_scheduler_exits_2(tiny, tmp_path) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    res = _run("sweep", str(tiny), "-p", f"{LT}=0.8,0.81", "-n", "2", "--scheduler", address,
               "-o", str(tmp_path / "o"), "-q")
    assert res.exit_code == 2, res.output
    assert address in res.output and "Traceback" not in res.output


def test_resume_refuses_a_folder_from_another_study(tiny, tmp_path) -> None:
    out = tmp_path / "s"
    ok = _run("sweep", str(tiny), "-p", f"{LT}=0.81,0.83", "-n", "2", "--workers", "1", "-o", str(out), "-q")
    assert ok.exit_code == 0, ok.output
    res = _run("sweep", str(tiny), "-p", f"{LT}=0.81,0.85", "-n", "2", "--workers", "1", "-o", str(out),
               "-q", "--resume")
    assert res.exit_code == 2 and "different study" in res.output, res.output
    fresh = _run("sweep", str(tiny), "-p", f"{LT}=0.81,0.83", "-n", "2", "--workers", "1", "-o", str(out), "-q")
    assert fresh.exit_code == 2 and "already holds a study" in fresh.output


def test_sweep_and_mc_on_a_dask_cluster_match_in_process(tiny, tmp_path) -> None:
    """The same commands with --scheduler tcp://... (a real local cluster, 2 workers) give the
    same sweep and the same path dataset as in this process."""
    from defisim.montecarlo.executors import open_executor
    from defisim.montecarlo.runner import read_dataset

    sweep_args = ["sweep", str(tiny), "-p", f"{LT}=0.81,0.85", "-m", "bad_debt.var95", "-n", "4", "-q"]
    here = _run(*sweep_args, "--workers", "1", "-o", str(tmp_path / "here"))
    assert here.exit_code == 0, here.output
    with open_executor(scheduler="local", workers=2) as ex:
        address = ex.cluster.scheduler_address
        assert address.startswith("tcp://")
        there = _run(*sweep_args, "--scheduler", address, "-o", str(tmp_path / "there"))
        assert there.exit_code == 0, there.output
        mc_there = _run("mc", str(tiny), "-n", "5", "--scheduler", address, "-o", str(tmp_path / "mc-there"), "-q")
        assert mc_there.exit_code == 0, mc_there.output
        assert "dask" in mc_there.output
    a = json.loads((tmp_path / "here" / "sweep.json").read_text())
    b = json.loads((tmp_path / "there" / "sweep.json").read_text())
    assert a["points"] == b["points"] and a["tornado"] == b["tornado"]
    mc_here = _run("mc", str(tiny), "-n", "5", "--workers", "1", "-o", str(tmp_path / "mc-here"), "-q")
    assert mc_here.exit_code == 0, mc_here.output
    cols = [c for c in read_dataset(tmp_path / "mc-here").columns if c != "run_seconds"]
    assert read_dataset(tmp_path / "mc-here")[cols].equals(read_dataset(tmp_path / "mc-there")[cols])
