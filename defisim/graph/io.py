"""Load a graph file into an :class:`ExposureGraph`; write it back and export it.

The networkx view is an ``nx.MultiDiGraph``: one node per file node (attributes: the node's
fields, ``None`` left out), one edge per file edge in the file's direction (``source --kind-->
target``), keyed by the edge's ``key`` (default: its kind), attributes ``kind``, ``value_usd``
(USD), ``amount_base_units`` (int, token base units), ``token``, ``source_ref``, ``notes``.
``G.graph`` holds ``name``, ``as_of`` (ISO date), ``description``, ``currency``,
``schema_version``, ``sources`` (dict) and ``shocks`` (list of dicts).

Exports:

- :func:`write_node_link_json`: ``nx.node_link_data(G, edges="edges")`` as JSON; exact (big
  integers stay integers), nested ``sources``/``shocks`` kept.
- :func:`write_graphml` and :func:`write_gexf`: these formats hold scalars only, so attributes
  are flattened: ``amount_base_units`` is written as a decimal string (exact beyond int64),
  ``None`` values are left out, ``sources`` and ``shocks`` become JSON strings
  ``sources_json`` and ``shocks_json`` on the graph, and every node gets a ``label``
  (its label, else its id). Read them back with ``nx.read_graphml(path, force_multigraph=True)``
  / ``nx.read_gexf(path)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from defisim.errors import OutputError
from defisim.graph.schema import GraphFile, Meta, Node, Shock, read_graph_file

__all__ = [
    "ExposureGraph",
    "as_exposure_graph",
    "exposure_graph",
    "graph_to_file",
    "load_graph",
    "write_gexf",
    "write_graphml",
    "write_node_link_json",
]


@dataclass(frozen=True, slots=True)
class ExposureGraph:
    """A validated graph file and its networkx view (treat ``nx`` as read-only).

    ``_cache`` keeps derived structures (the impact matrix) so every metric builds them once.
    """

    file: GraphFile
    nx: nx.MultiDiGraph
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def meta(self) -> Meta:
        return self.file.meta

    @property
    def shocks(self) -> list[Shock]:
        return list(self.file.shocks)

    @property
    def nodes(self) -> list[Node]:
        return list(self.file.nodes)

    @property
    def name(self) -> str:
        return self.file.meta.name

    def node(self, node_id: str) -> Node:
        """The file node ``node_id`` (KeyError if absent)."""
        index = self._cache.get("node_index")
        if index is None:
            index = {n.id: n for n in self.file.nodes}
            self._cache["node_index"] = index
        return index[node_id]


def load_graph(path: str | Path) -> ExposureGraph:
    """Read, validate and build the exposure graph in ``path``; GraphFileError if invalid."""
    return exposure_graph(read_graph_file(path))


def exposure_graph(model: GraphFile) -> ExposureGraph:
    """The :class:`ExposureGraph` of an already validated :class:`GraphFile`."""
    g = nx.MultiDiGraph()
    g.graph.update(
        name=model.meta.name,
        as_of=model.meta.as_of.isoformat(),
        description=model.meta.description,
        currency=model.meta.currency,
        schema_version=model.schema_version,
        sources={k: s.model_dump(mode="json", exclude_none=True) for k, s in model.meta.sources.items()},
        shocks=[s.model_dump(mode="json") for s in model.shocks],
    )
    for node in model.nodes:
        attrs = node.model_dump(mode="json", exclude_none=True)
        del attrs["id"]
        g.add_node(node.id, **attrs)
    for edge in model.edges:
        attrs = edge.model_dump(mode="python", exclude_none=True, exclude={"source", "target", "key"})
        if edge.as_of is not None:
            attrs["as_of"] = edge.as_of.isoformat()  # as the nodes' (JSON mode keeps big ints as str)
        g.add_edge(edge.source, edge.target, key=edge.edge_key, **attrs)
    return ExposureGraph(file=model, nx=g)


def as_exposure_graph(graph: ExposureGraph | nx.MultiDiGraph) -> ExposureGraph:
    """Accept either an :class:`ExposureGraph` or a networkx graph in this module's layout."""
    if isinstance(graph, ExposureGraph):
        return graph
    if isinstance(graph, nx.MultiDiGraph):
        return exposure_graph(_model_from_nx(graph))
    raise TypeError(f"expected an ExposureGraph or nx.MultiDiGraph, got {type(graph).__name__}")


def _model_from_nx(g: nx.MultiDiGraph) -> GraphFile:
    from defisim.graph.schema import graph_file_from_dict

    data = {
        "schema_version": g.graph.get("schema_version", 1),
        "meta": {k: g.graph[k] for k in ("name", "as_of", "description", "currency", "sources")
                 if k in g.graph},
        "nodes": [{"id": n, **attrs} for n, attrs in g.nodes(data=True)],
        "edges": [{"source": u, "target": v, **({"key": k} if k != d.get("kind") else {}), **d}
                  for u, v, k, d in g.edges(keys=True, data=True)],
        "shocks": list(g.graph.get("shocks", [])),
    }
    return graph_file_from_dict(data, source=str(g.graph.get("name", "<networkx graph>")))


def graph_to_file(graph: ExposureGraph, path: str | Path) -> Path:
    """Write the graph in the graph-file format (JSON, schema version 1); returns the path."""
    data = graph.file.model_dump(mode="json", exclude_none=True)
    for edge, model in zip(data["edges"], graph.file.edges, strict=True):
        if model.amount_base_units is not None:
            edge["amount_base_units"] = model.amount_base_units  # int, exact in JSON
    return _write_text(Path(path), json.dumps(data, indent=2) + "\n")


def write_node_link_json(graph: ExposureGraph | nx.MultiDiGraph, path: str | Path) -> Path:
    """networkx node-link JSON (``nx.node_link_graph(data, edges="edges")`` reads it back)."""
    g = graph.nx if isinstance(graph, ExposureGraph) else graph
    data = nx.node_link_data(g, edges="edges")
    return _write_text(Path(path), json.dumps(data, indent=1, default=str) + "\n")


def write_graphml(graph: ExposureGraph | nx.MultiDiGraph, path: str | Path) -> Path:
    """GraphML with scalar attributes (see the module docstring for the flattening)."""
    return _write_xml(nx.write_graphml, graph, Path(path))


def write_gexf(graph: ExposureGraph | nx.MultiDiGraph, path: str | Path) -> Path:
    """GEXF 1.2 with scalar attributes (see the module docstring for the flattening)."""
    return _write_xml(nx.write_gexf, graph, Path(path))


def _write_xml(writer: Any, graph: ExposureGraph | nx.MultiDiGraph, path: Path) -> Path:
    """``writer(flattened graph, path)``; OutputError if the file cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(_flat(graph), path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    return path


def _flat(graph: ExposureGraph | nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = graph.nx if isinstance(graph, ExposureGraph) else graph
    out = nx.MultiDiGraph()
    for key, value in g.graph.items():
        if isinstance(value, (dict, list)):
            out.graph[f"{key}_json"] = json.dumps(value, sort_keys=True)
        elif value is not None:
            out.graph[key] = value
    for n, attrs in g.nodes(data=True):
        flat = {k: v for k, v in attrs.items() if v is not None}
        flat.setdefault("label", n)
        out.add_node(n, **flat)
    for u, v, k, attrs in g.edges(keys=True, data=True):
        flat = {a: b for a, b in attrs.items() if b is not None}
        if "amount_base_units" in flat:
            flat["amount_base_units"] = str(flat["amount_base_units"])
        out.add_edge(u, v, key=k, **flat)
    return out


def _write_text(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    return path
