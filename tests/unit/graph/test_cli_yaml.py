"""``defisim graph`` on a scenario (the graph of its state), with --block and --simulate."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from defisim.cli.graph_cmd import graph as graph_command
from defisim.graph import load_graph

ROOT = Path(__file__).resolve().parents[3]
app = typer.Typer(pretty_exceptions_enable=False)
app.command()(graph_command)


@app.command()
def _other() -> None:  # a second command keeps "graph" as a subcommand name
    pass


runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["graph", *args], env={"COLUMNS": "200"})


def test_yaml_at_start_writes_report_graph_and_exports(tmp_path):
    out = tmp_path / "a"
    r = _run(str(ROOT / "scenarios" / "default.yaml"), "-o", str(out), "--no-draw")
    assert r.exit_code == 0, r.output
    for name in ("report.json", "graph.json", "graph.graphml", "graph.gexf", "graph.node-link.json"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["graph"]["block"] == 0
    assert report["shocks"][0]["name"] == "WETH -40% (path)"
    assert {x["node"] for x in report["ranking"]} >= {"aave", "spark", "WETH"}
    assert load_graph(out / "graph.json").node("aave").family == "aave-v3"  # re-readable file


def test_yaml_at_a_block_and_simulate(tmp_path):
    out = tmp_path / "b"
    r = _run(str(ROOT / "scenarios" / "default.yaml"), "--block", "300", "--blocks", "600", "--simulate",
             "-o", str(out), "--no-export")
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    assert report["graph"]["block"] == 300
    cmp = json.loads((out / "comparison.json").read_text())
    assert {row["protocol"] for row in cmp["protocols"]} == {"aave", "spark"}
    assert (out / "comparison.png").stat().st_size > 1000
    assert any(p.name.startswith("shock-") for p in out.iterdir())


def test_graph_file_simulate_and_bad_inputs(tmp_path):
    out = tmp_path / "c"
    r = _run(str(ROOT / "graphs" / "example_small.json"), "--simulate", "--blocks", "300", "--scale", "0.02",
             "-o", str(out), "--no-export", "--no-draw")
    assert r.exit_code == 0, r.output
    cmp = json.loads((out / "comparison.json").read_text())
    assert cmp["shock"]["name"] == "sLST -30%"
    r = _run(str(ROOT / "scenarios" / "default.yaml"), "--block", "99999", "-o", str(tmp_path / "d"))
    assert r.exit_code == 2 and "after the run's last block" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    r = _run(str(bad), "-o", str(tmp_path / "e"))
    assert r.exit_code == 2 and "invalid scenario" in r.output
    r = _run(str(tmp_path / "x.csv"))
    assert r.exit_code == 2
