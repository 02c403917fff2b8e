"""Figure dates: each figure is dated by its own ``as_of``, else its source's; counted against
the graph's stated date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from defisim.graph import exposure_graph, graph_file_from_dict
from defisim.graph.dates import figure_dates
from defisim.graph.io import load_graph
from tests.unit.graph.conftest import graph_data

ROOT = Path(__file__).resolve().parents[3]


def _dated() -> dict[str, Any]:
    data = graph_data(
        nodes=[("p", "protocol", 100.0, 10.0), ("q", "protocol", 50.0, 0.0), ("a", "asset", 80.0),
               ("o", "oracle", 0.0)],
        edges=[("a", "p", "collateral_held_in", 60.0), ("a", "q", "collateral_held_in", 20.0),
               ("o", "p", "oracle_feeds", 0.0)],
    )
    data["meta"]["sources"] = {
        "test": {"title": "at the date", "retrieved": "2025-02-10", "as_of": "2025-01-31"},
        "late": {"title": "ten days late", "retrieved": "2025-02-10", "as_of": "2025-02-10"},
        "undated": {"title": "no date", "retrieved": "2025-02-10"},
    }
    nodes = {n["id"]: n for n in data["nodes"]}
    nodes["q"]["source"] = "late"
    nodes["a"]["source"] = "undated"
    nodes["p"]["equity_source"] = "late"
    data["edges"][1]["source_ref"] = "undated"
    data["edges"][1]["as_of"] = "2025-01-29"  # its own date wins over the source's none
    return data


def test_each_figure_dated_by_itself_else_its_source() -> None:
    cov = figure_dates(exposure_graph(graph_file_from_dict(_dated())))
    days = {f.what: f.day for f in cov.figures}
    assert days == {
        "p value": date(2025, 1, 31), "p equity": date(2025, 2, 10),
        "q value": date(2025, 2, 10),  # q's equity is 0: a statement, not a figure
        "a value": None,
        "a collateral_held_in p": date(2025, 1, 31), "a collateral_held_in q": date(2025, 1, 29),
    }  # the oracle's 0 value and the 0 oracle_feeds edge are not figures
    assert [f.what for f in cov.at_date()] == ["p value", "a collateral_held_in p"]
    assert [f.what for f in cov.near()] == ["a collateral_held_in q"]
    assert [f.what for f in cov.far()] == ["p equity", "q value"]
    assert [f.what for f in cov.near(days=10)] == ["p equity", "q value", "a collateral_held_in q"]
    assert [f.what for f in cov.undated()] == ["a value"]
    assert cov.span() == (date(2025, 1, 29), date(2025, 2, 10))
    assert cov.summary() == ("6 figures: 2 at 2025-01-31, 1 within 7 days, 2 further "
                             "(dated 2025-02-10 .. 2025-02-10), 1 undated")
    as_dict = cov.to_dict()
    assert (as_dict["at_date"], as_dict["near"], as_dict["far"], as_dict["undated"]) == (2, 1, 2, 1)
    assert {f["what"]: f["offset_days"] for f in as_dict["figures"]}["q value"] == 10


def test_a_bad_date_names_the_field() -> None:
    from defisim.graph.schema import GraphFileError

    data = _dated()
    data["edges"][0]["as_of"] = "2025-02-30"
    try:
        graph_file_from_dict(data)
    except GraphFileError as exc:
        assert any(path.startswith("edges.0.as_of") for path, _ in exc.problems), exc.problems
    else:
        raise AssertionError("2025-02-30 accepted")


def test_bundled_mainnet_graph_dates_every_figure_it_can() -> None:
    """The bundled graph's dates as its SOURCES.md states them: the Aave V3 Core reserves at the
    date, the off-date and undated figures listed there."""
    cov = figure_dates(load_graph(ROOT / "graphs" / "ethereum_mainnet_2025-09.json"))
    assert cov.as_of == date(2025, 9, 1)
    at = {f.what for f in cov.at_date()}
    assert {"usdc collateral_held_in aave-v3", "usdt collateral_held_in aave-v3",
            "steth collateral_held_in aave-v3", "wbtc collateral_held_in aave-v3"} <= at
    off = {f.what: f.offset_days(cov.as_of) for f in cov.figures}
    assert off["compound-v3 value"] == 25 and off["morpho-blue value"] == 17
    assert off["aave-v3 value"] == -18  # derived from Sep 01 and Aug 14 figures: the oldest
    assert {f.what for f in cov.undated()} >= {"spark value", "curve-steth-eth value"}


def test_dated_graph_exports_and_round_trips(tmp_path: Path) -> None:
    """Dates on nodes and edges survive GraphML, GEXF and node-link JSON, and the networkx
    graph turns back into the same file model."""
    import networkx as nx

    from defisim.graph import (
        as_exposure_graph,
        write_gexf,
        write_graphml,
        write_node_link_json,
    )

    g = exposure_graph(graph_file_from_dict(_dated()))
    write_graphml(g, tmp_path / "g.graphml")
    write_gexf(g, tmp_path / "g.gexf")
    write_node_link_json(g, tmp_path / "g.json")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert [d.get("as_of") for u, v, d in back.edges(data=True) if (u, v) == ("a", "q")] == ["2025-01-29"]
    again = as_exposure_graph(g.nx)
    assert again.file == g.file
    assert figure_dates(again).summary() == figure_dates(g).summary()
