"""Graph files: the example validates; every bad input is refused naming the node or edge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from defisim.errors import ScenarioError
from defisim.graph import (
    GraphFileError,
    graph_file_from_dict,
    graph_json_schema,
    load_graph,
    read_graph_file,
)


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(GraphFileError) as info:
        graph_file_from_dict(data, source="bad.json")
    assert isinstance(info.value, ScenarioError)  # same (field, message) shape as scenarios
    return info.value.problems


def one(data: dict[str, Any], field: str) -> str:
    found = [m for f, m in problems(data) if f == field]
    assert found, problems(data)
    return found[0]


def test_example_file_validates(example_path: Path) -> None:
    g = load_graph(example_path)
    kinds = {n.kind for n in g.nodes}
    assert kinds == {"protocol", "asset", "pool", "oracle", "account"}
    assert {e.kind for e in g.file.edges} == {
        "collateral_held_in", "debt_owed_to", "token_issued_by", "oracle_feeds",
        "oracle_reads_pool", "liquidations_sell_into"}
    assert len(g.shocks) == 3
    assert g.nx.number_of_nodes() == 9 and g.nx.number_of_edges() == 14
    # a digit string and a JSON integer both give exact ints
    amounts = [e.amount_base_units for e in g.file.edges if e.amount_base_units is not None]
    assert amounts == [10**23, 10**26]


def test_dangling_edge_names_the_edge_and_suggests(example_data: dict) -> None:
    example_data["edges"][1]["target"] = "lendxx"
    msg = one(example_data, "edges.1.target")
    assert "'steth' -> 'lendxx'" in msg and "did you mean 'lendx'" in msg


def test_negative_exposure_names_the_edge(example_data: dict) -> None:
    example_data["edges"][0]["value_usd"] = -5.0
    msg = one(example_data, "edges.0.value_usd")
    assert "'eth' -> 'lendx' (collateral_held_in)" in msg and "negative" in msg


def test_negative_node_value_names_the_node(example_data: dict) -> None:
    example_data["nodes"][0]["equity_usd"] = -1
    assert "node 'lendx'" in one(example_data, "nodes.0.equity_usd")


def test_unknown_node_kind_did_you_mean(example_data: dict) -> None:
    example_data["nodes"][0]["kind"] = "protocl"
    msg = one(example_data, "nodes.0.kind")
    assert "node 'lendx'" in msg and "did you mean 'protocol'" in msg


def test_unknown_edge_kind_did_you_mean(example_data: dict) -> None:
    example_data["edges"][0]["kind"] = "collateral_hold_in"
    assert "did you mean 'collateral_held_in'" in one(example_data, "edges.0.kind")


def test_duplicate_node_id(example_data: dict) -> None:
    example_data["nodes"].append(dict(example_data["nodes"][1]))
    assert "duplicate node id 'cdp' (first given at nodes.1)" in one(example_data, "nodes.9.id")


def test_duplicate_node_id_reported_with_schema_problems(example_data: dict) -> None:
    example_data["nodes"].append(dict(example_data["nodes"][1]))
    example_data["edges"][0]["value_usd"] = -1
    fields = [f for f, _ in problems(example_data)]
    assert "nodes.9.id" in fields and "edges.0.value_usd" in fields


def test_token_issued_by_itself_is_refused(example_data: dict) -> None:
    example_data["edges"].append({"source": "usdx", "target": "usdx", "kind": "token_issued_by",
                                  "value_usd": 1.0, "source_ref": "illustrative"})
    assert "a token cannot be issued by itself" in one(example_data, "edges.14")


def test_any_self_loop_is_refused(example_data: dict) -> None:
    example_data["edges"].append({"source": "lendx", "target": "lendx", "kind": "debt_owed_to",
                                  "value_usd": 1.0, "source_ref": "illustrative"})
    assert "self-loop" in one(example_data, "edges.14")


def test_token_with_two_issuers(example_data: dict) -> None:
    example_data["edges"].append({"source": "usdx", "target": "lendx", "kind": "token_issued_by",
                                  "value_usd": 1.0, "source_ref": "illustrative"})
    assert "already has issuer 'cdp'" in one(example_data, "edges.14")


def test_wrong_endpoint_kinds(example_data: dict) -> None:
    example_data["edges"].append({"source": "eth", "target": "whale", "kind": "oracle_feeds",
                                  "value_usd": 1.0, "source_ref": "illustrative"})
    assert "must be an oracle; 'eth' is an asset" in one(example_data, "edges.14.source")
    assert "must be a protocol; 'whale' is an account" in one(example_data, "edges.14.target")


def test_duplicate_edge_needs_a_key(example_data: dict) -> None:
    example_data["edges"].append(dict(example_data["edges"][0]))
    assert "duplicate edge" in one(example_data, "edges.14")
    example_data["edges"][14]["key"] = "second-market"
    graph_file_from_dict(example_data)


def test_unknown_source_reference(example_data: dict) -> None:
    example_data["edges"][0]["source_ref"] = "illustrativ"
    example_data["nodes"][0]["source"] = "nope"
    assert "did you mean 'illustrative'" in one(example_data, "edges.0.source_ref")
    assert "unknown source 'nope'" in one(example_data, "nodes.0.source")


def test_protocol_needs_equity(example_data: dict) -> None:
    del example_data["nodes"][0]["equity_usd"]
    assert "needs equity_usd" in one(example_data, "nodes.0.equity_usd")


def test_amount_base_units_must_be_exact(example_data: dict) -> None:
    example_data["edges"][0]["amount_base_units"] = 1e23
    assert "whole number of base units" in one(example_data, "edges.0.amount_base_units")


def test_amount_needs_token(example_data: dict) -> None:
    del example_data["edges"][0]["token"]
    assert "needs 'token'" in one(example_data, "edges.0.token")


def test_shock_shapes(example_data: dict) -> None:
    example_data["shocks"] = [
        {"name": "no target", "drop": 0.3},
        {"name": "too big", "asset": "steth", "drop": 1.5},
        {"name": "wrong kind", "asset": "lendx", "drop": 0.3},
        {"name": "unknown", "node": "lendxx", "distress": 1.0},
        {"name": "unknown", "node": "lendx", "distress": 1.0},
    ]
    found = dict(problems(example_data))
    assert "exactly one of" in found["shocks.0"]
    assert "less than or equal to 1" in found["shocks.1.drop"]
    example_data["shocks"] = example_data["shocks"][2:]
    found = dict(problems(example_data))
    assert "'lendx' is a protocol, not an asset" in found["shocks.0.asset"]
    assert "did you mean 'lendx'" in found["shocks.1.node"]
    assert "duplicate shock name" in found["shocks.2.name"]


def test_unknown_key(example_data: dict) -> None:
    example_data["nodes"][0]["equity"] = 1.0
    assert "unknown key" in one(example_data, "nodes.0.equity")


def test_strict_types(example_data: dict) -> None:
    example_data["nodes"][0]["value_usd"] = "1e9"
    one(example_data, "nodes.0.value_usd")


@pytest.mark.parametrize(("text", "expect"), [
    ("{", "malformed JSON at line 1"),
    ('{"meta": {}, "meta": {}}', "duplicate key 'meta'"),
    ("[]", "must be a JSON object"),
])
def test_unreadable_files(tmp_path: Path, text: str, expect: str) -> None:
    p = tmp_path / "g.json"
    p.write_text(text)
    with pytest.raises(GraphFileError) as info:
        read_graph_file(p)
    assert expect in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GraphFileError, match="file not found"):
        read_graph_file(tmp_path / "nope.json")


def test_json_schema_lists_kinds() -> None:
    schema = graph_json_schema()
    text = json.dumps(schema)
    assert "liquidations_sell_into" in text and "protocol" in text
