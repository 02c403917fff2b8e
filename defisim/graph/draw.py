"""Draw an exposure graph to PNG: node size = value, edge width = exposure, colour = distress.

Node area grows with the square root of ``value_usd``; edge width with the square root of the
summed USD exposure between two nodes (impact direction); node colour is the final DebtRank
distress h in [0, 1] (grey-yellow 0 to dark red 1); marker shape is the node kind. Large graphs
are cut to the ``max_nodes`` nodes with the largest value (distressed nodes first), and the
title says so. The layout is a seeded spring layout, so the same graph draws the same. Drawn
with matplotlib's object API on an Agg canvas (no pyplot, the process backend untouched), like
:mod:`defisim.report.plots`.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from defisim.errors import OutputError
from defisim.graph.impact import impact_matrix
from defisim.graph.io import ExposureGraph, as_exposure_graph

__all__ = ["draw_graph"]

LAYER = "fast"

_MARKERS = {"protocol": "s", "asset": "o", "pool": "D", "oracle": "^", "account": "v"}


def draw_graph(graph: ExposureGraph, path: str | Path, distress: dict[str, float] | None = None,
               title: str | None = None, max_nodes: int = 300, labels: int = 30, seed: int = 0) -> Path:
    """Write a PNG of ``graph`` coloured by ``distress`` (node id -> h; default all 0)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    graph = as_exposure_graph(graph)
    m = impact_matrix(graph)
    h = np.array([(distress or {}).get(x, 0.0) for x in m.ids])
    order = np.lexsort((-m.value, ~(h > 0)))  # distressed first, then by value
    keep = order[:max_nodes]
    kept = set(keep.tolist())
    A = m.A.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(keep.tolist())
    for i, j, a in zip(A.row, A.col, A.data, strict=True):
        if i in kept and j in kept and a > 0 and i != j:
            g.add_edge(int(i), int(j), usd=float(a))
    pos = nx.spring_layout(g.to_undirected(), seed=seed, k=1.5 / max(np.sqrt(len(keep)), 1))
    vmax = float(m.value[keep].max()) if len(keep) else 1.0
    size = 40 + 1600 * np.sqrt(m.value / vmax if vmax > 0 else np.zeros(m.n))
    emax = max((d["usd"] for _, _, d in g.edges(data=True)), default=1.0)
    fig = Figure(figsize=(12, 9), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    if g.number_of_edges():
        widths = [0.3 + 5.0 * np.sqrt(d["usd"] / emax) for _, _, d in g.edges(data=True)]
        nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color="#7f8c8d", alpha=0.5,
                               arrows=True, arrowsize=12, node_size=[size[i] for i in g.nodes],
                               connectionstyle="arc3,rad=0.08")
    cmap = matplotlib.colormaps["YlOrRd"]
    mappable = None
    for kind, marker in _MARKERS.items():
        nodes = [i for i in g.nodes if m.kinds[i] == kind]
        if not nodes:
            continue
        mappable = nx.draw_networkx_nodes(
            g, pos, nodelist=nodes, ax=ax, node_shape=marker, node_size=[size[i] for i in nodes],
            node_color=[h[i] for i in nodes], cmap=cmap, vmin=0.0, vmax=1.0,
            edgecolors="#333333", linewidths=0.6)
    top = sorted(g.nodes, key=lambda i: -m.value[i])[:labels]
    label_pos = {i: (x, y - 0.045) for i, (x, y) in pos.items()}
    nx.draw_networkx_labels(g, label_pos, labels={i: graph.node(m.ids[i]).name for i in top}, ax=ax,
                            font_size=8, verticalalignment="top")
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, shrink=0.6, label="distress h after the shock")
    handles = [Line2D([], [], marker=mk, linestyle="", color="#999999", markeredgecolor="#333333",
                      label=kind) for kind, mk in _MARKERS.items()
               if any(m.kinds[i] == kind for i in g.nodes)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(-0.02, 1.0), fontsize=8,
              title="node kind", framealpha=0.8)
    ax.margins(0.1)
    cut = f" (largest {len(keep)} of {m.n} nodes)" if len(keep) < m.n else ""
    ax.set_title((title or graph.name) + cut + "\nnode size = value, edge width = exposure (USD)")
    ax.set_axis_off()
    fig.tight_layout()
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p)
    except OSError as exc:
        raise OutputError(f"cannot write {p}: {exc}") from None
    return p
