"""DebtRank against hand-computed small graphs, the impact mapping, and the invariants."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from defisim.graph import (
    GraphError,
    debtrank,
    exposure_graph,
    graph_file_from_dict,
    impact_matrix,
    load_graph,
    node_debtrank,
    resolve_shock,
    scaled_shock,
)
from defisim.graph.debtrank import propagate

ROOT = Path(__file__).resolve().parents[3]


def test_chain_by_hand(build) -> None:
    # a (asset, value 100) --collateral 100--> p (protocol, value 200, E 50) --debt 20--> q
    # (protocol, value 300, E 40).  W_ap = min(1, 100/50) = 1;  W_pq = min(1, 20/40) = 0.5.
    # v = value / 600 = (1/6, 1/3, 1/2).  Shock: a drops 30%, h0 = (0.3, 0, 0).
    # round 1: a passes 0.3 -> h_p = 1 * 0.3 = 0.3 (p distressed; a inactive)
    # round 2: p passes 0.3 -> h_q = 0.5 * 0.3 = 0.15
    # round 3: q passes to nobody; no node distressed any more -> stop, 3 rounds.
    # R = 0.3/3 + 0.15/2 = 0.175;  R_full = R + 0.3/6 = 0.225.
    # USD lost: a 0.3*100 = 30, p 0.3*50 = 15, q 0.15*40 = 6.
    g = build([("a", "asset", 100.0), ("p", "protocol", 200.0, 50.0), ("q", "protocol", 300.0, 40.0)],
              [("a", "p", "collateral_held_in", 100.0), ("p", "q", "debt_owed_to", 20.0)],
              [{"name": "a -30%", "asset": "a", "drop": 0.3}])
    r = debtrank(g, g.shocks[0])
    assert r.by_id() == pytest.approx({"a": 0.3, "p": 0.3, "q": 0.15})
    assert r.R == pytest.approx(0.175) and r.R_full == pytest.approx(0.225)
    assert r.rounds == 3
    assert [(d.node, d.round, d.loss_usd) for d in r.distressed()] == [
        ("a", 0, pytest.approx(30.0)), ("p", 1, pytest.approx(15.0)), ("q", 2, pytest.approx(6.0))]
    assert r.loss_total_usd == pytest.approx(51.0)


def test_cycle_by_hand_feedback_is_not_passed_on(build) -> None:
    # A debt cycle x -> y -> z -> x (protocols; values 100, 100, 200: v = 0.25, 0.25, 0.5).
    # W_xy = 30/60 = 0.5, W_yz = min(1, 40/40) = 1, W_zx = 10/50 = 0.2.  Shock: h_x(0) = 0.5.
    # round 1: x passes 0.5 -> h_y = 0.25
    # round 2: y passes 0.25 -> h_z = 0.25
    # round 3: z passes 0.25 -> h_x = 0.5 + 0.2*0.25 = 0.55; x is inactive, so the extra 0.05
    #          goes no further: stop after 3 rounds.
    # R = 0.05*0.25 + 0.25*0.25 + 0.25*0.5 = 0.2;  R_full = 0.55*0.25 + 0.0625 + 0.125 = 0.325.
    g = build([("x", "protocol", 100.0, 50.0), ("y", "protocol", 100.0, 60.0), ("z", "protocol", 200.0, 40.0)],
              [("x", "y", "debt_owed_to", 30.0), ("y", "z", "debt_owed_to", 40.0),
               ("z", "x", "debt_owed_to", 10.0)])
    r = debtrank(g, {"x": 0.5})
    assert r.by_id() == pytest.approx({"x": 0.55, "y": 0.25, "z": 0.25})
    assert r.R == pytest.approx(0.2) and r.R_full == pytest.approx(0.325)
    assert r.rounds == 3
    assert r.round_distressed.tolist() == [0, 1, 2]


def test_late_distress_is_kept_but_not_passed_on(build) -> None:
    # s -> u (W 1), s -> w (W 0.5), u -> w (W 0.5), w -> t (W 1); all protocols, value 100 each.
    # Shock h_s(0) = 0.4.
    # round 1: s passes 0.4: h_u = 0.4, h_w = 0.2 (both distressed)
    # round 2: u passes 0.4: h_w = 0.2 + 0.2 = 0.4; w passes h_w(1) = 0.2: h_t = 0.2
    # round 3: t passes to nobody. w ends at 0.4 but t got only 0.2: each node propagates once.
    # R = (0.4 + 0.4 + 0.2) * 0.25 = 0.25.
    g = build([("s", "protocol", 100.0, 10.0), ("u", "protocol", 100.0, 10.0),
               ("w", "protocol", 100.0, 10.0), ("t", "protocol", 100.0, 20.0)],
              [("s", "u", "debt_owed_to", 10.0), ("s", "w", "debt_owed_to", 5.0),
               ("u", "w", "debt_owed_to", 5.0), ("w", "t", "debt_owed_to", 20.0)])
    seen: list[tuple[int, list[str]]] = []
    r = debtrank(g, {"s": 0.4}, trace=lambda t, ids: seen.append((t, sorted(ids))))
    assert r.by_id() == pytest.approx({"s": 0.4, "u": 0.4, "w": 0.4, "t": 0.2})
    assert r.R == pytest.approx(0.25)
    assert seen == [(1, ["s"]), (2, ["u", "w"]), (3, ["t"])]


def test_impact_mapping_of_every_edge_kind(build) -> None:
    # Directions: token_issued_by and oracle_reads_pool run against the file direction.
    g = build(
        [("iss", "protocol", 100.0, 10.0), ("tok", "asset", 50.0), ("pool", "pool", 40.0),
         ("orc", "oracle", 0.0), ("lend", "protocol", 500.0, 20.0), ("acct", "account", 30.0, 5.0),
         ("pool2", "pool", 60.0)],
        [("tok", "iss", "token_issued_by", 50.0),          # iss -> tok: min(1, 50/50) = 1
         ("tok", "lend", "collateral_held_in", 8.0),       # tok -> lend: 8/20 = 0.4
         ("orc", "pool", "oracle_reads_pool", 30.0),       # pool -> orc: 30/(30+90) = 0.25
         ("orc", "pool2", "oracle_reads_pool", 90.0),      # pool2 -> orc: 0.75
         ("orc", "lend", "oracle_feeds", 10.0),            # orc -> lend: 10/20 = 0.5
         ("lend", "pool", "liquidations_sell_into", 20.0),  # lend -> pool: 20/40 = 0.5
         ("acct", "lend", "debt_owed_to", 25.0),           # acct -> lend: min(1, 25/20) = 1
         ("tok", "acct", "collateral_held_in", 2.0)])      # tok -> acct: 2/5 = 0.4
    m = impact_matrix(g)
    i = m.index
    W = m.W.toarray()
    expected = {("iss", "tok"): 1.0, ("tok", "lend"): 0.4, ("pool", "orc"): 0.25,
                ("pool2", "orc"): 0.75, ("orc", "lend"): 0.5, ("lend", "pool"): 0.5,
                ("acct", "lend"): 1.0, ("tok", "acct"): 0.4}
    for (a, b), w in expected.items():
        assert W[i[a], i[b]] == pytest.approx(w), (a, b)
    assert np.count_nonzero(W) == len(expected)
    assert m.E[i["orc"]] == pytest.approx(120.0)  # the pools it reads
    assert m.E[i["tok"]] == pytest.approx(50.0) and m.E[i["pool"]] == pytest.approx(40.0)


def test_zero_equity_means_full_impact(build) -> None:
    g = build([("a", "asset", 10.0), ("p", "protocol", 10.0, 0.0)], [("a", "p", "collateral_held_in", 1.0)])
    assert impact_matrix(g).W.toarray()[0, 1] == 1.0


def test_protocol_collateral_shock(build) -> None:
    # h0 = min(1, f * C / E) = 0.1 * 200 / 50 = 0.4
    g = build([("a", "asset", 300.0), ("p", "protocol", 200.0, 50.0)], [("a", "p", "collateral_held_in", 200.0)],
              [{"name": "p -10%", "protocol": "p", "collateral_loss": 0.1}])
    assert resolve_shock(g, g.shocks[0]).h0 == {"p": pytest.approx(0.4)}
    assert resolve_shock(g, "p=-30%").h0 == {"p": 1.0}
    assert resolve_shock(g, "a=-0.25").h0 == {"a": 0.25}
    assert resolve_shock(g, "p=50%").h0 == {"p": 0.5}  # no minus sign: distress of any node
    assert resolve_shock(g, "P -10%").name == "p -10%"  # file shocks by name, any case
    with pytest.raises(GraphError, match="did you mean 'p -10%'"):
        resolve_shock(g, "p -11%")
    with pytest.raises(GraphError, match="unknown node 'b'"):
        resolve_shock(g, "b=-10%")


def test_node_debtrank_is_debtrank_of_full_failure(example_path: Path) -> None:
    g = load_graph(example_path)
    own = node_debtrank(g, batch=3)
    for node in ("lendx", "steth", "oracle:steth", "whale"):
        assert own[node] == pytest.approx(debtrank(g, {node: 1.0}).R)


def _random_graph(seed: int, nodes: int = 300, edges: int = 2500):
    sys.path.insert(0, str(ROOT / "scenarios"))
    try:
        from graph_benchmark import random_ecosystem
    finally:
        sys.path.pop(0)
    return exposure_graph(graph_file_from_dict(random_ecosystem(nodes, edges, seed)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invariants_on_random_graphs(seed: int) -> None:
    g = _random_graph(seed)
    m = impact_matrix(g)
    assets = [x for x, k in zip(m.ids, m.kinds, strict=True) if k == "asset"][:5]
    for a in assets:
        counts: dict[str, int] = {}

        def count(t: int, ids: list[str], counts: dict[str, int] = counts) -> None:
            for x in ids:
                counts[x] = counts.get(x, 0) + 1

        prev = None
        for drop in (0.05, 0.2, 0.5, 0.9, 1.0):
            counts.clear()
            r = debtrank(g, scaled_shock(g, a, drop), trace=count)
            assert np.all((r.h >= 0) & (r.h <= 1))
            assert r.R >= -1e-12 and r.R_full >= r.R
            assert max(counts.values()) == 1  # each node passes its distress on once
            assert set(counts) == {m.ids[i] for i in np.flatnonzero(r.h > 0)}
            if prev is not None:  # monotone in the shock, node by node
                assert np.all(r.h >= prev.h - 1e-12)
                assert r.R_full >= prev.R_full - 1e-12
                assert (r.round_distressed == prev.round_distressed).all()  # same order
            prev = r


def test_batched_columns_equal_single_runs() -> None:
    g = _random_graph(4)
    m = impact_matrix(g)
    rng = np.random.default_rng(0)
    h0 = np.zeros((m.n, 6))
    for j in range(6):
        h0[rng.choice(m.n, 3, replace=False), j] = rng.uniform(0.1, 1.0, 3)
    batch, first, _ = propagate(m, h0)
    for j in range(6):
        single = debtrank(g, {m.ids[i]: h0[i, j] for i in np.flatnonzero(h0[:, j])})
        assert np.allclose(batch[:, j], single.h)
        assert (first[:, j] == single.round_distressed).all()
