"""Exposure graph of protocols, assets, pools, oracles and large accounts; contagion metrics.

Fast layer (float64 USD, numpy/scipy). The graph is a derived view: an ``nx.MultiDiGraph``
built from a graph file (:mod:`defisim.graph.schema`, :func:`load_graph`) or, later, from
simulator snapshots. Metrics are plain functions taking the graph first:

- :func:`debtrank` (one shock) and :func:`node_debtrank` (each node's own DebtRank),
  :mod:`defisim.graph.debtrank`; the impact matrix and the edge-kind mapping,
  :mod:`defisim.graph.impact`;
- :func:`exposure_centrality`, :func:`exposure_totals`, :mod:`defisim.graph.centrality`;
- :func:`largest_exposure_paths`, :mod:`defisim.graph.paths`;
- :func:`removal_whatif`, :func:`critical_shock` with :class:`Systemic`,
  :mod:`defisim.graph.whatif`;
- :func:`draw_graph` (PNG) and the exports :func:`write_graphml`, :func:`write_gexf`,
  :func:`write_node_link_json`, :func:`graph_to_file`.
"""

from defisim.graph.centrality import exposure_centrality, exposure_totals
from defisim.graph.debtrank import DebtRankResult, NodeDistress, debtrank, node_debtrank
from defisim.graph.draw import draw_graph
from defisim.graph.impact import IMPACT_DIRECTION, ImpactMatrix, impact_matrix
from defisim.graph.io import (
    ExposureGraph,
    as_exposure_graph,
    exposure_graph,
    graph_to_file,
    load_graph,
    write_gexf,
    write_graphml,
    write_node_link_json,
)
from defisim.graph.paths import ExposurePath, largest_exposure_paths
from defisim.graph.schema import (
    EDGE_ENDPOINTS,
    EDGE_KINDS,
    NODE_KINDS,
    GraphError,
    GraphFile,
    GraphFileError,
    graph_file_from_dict,
    graph_json_schema,
    read_graph_file,
)
from defisim.graph.shocks import ResolvedShock, parse_shock, resolve_shock, scaled_shock
from defisim.graph.whatif import (
    CriticalShock,
    RemovalEffect,
    Systemic,
    critical_shock,
    removal_whatif,
)

__all__ = [
    "EDGE_ENDPOINTS",
    "EDGE_KINDS",
    "IMPACT_DIRECTION",
    "NODE_KINDS",
    "CriticalShock",
    "DebtRankResult",
    "ExposureGraph",
    "ExposurePath",
    "GraphError",
    "GraphFile",
    "GraphFileError",
    "ImpactMatrix",
    "NodeDistress",
    "RemovalEffect",
    "ResolvedShock",
    "Systemic",
    "as_exposure_graph",
    "critical_shock",
    "debtrank",
    "draw_graph",
    "exposure_centrality",
    "exposure_graph",
    "exposure_totals",
    "graph_file_from_dict",
    "graph_json_schema",
    "graph_to_file",
    "impact_matrix",
    "largest_exposure_paths",
    "load_graph",
    "node_debtrank",
    "parse_shock",
    "read_graph_file",
    "removal_whatif",
    "resolve_shock",
    "scaled_shock",
    "write_gexf",
    "write_graphml",
    "write_node_link_json",
]
