"""Exports round-trip through networkx; the PNG is written; ``defisim graph`` end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import networkx as nx
import pytest
import typer
from typer.testing import CliRunner

from defisim.cli.graph_cmd import graph as graph_command
from defisim.graph import (
    as_exposure_graph,
    draw_graph,
    graph_to_file,
    load_graph,
    write_gexf,
    write_graphml,
    write_node_link_json,
)

ROOT = Path(__file__).resolve().parents[3]
SCALARS = ("kind", "value_usd", "equity_usd", "source", "symbol", "label", "chain", "notes")


def _edges(g: nx.MultiDiGraph) -> dict[tuple[str, str, str], dict]:
    return {(u, v, d["kind"]): d for u, v, d in g.edges(data=True)}


def test_graphml_round_trip(example_path: Path, tmp_path: Path) -> None:
    g = load_graph(example_path)
    back = nx.read_graphml(write_graphml(g, tmp_path / "g.graphml"), force_multigraph=True)
    assert set(back.nodes) == set(g.nx.nodes)
    for n, attrs in g.nx.nodes(data=True):
        for key in SCALARS:
            if key in attrs:
                assert back.nodes[n][key] == attrs[key], (n, key)
    assert set(back.edges(keys=True)) == set(g.nx.edges(keys=True))
    ours = _edges(g.nx)
    for key, d in _edges(back).items():
        assert d["value_usd"] == ours[key]["value_usd"] and d["source_ref"] == ours[key]["source_ref"]
        if "amount_base_units" in ours[key]:
            assert int(d["amount_base_units"]) == ours[key]["amount_base_units"]  # exact, as text
    assert back.graph["as_of"] == "2025-01-31"
    assert json.loads(back.graph["shocks_json"])[0]["asset"] == "steth"
    assert "illustrative" in json.loads(back.graph["sources_json"])


def test_gexf_round_trip(example_path: Path, tmp_path: Path) -> None:
    g = load_graph(example_path)
    back = nx.read_gexf(write_gexf(g, tmp_path / "g.gexf"))
    assert set(back.nodes) == set(g.nx.nodes)
    for n, attrs in g.nx.nodes(data=True):
        assert back.nodes[n]["label"] == attrs.get("label", n)
        for key in ("kind", "value_usd", "equity_usd", "source"):
            if key in attrs:
                assert back.nodes[n][key] == attrs[key]
    assert set(_edges(back)) == set(_edges(g.nx))
    ours = _edges(g.nx)
    for key, d in _edges(back).items():
        assert d["value_usd"] == ours[key]["value_usd"]
        if "amount_base_units" in ours[key]:
            assert int(d["amount_base_units"]) == ours[key]["amount_base_units"]


def test_node_link_json_round_trip_is_exact(example_path: Path, tmp_path: Path) -> None:
    g = load_graph(example_path)
    data = json.loads(write_node_link_json(g, tmp_path / "g.json").read_text())
    back = nx.node_link_graph(data, edges="edges")
    assert isinstance(back, nx.MultiDiGraph)
    assert dict(back.nodes(data=True)) == dict(g.nx.nodes(data=True))
    assert sorted(back.edges(keys=True, data=True), key=str) == sorted(g.nx.edges(keys=True, data=True), key=str)
    assert back.graph["sources"] == g.nx.graph["sources"]
    # and a networkx graph in this layout is accepted by the metrics (edges grouped by source)
    again = as_exposure_graph(back).file
    assert again.meta == g.file.meta and again.nodes == g.file.nodes and again.shocks == g.file.shocks
    assert sorted(again.edges, key=repr) == sorted(g.file.edges, key=repr)


def test_graph_file_round_trip(example_path: Path, tmp_path: Path) -> None:
    g = load_graph(example_path)
    again = load_graph(graph_to_file(g, tmp_path / "again.json"))
    assert again.file == g.file


def test_png_is_written(example_path: Path, tmp_path: Path) -> None:
    g = load_graph(example_path)
    p = draw_graph(g, tmp_path / "sub" / "g.png", distress={"lendx": 1.0, "steth": 0.3}, max_nodes=5)
    head = p.read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


# --- the command -------------------------------------------------------------------------------

app = typer.Typer(pretty_exceptions_enable=False)
app.command()(graph_command)


@app.command()
def _other() -> None:  # a second command, so ``graph`` is a subcommand as in ``defisim graph``
    """Placeholder."""


runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["graph", *args], env={"COLUMNS": "200"})


def test_cli_on_the_example(example_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run(str(example_path), "--out", str(out), "--top", "5")
    assert res.exit_code == 0, res.output
    text = res.output
    assert "Systemic importance" in text and "DebtRank" in text and "centrality" in text
    assert "Largest exposure paths" in text and "-[collateral_held_in]->" in text
    assert "Shock 'sLST -30%'" in text and "Critical shock (systemic: defaults>=1)" in text
    names = {p.name for p in out.iterdir()}
    assert {"graph.graphml", "graph.gexf", "graph.node-link.json", "report.json"} <= names
    assert len([n for n in names if n.endswith(".png")]) == 3
    report = json.loads((out / "report.json").read_text())
    first = report["shocks"][0]
    assert first["name"] == "sLST -30%" and first["distressed"][0] == {
        "node": "steth", "kind": "asset", "round": 0, "h": 0.3, "loss_usd": pytest.approx(2.4e8)}
    assert [c["node"] for c in report["critical"]] == ["steth", "lendx", "lst"]


def test_cli_ad_hoc_shock_and_critical(example_path: Path, tmp_path: Path) -> None:
    res = run(str(example_path), "-o", str(tmp_path / "o"), "-s", "eth=-20%", "-c", "usdx",
              "--systemic", "R>=0.05", "--no-draw", "--no-export")
    assert res.exit_code == 0, res.output
    assert "Shock 'eth -20%'" in res.output and "Critical shock (systemic: R>=0.05)" in res.output
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["report.json"]


@pytest.mark.parametrize(("args", "expect"), [
    (["-s", "sLST -31%"], "did you mean 'sLST -30%'"),
    (["-s", "stethh=-30%"], "unknown node 'stethh'; did you mean 'steth'"),
    (["-c", "lendxx"], "did you mean 'lendx'"),
    (["--systemic", "R>0.1"], "cannot read systemic criterion"),
])
def test_cli_bad_requests_exit_2(example_path: Path, tmp_path: Path, args: list[str], expect: str) -> None:
    res = run(str(example_path), "-o", str(tmp_path / "o"), *args)
    assert res.exit_code == 2
    assert expect in res.output and "Traceback" not in res.output


def test_cli_invalid_file_lists_problems(example_data: dict, tmp_path: Path) -> None:
    example_data["edges"][0]["value_usd"] = -1
    example_data["edges"][1]["target"] = "nowhere"
    example_data["nodes"][2]["kind"] = "protocl"
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(example_data))
    res = run(str(p))
    assert res.exit_code == 2
    assert "invalid graph file" in res.output and "3 problem(s)" in res.output
    assert "'eth' -> 'lendx' (collateral_held_in)" in res.output
    assert "unknown node 'nowhere'" in res.output and "did you mean 'protocol'" in res.output
    assert "Traceback" not in res.output


def test_cli_refuses_an_unknown_file_type(tmp_path: Path) -> None:
    res = run(str(tmp_path / "g.csv"))
    assert res.exit_code == 2 and ".json" in res.output


def test_benchmark_script_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "scenarios"))
    try:
        import graph_benchmark
    finally:
        sys.path.pop(0)
    times = graph_benchmark.main(["--nodes", "400", "--edges", "3000", "--shocks", "2"])
    assert "one DebtRank (asset -30%)" in times
    assert "DebtRank + shock analysis" in capsys.readouterr().out


def test_cli_reports_figure_dates(tmp_path: Path) -> None:
    """A graph assembled from reports of several days says so: the count line and, in
    report.json, every figure's date; a graph whose figures are all at its date prints no line."""
    from defisim.graph.dates import figure_dates

    mainnet = Path(__file__).resolve().parents[3] / "graphs" / "ethereum_mainnet_2025-09.json"
    res = run(str(mainnet), "--out", str(tmp_path / "m"), "--no-draw", "--no-export")
    assert res.exit_code == 0, res.output
    expected = figure_dates(load_graph(mainnet))
    assert f"figure dates: {expected.summary()}" in " ".join(res.output.split())
    report = json.loads((tmp_path / "m" / "report.json").read_text())
    assert report["figure_dates"]["at_date"] == len(expected.at_date()) > 0
    assert len(report["figure_dates"]["figures"]) == len(expected.figures)

    scenario = Path(__file__).resolve().parents[3] / "scenarios" / "default.yaml"
    res = run(str(scenario), "--out", str(tmp_path / "s"), "--no-draw", "--no-export")
    assert res.exit_code == 0, res.output
    assert "figure dates" not in res.output
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["figure_dates"]["undated"] == 0 and report["figure_dates"]["far"] == 0
