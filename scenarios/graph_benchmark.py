"""Scenario script: time DebtRank and the shock analysis on a large random ecosystem-like graph.

    python scenarios/graph_benchmark.py                          # 10,000 nodes, 100,000 edges
    python scenarios/graph_benchmark.py --nodes 2000 --edges 20000 --seed 3

The graph is seeded and shaped like a lending ecosystem: 2 % protocols, 10 % assets, 15 %
pools, 3 % oracles, the rest large accounts; heavy-tailed (log-normal) values; each protocol
holds many assets as collateral, reads oracles and sells liquidations into pools; oracles read
pools; some assets are issued by protocols; protocols owe each other; accounts hold collateral
and owe protocols (the account edges take up the rest of the edge budget). It goes through the
same validation as a graph file (``graph_file_from_dict``).

Prints seconds for: generating, validating + building the networkx graph, the impact matrix,
one DebtRank, the shock analysis (three asset shocks: DebtRank, the node-removal what-if on the
50 most-hit nodes, the critical shock by bisection), and the rest of ``defisim graph``
(each protocol's and asset's own DebtRank, the exposure-weighted centrality, the largest
exposure paths). The target: DebtRank plus the shock analysis under 10 s.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from defisim.graph import (
    critical_shock,
    debtrank,
    exposure_centrality,
    exposure_graph,
    graph_file_from_dict,
    impact_matrix,
    largest_exposure_paths,
    node_debtrank,
    removal_whatif,
    scaled_shock,
)

SHARES = {"protocol": 0.02, "asset": 0.10, "pool": 0.15, "oracle": 0.03}


def random_ecosystem(nodes: int = 10_000, edges: int = 100_000, seed: int = 0) -> dict[str, Any]:
    """A seeded random graph file (plain data) with ``nodes`` nodes and ``edges`` edges."""
    rng = np.random.default_rng(seed)
    counts = {k: max(2, int(nodes * s)) for k, s in SHARES.items()}
    counts["account"] = nodes - sum(counts.values())
    if counts["account"] < 2:
        raise ValueError("too few nodes")
    ids = {k: [f"{k}:{i}" for i in range(n)] for k, n in counts.items()}
    value = {k: np.exp(rng.normal(mu, 1.5, counts[k])) for k, mu in
             (("protocol", 20.0), ("asset", 19.0), ("pool", 16.5), ("oracle", 0.0), ("account", 15.0))}
    out_nodes = []
    for kind, names in ids.items():
        for i, nid in enumerate(names):
            node: dict[str, Any] = {"id": nid, "kind": kind, "value_usd": float(value[kind][i]),
                                    "source": "synthetic"}
            if kind in ("protocol", "account"):
                node["equity_usd"] = float(value[kind][i] * rng.uniform(0.03, 0.2))
            if kind == "oracle":
                node["value_usd"] = 0.0
            out_nodes.append(node)
    out_edges: list[dict[str, Any]] = []

    def link(kind: str, src: str, dst_kind: str, k: int, scale: float) -> None:
        pool = ids[dst_kind]
        for dst in rng.choice(pool, size=min(k, len(pool)), replace=False):
            if dst != src:
                out_edges.append({"source": src, "target": str(dst), "kind": kind,
                                  "value_usd": float(scale * rng.lognormal(0.0, 1.0)),
                                  "source_ref": "synthetic"})

    n_prot, n_asset = counts["protocol"], counts["asset"]
    for p, pv in zip(ids["protocol"], value["protocol"], strict=True):
        for a in rng.choice(ids["asset"], size=min(30, n_asset), replace=False):
            out_edges.append({"source": str(a), "target": p, "kind": "collateral_held_in",
                              "value_usd": float(pv / 60 * rng.lognormal(0, 1)), "source_ref": "synthetic"})
        for o in rng.choice(ids["oracle"], size=min(10, counts["oracle"]), replace=False):
            out_edges.append({"source": str(o), "target": p, "kind": "oracle_feeds",
                              "value_usd": float(pv / 20 * rng.lognormal(0, 1)), "source_ref": "synthetic"})
        link("liquidations_sell_into", p, "pool", 15, float(pv / 100))
        link("debt_owed_to", p, "protocol", 2, float(pv / 50))
    issued = rng.choice(ids["asset"], size=n_asset // 2, replace=False)
    for a in issued:
        out_edges.append({"source": str(a), "target": str(rng.choice(ids["protocol"])),
                          "kind": "token_issued_by", "value_usd": float(rng.lognormal(19, 1.5)),
                          "source_ref": "synthetic"})
    for o in ids["oracle"]:
        link("oracle_reads_pool", o, "pool", 3, 1e7)
    accounts = ids["account"]
    budget = max(0, edges - len(out_edges))
    per = budget // len(accounts)
    extra = budget - per * len(accounts)
    for i, (acc, av) in enumerate(zip(accounts, value["account"], strict=True)):
        k = per + (1 if i < extra else 0)
        n_debt = k // 3
        for a in rng.choice(ids["asset"], size=min(k - n_debt, n_asset), replace=False):
            out_edges.append({"source": str(a), "target": acc, "kind": "collateral_held_in",
                              "value_usd": float(av / max(k, 1) * rng.lognormal(0, 0.5)), "source_ref": "synthetic"})
        for p in rng.choice(ids["protocol"], size=min(n_debt, n_prot), replace=False):
            out_edges.append({"source": acc, "target": str(p), "kind": "debt_owed_to",
                              "value_usd": float(av / max(k, 1) * rng.lognormal(0, 0.5)), "source_ref": "synthetic"})
    return {
        "meta": {"name": f"random-{nodes}-{edges}-seed{seed}", "as_of": "2025-01-31",
                 "sources": {"synthetic": {"title": "seeded random graph (graph_benchmark.py)",
                                           "retrieved": "2025-01-31"}}},
        "nodes": out_nodes,
        "edges": out_edges,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shocks", type=int, default=3, help="asset shocks in the shock analysis")
    args = parser.parse_args(argv)
    times: dict[str, float] = {}

    def clock(label: str, fn: Any) -> Any:
        started = time.perf_counter()
        value = fn()
        times[label] = time.perf_counter() - started
        return value

    data = clock("generate", lambda: random_ecosystem(args.nodes, args.edges, args.seed))
    g = clock("validate + build nx graph", lambda: exposure_graph(graph_file_from_dict(data)))
    m = clock("impact matrix (scipy.sparse)", lambda: impact_matrix(g))
    print(f"graph {g.name}: {m.n:,} nodes, {len(g.file.edges):,} edges, {m.W.nnz:,} impact pairs")
    assets = [m.ids[i] for i in np.argsort(-np.where(m.kinds == "asset", m.value, -1))[: args.shocks]]
    first = scaled_shock(g, assets[0], 0.3)
    res = clock("one DebtRank (asset -30%)", lambda: debtrank(g, first))
    print(f"  {first.name}: R = {res.R:.4f}, full {res.R_full:.4f}, rounds {res.rounds}, "
          f"distressed {int((res.h > 0).sum()):,} nodes")

    def shock_analysis() -> list[Any]:
        out = []
        for a in assets:
            shock = scaled_shock(g, a, 0.3)
            out.append((debtrank(g, shock), removal_whatif(g, shock, limit=50), critical_shock(g, a)))
        return out

    analysis = clock(f"shock analysis ({len(assets)} shocks: DebtRank + 50 removals + critical)",
                     shock_analysis)
    for (r, rem, crit), a in zip(analysis, assets, strict=True):
        size = "none" if crit.size is None else f"{crit.size:.4f}"
        print(f"  {a}: R {r.R:.4f}; top removal {rem[0].node if rem else '-'}; critical drop {size} "
              f"({crit.evaluations} evaluations)")
    ranked = [x for x, k in zip(m.ids, m.kinds, strict=True) if k in ("protocol", "asset")]
    clock(f"own DebtRank of {len(ranked):,} protocols and assets", lambda: node_debtrank(g, ranked))
    clock("exposure-weighted centrality", lambda: exposure_centrality(g))
    clock("largest exposure paths (200 sources)", lambda: largest_exposure_paths(g, k=10, min_hops=2))
    width = max(len(k) for k in times)
    for label, seconds in times.items():
        print(f"{label:<{width}}  {seconds:8.3f} s")
    core = times["one DebtRank (asset -30%)"] + times[next(k for k in times if k.startswith("shock analysis"))]
    print(f"{'DebtRank + shock analysis':<{width}}  {core:8.3f} s  (target < 10 s)")
    return times


if __name__ == "__main__":
    main()
