"""The ``defisim graph`` command: systemic importance, exposure paths and shocks of a graph file
or of a scenario's state, and (``--simulate``) DebtRank against the block-time run.

Parsing, printing and exit codes only; the work is in :mod:`defisim.graph`
(:mod:`~defisim.graph.from_state`, :mod:`~defisim.graph.to_scenario`,
:mod:`~defisim.graph.compare`). Exit codes: 0 done, 2 bad input (an invalid graph file or
scenario, an unknown shock or node, a block after the run; no traceback).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from defisim.cli.common import (
    EXIT_BAD_INPUT,
    console,
    err_console,
    fail,
    free_dir,
    scenario_problem,
)

__all__ = ["graph"]

_RANKED_KINDS = ("protocol", "asset")


def graph(
    path: Annotated[Path, typer.Argument(help="Exposure-graph file (.json; see graphs/README.md) or a scenario (.yaml/.yml/.toml: the graph of its state)")],
    shock: Annotated[list[str] | None, typer.Option("--shock", "-s", help="A shock in the file by name, or ID=-30% (asset price drop / protocol collateral loss), or ID=100% (distress of any node). Repeatable; default: every shock in the file (a scenario's graph: the falls of its reference paths)")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the PNGs, the GraphML/GEXF/node-link exports and report.json (default: runs/<graph name>-graph)")] = None,
    top: Annotated[int, typer.Option("--top", "-n", help="Rows per table", min=1)] = 10,
    systemic: Annotated[str, typer.Option("--systemic", help="When distress is systemic, for the critical shock: defaults>=K (K protocols fully distressed), R>=X, R_full>=X or loss_usd>=X")] = "defaults>=1",
    critical: Annotated[list[str] | None, typer.Option("--critical", "-c", help="Node to find the critical shock size for (an asset: price drop; a protocol: collateral loss). Repeatable; default: the nodes the shocks hit")] = None,
    draw: Annotated[bool, typer.Option("--draw/--no-draw", help="Write the PNG drawings")] = True,
    export: Annotated[bool, typer.Option("--export/--no-export", help="Write GraphML, GEXF and node-link JSON (networkx's XML writers take ~10 s each at 100,000 edges)")] = True,
    max_draw_nodes: Annotated[int, typer.Option(help="Draw at most this many nodes (the largest by value)", min=1)] = 300,
    block: Annotated[int | None, typer.Option("--block", "-b", help="Scenario input: take the graph at the end of this block of the run (default 0: the seeded start). --from-chain: the chain block to read (default: the latest)", min=0)] = None,
    top_accounts: Annotated[int, typer.Option(help="Scenario input: the largest borrowing positions shown as account nodes", min=0)] = 10,
    simulate_run: Annotated[bool, typer.Option("--simulate", help="Also run the simulation (a graph file: the scenario built from it) and compare DebtRank with the simulated losses per protocol (comparison.json, comparison.png)")] = False,
    scale: Annotated[float | None, typer.Option(help="Graph file with --simulate: factor on the graph's USD figures for the scenario (default: the largest protocol at $200M)", min=0.0)] = None,
    blocks: Annotated[int | None, typer.Option(help="--simulate: blocks to run (default: the scenario's chain.blocks; 600 for a graph file)", min=1)] = None,
    from_chain: Annotated[bool, typer.Option("--from-chain", help="PATH is a registry of contract addresses (.yaml; see graphs/ethereum_mainnet_registry.yaml): read their state at --block from the RPC and analyse that graph (graph.json is written)")] = False,
    rpc_url: Annotated[str | None, typer.Option("--rpc-url", help="--from-chain: RPC URL of the registry's chain (default: the DEFISIM_RPC_URL environment variable); only read from, never printed. Given, it implies --from-chain")] = None,
    log_blocks: Annotated[int | None, typer.Option(help="--from-chain: scan Morpho position logs over the last N blocks only (default: from the registry's logs_from_block)", min=1)] = None,
) -> None:
    """Rank protocols and assets by systemic importance (DebtRank, exposure-weighted centrality),
    show the largest exposure paths and what each shock does; draw and export the graph.

    A scenario (.yaml/.toml) is analysed through the exposure graph of its state at --block.
    With --simulate the block-time run is compared with DebtRank under the first shock.
    With --from-chain (or --rpc-url), PATH is a registry of real contracts, read at --block.

    Exit 0 on success, 2 on bad input (every problem of an invalid file is listed).
    """
    from defisim.errors import DefisimError, ScenarioError
    from defisim.graph import GraphError, GraphFileError, load_graph

    if from_chain or rpc_url is not None:
        if simulate_run:
            fail("--simulate is not available with --from-chain (run the written graph.json with --simulate)")
        g = _chain_graph(path, rpc_url, block, top_accounts, log_blocks)
        _analyse(g, path, shock=shock, out=out, top=top, systemic=systemic, critical=critical, draw=draw,
                 export=export, max_draw_nodes=max_draw_nodes, graph_json=True)
        return
    block = 0 if block is None else block
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml", ".toml"):
        fail(f"{path}: expected an exposure-graph file (.json) or a scenario (.yaml/.yml/.toml)")
    result = None
    scenario_path = None
    try:
        if suffix == ".json":
            try:
                g = load_graph(path)
            except GraphFileError as exc:
                _file_problems(exc)
            if simulate_run:
                from defisim.graph.to_scenario import scenario_model_from_graph
                from defisim.simulate import simulate

                spec = scenario_model_from_graph(g, scale=scale, blocks=blocks or 600,
                                                 shock=_file_shock_name(g, shock))
                result = simulate(spec)
        else:
            from defisim.graph.from_state import graph_at_block
            from defisim.scenario import load_scenario

            scenario_path = path
            spec = load_scenario(path)
            n = blocks if blocks is not None else spec.chain.blocks
            if block > n:
                fail(f"--block {block} is after the run's last block ({n})")
            if simulate_run:
                from defisim.simulate import simulate

                result = simulate(spec, blocks=n, graph_blocks=[block])
                g = result.graphs[block]
                if top_accounts != 10:
                    from defisim.graph.from_state import graph_at

                    g = graph_at(result, block, top_accounts=top_accounts)
            else:
                g = graph_at_block(spec, block, blocks=n, top_accounts=top_accounts)
    except ScenarioError as exc:
        scenario_problem(exc)
    except (GraphError, DefisimError) as exc:
        fail(str(exc))
    _analyse(g, path, shock=shock, out=out, top=top, systemic=systemic, critical=critical, draw=draw,
             export=export, max_draw_nodes=max_draw_nodes, result=result, scenario_path=scenario_path)


def _chain_graph(path: Path, rpc_url: str | None, block: int | None, top_accounts: int,
                 log_blocks: int | None) -> Any:
    """The graph of the registry at ``path`` read at ``block``; exit 2 on bad input."""
    import os

    from defisim.chain.errors import ChainError
    from defisim.errors import DefisimError
    from defisim.graph.from_chain import build_graph_from_chain
    from defisim.graph.registry import RegistryError, load_registry

    if path.suffix.lower() not in (".yaml", ".yml", ".toml"):
        fail(f"{path}: --from-chain expects a registry (.yaml/.yml/.toml) of contract addresses")
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        problems = "; ".join(f"{field or '<file>'}: {message}" for field, message in exc.problems)
        fail(f"invalid registry {path}: {problems}")
    url = rpc_url if rpc_url is not None else os.environ.get("DEFISIM_RPC_URL")
    try:
        with err_console.status("reading the chain...") as status:
            return build_graph_from_chain(registry, url, block, top_accounts=top_accounts,
                                          log_blocks=log_blocks, progress=lambda msg: status.update(msg))
    except (ChainError, DefisimError) as exc:
        fail(f"{path}: {exc}")


def _file_shock_name(g: Any, shock: list[str] | None) -> str | None:
    """The first --shock when it names a shock of the file (the scenario's price path)."""
    if not shock:
        return None
    names = {s.name.lower() for s in g.shocks}
    return shock[0] if shock[0].strip().lower() in names else None


def _analyse(g: Any, path: Path, *, shock: list[str] | None, out: Path | None, top: int, systemic: str,
             critical: list[str] | None, draw: bool, export: bool, max_draw_nodes: int,
             result: Any = None, scenario_path: Path | None = None, graph_json: bool = False) -> None:
    from defisim.errors import OutputError
    from defisim.graph import (
        GraphError,
        Systemic,
        critical_shock,
        debtrank,
        draw_graph,
        exposure_centrality,
        exposure_totals,
        graph_to_file,
        impact_matrix,
        largest_exposure_paths,
        node_debtrank,
        removal_whatif,
        resolve_shock,
        write_gexf,
        write_graphml,
        write_node_link_json,
    )
    from defisim.graph.dates import figure_dates

    try:
        criterion = Systemic.parse(systemic)
        shocks = ([resolve_shock(g, s) for s in shock] if shock else
                  [resolve_shock(g, s) for s in g.shocks])
        m = impact_matrix(g)
        crit_nodes = list(critical) if critical else _dedupe([s.target or next(iter(s.h0)) for s in shocks])
        for node in crit_nodes:
            if node not in m.index:
                resolve_shock(g, {node: 1.0})  # raises the did-you-mean message
    except GraphError as exc:
        fail(str(exc))

    console.print(f"[bold]{g.name}[/] as of {g.meta.as_of}: {_counts(g)}; total value "
                  f"{_usd(float(m.value.sum()))}", highlight=False)
    dates = figure_dates(g)
    if len(dates.at_date()) < len(dates.figures):
        console.print(f"[yellow]figure dates:[/] {dates.summary()} (each figure's date: analysis.json)",
                      highlight=False)
    ranked = [nid for nid, kind in zip(m.ids, m.kinds, strict=True) if kind in _RANKED_KINDS]
    dr = node_debtrank(g, ranked)
    cent = exposure_centrality(g)
    totals = exposure_totals(g)
    ranking = sorted(ranked, key=lambda x: (-dr[x], -cent[x], x))
    console.print(_ranking_table(g, ranking[:top], dr, cent, totals))
    paths = largest_exposure_paths(g, k=top, min_hops=2)
    console.print(_paths_table(paths))

    report: dict[str, Any] = {
        "graph": {"name": g.name, "as_of": g.meta.as_of.isoformat(), "file": str(path),
                  "nodes": m.n, "edges": len(g.file.edges),
                  **({"scenario": str(scenario_path), "block": g.nx.graph.get("block")}
                     if scenario_path is not None else {}),
                  **({"registry": str(path), "chain_id": g.nx.graph.get("chain_id"),
                      "block": g.nx.graph.get("block"), "timestamp": g.nx.graph.get("timestamp")}
                     if graph_json else {})},
        "figure_dates": dates.to_dict(),
        "ranking": [{"node": x, "kind": g.node(x).kind, "value_usd": g.node(x).value_usd,
                     "debtrank": dr[x], "centrality": cent[x], "exposure_out_usd": totals[x][0],
                     "exposure_in_usd": totals[x][1]} for x in ranking],
        "paths": [{"nodes": list(p.nodes), "hops": [list(h) for h in p.hops], "strength": p.strength,
                   "loss_usd": p.loss_usd} for p in paths],
        "shocks": [], "critical": [], "systemic": str(criterion),
    }
    results = []
    for s in shocks:
        res = debtrank(g, s)
        results.append(res)
        removal = removal_whatif(g, s, limit=max(top, 20))[:min(top, 5)]
        for renderable in _shock_tables(res, removal, top):
            console.print(renderable)
        report["shocks"].append({
            "name": s.name, "h0": s.h0, "R": res.R, "R_full": res.R_full, "rounds": res.rounds,
            "loss_usd": res.loss_total_usd,
            "distressed": [{"node": d.node, "kind": d.kind, "round": d.round, "h": d.h,
                            "loss_usd": d.loss_usd} for d in res.distressed()],
            "removal": [{"node": e.node, "R_after": e.R_after, "delta_R": e.delta_R,
                         "loss_after_usd": e.loss_after_usd} for e in removal],
        })
    crits = [critical_shock(g, node, criterion) for node in crit_nodes]
    if crits:
        console.print(_critical_table(crits, criterion))
    for c in crits:
        report["critical"].append({"node": c.node, "kind": c.kind, "size": c.size,
                                   "bracket": list(c.bracket),
                                   "R": c.result.R if c.result else None})

    target = out if out is not None else free_dir(Path("runs") / f"{_slug(g.name)}-graph")
    written: list[Path] = []
    try:
        if draw:
            if not results:
                written.append(draw_graph(g, target / "graph.png", max_nodes=max_draw_nodes))
            for res in results:
                written.append(draw_graph(g, target / f"shock-{_slug(res.shock.name)}.png",
                                          distress=res.by_id(), max_nodes=max_draw_nodes,
                                          title=f"{g.name}: {res.shock.name}"))
        if scenario_path is not None or graph_json:
            written.append(graph_to_file(g, target / "graph.json"))
        if result is not None:
            from defisim.graph.compare import (
                compare_static_dynamic,
                comparison_table,
                plot_comparison,
            )

            first = shocks[0] if shocks else None
            cmp = compare_static_dynamic(g, result, first)
            console.print(comparison_table(cmp))
            report["comparison"] = cmp
            (target / "comparison.json").parent.mkdir(parents=True, exist_ok=True)
            (target / "comparison.json").write_text(json.dumps(cmp, indent=1) + "\n", encoding="utf-8")
            written.append(target / "comparison.json")
            written.append(plot_comparison(cmp, target / "comparison.png"))
        if export:
            written.append(write_graphml(g, target / "graph.graphml"))
            written.append(write_gexf(g, target / "graph.gexf"))
            written.append(write_node_link_json(g, target / "graph.node-link.json"))
        target.mkdir(parents=True, exist_ok=True)
        (target / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        written.append(target / "report.json")
    except (OutputError, OSError) as exc:
        fail(str(exc))
    console.print(f"results: [bold]{target}[/] ({', '.join(p.name for p in written)})", highlight=False)


def _file_problems(exc: Any) -> None:
    where = f" {exc.source}" if exc.source else ""
    err_console.print(f"[bold red]error:[/] invalid graph file{where}: {len(exc.problems)} problem(s)",
                      highlight=False)
    for field, message in exc.problems:
        err_console.print(f"  [yellow]{field or '<file>'}[/]: {message}", highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "shock"


def _usd(x: float) -> str:
    for unit, scale in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"${x / scale:,.2f}{unit}"
    return f"${x:,.0f}"


def _counts(g: Any) -> str:
    from collections import Counter

    nodes = Counter(n.kind for n in g.file.nodes)
    parts = ", ".join(f"{v} {k}" for k, v in sorted(nodes.items()))
    return f"{len(g.file.nodes)} nodes ({parts}), {len(g.file.edges)} edges"


def _ranking_table(g: Any, ids: list[str], dr: dict[str, float], cent: dict[str, float],
                   totals: dict[str, tuple[float, float]]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Systemic importance (protocols and assets)", title_justify="left")
    for col, just in (("#", "right"), ("node", "left"), ("kind", "left"), ("value", "right"),
                      ("DebtRank", "right"), ("centrality", "right"), ("exposure out", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for rank, x in enumerate(ids, 1):
        node = g.node(x)
        t.add_row(str(rank), escape(node.name), node.kind, _usd(node.value_usd), f"{dr[x]:.4f}",
                  f"{cent[x]:.4f}", _usd(totals[x][0]))
    t.caption = ("DebtRank: share of total value distressed if the node alone fails (Battiston et al. "
                 "2012); centrality: exposure-weighted PageRank (sums to 1)")
    return t


def _paths_table(paths: list[Any]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Largest exposure paths (indirect, 2+ hops)", title_justify="left")
    t.add_column("path")
    t.add_column("strength", justify="right")
    t.add_column("loss at end", justify="right")
    for p in paths:
        t.add_row(escape(str(p)), f"{p.strength:.3f}", _usd(p.loss_usd))
    t.caption = "strength: share of the first node's distress reaching the last; ~: impact against the file direction"
    return t


def _shock_tables(res: Any, removal: list[Any], top: int) -> list[Any]:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(f"Shock {res.shock.name!r}") + f": R = {res.R:.4f}, full impact "
                    f"{res.R_full:.4f}, {_usd(res.loss_total_usd)} lost, {res.rounds} rounds",
              title_justify="left")
    for col, just in (("round", "right"), ("node", "left"), ("kind", "left"), ("distress h", "right"),
                      ("lost", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    rows = res.distressed()
    for d in rows[: 2 * top]:
        t.add_row(str(d.round), escape(d.node), d.kind, f"{d.h:.3f}", _usd(d.loss_usd))
    if len(rows) > 2 * top:
        t.caption = f"... {len(rows) - 2 * top} more distressed nodes in report.json"
    out = [t]
    if removal:
        r = Table(title="  without the node, R would be", title_justify="left")
        r.add_column("node")
        r.add_column("R without it", justify="right")
        r.add_column("R cut by", justify="right")
        for e in removal:
            r.add_row(escape(e.node), f"{e.R_after:.4f}", f"{e.delta_R:.4f}")
        out.append(r)
    return out


def _critical_table(crits: list[Any], criterion: Any) -> Any:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"Critical shock (systemic: {criterion})", title_justify="left")
    for col, just in (("node", "left"), ("shock", "left"), ("critical size", "right"),
                      ("R at it", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    what = {"asset": "price drop", "protocol": "collateral loss", "node": "distress"}
    for c in crits:
        size = "not systemic at 100%" if c.size is None else f"{c.size * 100:.2f}%"
        t.add_row(escape(c.node), what[c.kind], size, "" if c.result is None else f"{c.result.R:.4f}")
    return t
