"""Fixtures for the exposure-graph tests: a builder of small graphs from plain lists."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from defisim.graph import ExposureGraph, exposure_graph, graph_file_from_dict

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "graphs" / "example_small.json"
_EXAMPLE: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))

Builder = Callable[..., ExposureGraph]


def graph_data(nodes: list[tuple], edges: list[tuple], shocks: list[dict] | None = None) -> dict[str, Any]:
    """Plain graph data: nodes ``(id, kind, value_usd[, equity_usd])``, edges
    ``(source, target, kind, value_usd)``."""
    out_nodes = []
    for spec in nodes:
        nid, kind, value = spec[:3]
        node = {"id": nid, "kind": kind, "value_usd": value, "source": "test"}
        if len(spec) > 3 and spec[3] is not None:
            node["equity_usd"] = spec[3]
        out_nodes.append(node)
    return {
        "meta": {"name": "test", "as_of": "2025-01-31",
                 "sources": {"test": {"title": "hand-made", "retrieved": "2025-01-31"}}},
        "nodes": out_nodes,
        "edges": [{"source": s, "target": t, "kind": k, "value_usd": v, "source_ref": "test"}
                  for s, t, k, v in edges],
        "shocks": shocks or [],
    }


@pytest.fixture
def build() -> Builder:
    """``build(nodes, edges, shocks=None) -> ExposureGraph`` (validated like a file)."""

    def make(nodes: list[tuple], edges: list[tuple], shocks: list[dict] | None = None) -> ExposureGraph:
        return exposure_graph(graph_file_from_dict(graph_data(nodes, edges, shocks)))

    return make


@pytest.fixture
def example_data() -> dict[str, Any]:
    """A fresh deep copy of graphs/example_small.json as plain data; tests mutate one thing."""
    return copy.deepcopy(_EXAMPLE)


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE
