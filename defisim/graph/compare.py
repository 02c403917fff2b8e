"""Static (DebtRank on the exposure graph) against dynamic (the block-time run), per protocol.

Fast layer. For one shock, per protocol node of the graph:

- static: DebtRank distress ``h`` (fraction of the buffer E lost), the round it became
  distressed (0 = shocked directly, -1 never) and ``h * E`` in USD;
- dynamic, from the run's records (:attr:`defisim.results.Result.summary`): bad debt realised,
  insurance fund drawn and socialised (USD), and the simulated loss
  ``max(bad debt, insurance drawn + socialised)`` (the draw and the socialisation pay for
  realised bad debt, so the parts are not added twice; a protocol that draws its fund
  without booking bad debt, e.g. perp negative equity, still counts). ``loss_share`` is the
  loss over the protocol's ``value_usd`` in the graph (the brief's measure) and
  ``loss_share_of_buffer`` the loss over E (the same scale as h). Order of distress: the
  first block with bad debt, else the first liquidation block.

Protocol nodes are matched to the run's protocols by id, else by the scenario name
:func:`defisim.graph.to_scenario.component_name` gives the id (graphs turned into
scenarios).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.graph.debtrank import debtrank
from defisim.graph.io import ExposureGraph, as_exposure_graph
from defisim.graph.shocks import resolve_shock

if TYPE_CHECKING:
    from defisim.results import Result

__all__ = ["compare_static_dynamic", "comparison_table", "plot_comparison"]

LAYER = "fast"


def _name(node_id: str) -> str:
    from defisim.graph.to_scenario import component_name

    return component_name(node_id)


def compare_static_dynamic(graph: ExposureGraph | Any, result: Result, shock: object | None = None) -> dict[str, Any]:
    """The comparison (JSON-ready dict) of DebtRank under ``shock`` with ``result``'s run.

    ``shock``: anything :func:`~defisim.graph.shocks.resolve_shock` takes; default the graph's
    first shock (graphs of a scenario carry the reference path's falls, largest first), else
    a fall of the largest collateral asset by the run's reference drawdown. Keys: ``shock``,
    ``R``, ``R_full``, ``rounds``, ``protocols`` (one row per protocol node, see the module
    docstring), ``order_static`` / ``order_dynamic`` (protocol ids, most distressed first),
    ``rank_agreement`` (Kendall's tau between the two orders over protocols distressed in
    either; None with fewer than 2).
    """
    g = as_exposure_graph(graph)
    if shock is None:
        shock = g.shocks[0] if g.shocks else _default_shock(g, result)
    resolved = resolve_shock(g, shock)
    res = debtrank(g, resolved)
    h = res.by_id()
    index = {nid: i for i, nid in enumerate(res.ids)}
    summary = result.summary["protocols"]
    first_bad = _first_bad_debt_blocks(result)
    rows = []
    for node in g.file.nodes:
        if node.kind != "protocol":
            continue
        run_name = node.id if node.id in summary else _name(node.id)
        sim = summary.get(run_name)
        i = index[node.id]
        E = float(node.equity_usd or 0.0)
        row: dict[str, Any] = {
            "protocol": node.id, "run_protocol": run_name if sim is not None else None,
            "family": node.family, "value_usd": node.value_usd, "equity_usd": E,
            "debtrank_h": float(h.get(node.id, 0.0)), "debtrank_round": int(res.round_distressed[i]),
            "debtrank_loss_usd": float(res.loss_usd[i]),
        }
        if sim is None:
            row.update(simulated=False, bad_debt_usd=None, insurance_fund_drawn_usd=None,
                       socialized_usd=None, loss_usd=None, loss_share=None, loss_share_of_buffer=None,
                       first_bad_debt_block=None, first_liquidation_block=None, liquidations=None)
        else:
            bad = float(sim["bad_debt_usd"])
            drawn = float(sim["insurance_fund_drawn_usd"])
            social = float(sim["socialized_usd"])
            loss = max(bad, drawn + social)
            row.update(
                simulated=True, bad_debt_usd=bad, insurance_fund_drawn_usd=drawn, socialized_usd=social,
                loss_usd=loss, loss_share=loss / node.value_usd if node.value_usd > 0 else 0.0,
                loss_share_of_buffer=(min(1.0, loss / E) if E > 0 else (1.0 if loss > 0 else 0.0)),
                first_bad_debt_block=first_bad.get(run_name),
                first_liquidation_block=sim["first_liquidation_block"], liquidations=sim["liquidations"],
            )
        rows.append(row)
    static = [r["protocol"] for r in sorted(
        (r for r in rows if r["debtrank_round"] >= 0), key=lambda r: (r["debtrank_round"], -r["debtrank_h"], r["protocol"]))]
    dynamic = [r["protocol"] for r in sorted(
        (r for r in rows if r.get("first_bad_debt_block") is not None or r.get("first_liquidation_block") is not None),
        key=lambda r: (_or_inf(r["first_bad_debt_block"]), _or_inf(r["first_liquidation_block"]), r["protocol"]))]
    return {
        "graph": g.name, "scenario": result.scenario.name, "seed": result.seed, "blocks": result.blocks,
        "shock": {"name": resolved.name, "h0": resolved.h0, "kind": resolved.kind,
                  "target": resolved.target, "fraction": resolved.fraction},
        "R": res.R, "R_full": res.R_full, "rounds": res.rounds,
        "protocols": rows, "order_static": static, "order_dynamic": dynamic,
        "rank_agreement": _kendall(rows),
        "notes": ("debtrank_h: share of the buffer E lost (DebtRank); loss_share: simulated loss / "
                  "value_usd; loss_share_of_buffer: simulated loss / E (comparable with h); "
                  "simulated loss = max(bad debt, insurance drawn + socialised)"),
    }


def _or_inf(x: int | None) -> float:
    return math.inf if x is None else float(x)


def _first_bad_debt_blocks(result: Result) -> dict[str, int]:
    from defisim.engine.records import BadDebtRealized

    out: dict[str, int] = {}
    for r in result.records.of_type(BadDebtRealized):
        if r.protocol not in out or r.block < out[r.protocol]:
            out[r.protocol] = r.block
    return out


def _kendall(rows: list[dict[str, Any]]) -> float | None:
    """Kendall's tau-b between static severity (-round, h) and dynamic (-first block, loss)."""
    picked = [r for r in rows if r["simulated"] and (r["debtrank_round"] >= 0 or r["loss_usd"])]
    if len(picked) < 2:
        return None
    from scipy.stats import kendalltau

    static = [(-r["debtrank_round"] if r["debtrank_round"] >= 0 else -1e9) * 10 + r["debtrank_h"] for r in picked]
    dynamic = [(-_or_inf(r["first_bad_debt_block"]) if r["first_bad_debt_block"] is not None else -1e12)
               + r["loss_share_of_buffer"] for r in picked]
    tau = kendalltau(static, dynamic).statistic
    return None if tau is None or math.isnan(float(tau)) else float(tau)


def _default_shock(g: ExposureGraph, result: Result) -> dict[str, float]:
    import numpy as np

    from defisim.graph.impact import impact_matrix

    m = impact_matrix(g)
    best, best_usd = None, -1.0
    for e in g.file.edges:
        if e.kind == "collateral_held_in" and m.kinds[m.index[e.source]] == "asset" and e.value_usd > best_usd:
            best, best_usd = e.source, e.value_usd
    if best is None:
        raise ValueError("the graph has no shock and no collateral edge to shock")
    symbol = g.node(best).symbol or best
    drop = 0.3
    if symbol in result.reference.assets:
        path = np.asarray(result.reference.of(symbol), dtype=np.float64)
        drop = float(max(1e-3, 1.0 - path.min() / path[0]))
    return {best: min(1.0, drop)}


def comparison_table(cmp: dict[str, Any]) -> Any:
    """A rich table of :func:`compare_static_dynamic`'s rows."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=escape(f"Static vs dynamic under {cmp['shock']['name']!r}") +
              f": DebtRank R = {cmp['R']:.4f}", title_justify="left")
    for col, just in (("protocol", "left"), ("DebtRank h", "right"), ("round", "right"),
                      ("sim. loss", "right"), ("loss / value", "right"), ("loss / E", "right"),
                      ("first bad debt", "right"), ("first liq.", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in cmp["protocols"]:
        def fmt(x: Any, spec: str = ".4f") -> str:
            return "-" if x is None else format(x, spec)

        t.add_row(escape(r["protocol"]), f"{r['debtrank_h']:.4f}",
                  "-" if r["debtrank_round"] < 0 else str(r["debtrank_round"]),
                  "-" if r["loss_usd"] is None else f"${r['loss_usd']:,.0f}",
                  fmt(r["loss_share"]), fmt(r["loss_share_of_buffer"]),
                  fmt(r["first_bad_debt_block"], "d"), fmt(r["first_liquidation_block"], "d"))
    tau = cmp["rank_agreement"]
    t.caption = (f"order static {cmp['order_static']} | dynamic {cmp['order_dynamic']}"
                 + ("" if tau is None else f" | Kendall tau {tau:.2f}"))
    return t


def plot_comparison(cmp: dict[str, Any], path: str | Path) -> Path:
    """Bars per protocol: DebtRank h, simulated loss / E and loss / value (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = cmp["protocols"]
    names = [r["protocol"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(rows) + 2), 4.0))
    w = 0.27
    ax.bar(x - w, [r["debtrank_h"] for r in rows], w, label="DebtRank h (share of E)")
    ax.bar(x, [r["loss_share_of_buffer"] or 0.0 for r in rows], w, label="simulated loss / E")
    ax.bar(x + w, [r["loss_share"] or 0.0 for r in rows], w, label="simulated loss / value")
    ax.set_xticks(x, names, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share")
    ax.set_title(f"{cmp['shock']['name']}: static vs dynamic")
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p
