"""Centrality, cascade paths, node-removal what-ifs and the critical shock, by hand."""

from __future__ import annotations

import pytest

from defisim.graph import (
    GraphError,
    Systemic,
    critical_shock,
    debtrank,
    exposure_centrality,
    exposure_totals,
    largest_exposure_paths,
    removal_whatif,
)


def test_centrality_by_hand(build) -> None:
    # a, b (assets, value 250 each) are collateral in p (value 500): A_ap = 100, A_bp = 300.
    # v = (0.25, 0.25, 0.5). The walk goes from p to what p is exposed to: a w.p. 1/4, b 3/4;
    # a and b are exposed to nothing (dangling: restart by v). With alpha = 1/2:
    #   c_p = 0.5*0.5 + 0.5*(c_a + c_b)*0.5          and c_a + c_b = 1 - c_p
    #       -> 1.25 c_p = 0.5 -> c_p = 0.4
    #   c_a = 0.5*0.25 + 0.5*(0.25*c_p + 0.6*0.25) = 0.125 + 0.5*(0.1 + 0.15) = 0.25
    #   c_b = 0.5*0.25 + 0.5*(0.75*c_p + 0.6*0.25) = 0.125 + 0.5*(0.3 + 0.15) = 0.35
    g = build([("a", "asset", 250.0), ("b", "asset", 250.0), ("p", "protocol", 500.0, 50.0)],
              [("a", "p", "collateral_held_in", 100.0), ("b", "p", "collateral_held_in", 300.0)])
    c = exposure_centrality(g, alpha=0.5)
    assert c == pytest.approx({"a": 0.25, "b": 0.35, "p": 0.4})
    assert sum(exposure_centrality(g).values()) == pytest.approx(1.0)
    assert exposure_centrality(g, alpha=0.0) == pytest.approx({"a": 0.25, "b": 0.25, "p": 0.5})
    assert exposure_totals(g) == {"a": (100.0, 0.0), "b": (300.0, 0.0), "p": (0.0, 400.0)}
    with pytest.raises(ValueError, match="alpha"):
        exposure_centrality(g, alpha=1.0)


@pytest.fixture
def chain(build):
    # a (asset 100) -> p (E 50): W = 1;  p -> q (E 40): W = 0.5;  a -> q directly: W = 4/40 = 0.1.
    return build([("a", "asset", 100.0), ("p", "protocol", 200.0, 50.0), ("q", "protocol", 300.0, 40.0)],
                 [("a", "p", "collateral_held_in", 100.0), ("p", "q", "debt_owed_to", 20.0),
                  ("a", "q", "collateral_held_in", 4.0)])


def test_paths_order_by_hand(chain) -> None:
    # Strongest path per pair and its loss = strength * E(end):
    #   a -> p          strength 1               loss 1 * 50 = 50
    #   a -> p -> q     strength 1 * 0.5 = 0.5   loss 0.5 * 40 = 20   (beats a -> q direct: 0.1)
    #   p -> q          strength 0.5             loss 20
    # Ties by node sequence: ('a', 'p', 'q') before ('p', 'q').
    paths = largest_exposure_paths(chain, k=10)
    assert [(p.nodes, p.strength, p.loss_usd) for p in paths] == [
        (("a", "p"), 1.0, 50.0), (("a", "p", "q"), 0.5, 20.0), (("p", "q"), 0.5, 20.0)]
    assert paths[1].hops == (("collateral_held_in",), ("debt_owed_to",))
    assert str(paths[1]) == "a -[collateral_held_in]-> p -[debt_owed_to]-> q"
    assert [p.nodes for p in largest_exposure_paths(chain, k=10, min_hops=2)] == [("a", "p", "q")]
    assert [p.nodes for p in largest_exposure_paths(chain, k=1)] == [("a", "p")]
    assert [p.nodes for p in largest_exposure_paths(chain, sources=["p"])] == [("p", "q")]


def test_paths_on_a_cycle_and_reversed_kinds(build) -> None:
    # x -> y -> x debt cycle plus an issuer: the path runs against token_issued_by (marked ~).
    g = build([("x", "protocol", 100.0, 10.0), ("y", "protocol", 100.0, 10.0), ("t", "asset", 80.0)],
              [("x", "y", "debt_owed_to", 5.0), ("y", "x", "debt_owed_to", 5.0),
               ("t", "y", "token_issued_by", 80.0)])
    paths = largest_exposure_paths(g, k=10)
    # x -> y -> t: 0.5 * 1 * 80 = 40; y -> t: 80; x -> y: 5; y -> x: 5; t reaches nobody.
    assert [(p.nodes, p.loss_usd) for p in paths] == [
        (("y", "t"), 80.0), (("x", "y", "t"), 40.0), (("x", "y"), 5.0), (("y", "x"), 5.0)]
    assert paths[0].hops == (("~token_issued_by",),)


def test_removal_whatif_by_hand(chain) -> None:
    # Shock a -30%. v = (1/6, 1/3, 1/2); W_ap = 1, W_pq = 0.5, W_aq = 0.1.
    # base: round 1 h_p = 0.3, h_q = 0.03; round 2 p passes 0.3: h_q = 0.03 + 0.15 = 0.18.
    #       R = 0.3/3 + 0.18/2 = 0.19.
    # without p: h_q = 0.03 only -> R = 0.015 (delta 0.175);
    # without q: h_p = 0.3, q not counted -> R = 0.1 (delta 0.09).
    base = debtrank(chain, "a=-30%")
    assert base.R == pytest.approx(0.19)
    effects = removal_whatif(chain, "a=-30%")
    assert [(e.node, e.R_after) for e in effects] == [("p", pytest.approx(0.015)), ("q", pytest.approx(0.1))]
    assert effects[0].delta_R == pytest.approx(0.175)
    assert effects[0].loss_after_usd == pytest.approx(0.03 * 40)
    with pytest.raises(GraphError, match="unknown node"):
        removal_whatif(chain, "a=-30%", nodes=["zz"])


def test_critical_shock_two_paths_analytic(build) -> None:
    # a (asset) is collateral in p (W = 1) and in the account w (W = 1); w owes p (W = 1).
    # A drop d gives h_p = d at round 1 and another d at round 2: h_p = min(1, 2d).
    # p is fully distressed from d* = 0.5 on.
    g = build([("a", "asset", 100.0), ("p", "protocol", 100.0, 10.0), ("w", "account", 50.0, 10.0)],
              [("a", "p", "collateral_held_in", 20.0), ("a", "w", "collateral_held_in", 20.0),
               ("w", "p", "debt_owed_to", 20.0)])
    c = critical_shock(g, "a", tol=1e-6)
    assert c.kind == "asset" and c.size == pytest.approx(0.5, abs=1e-6)
    assert c.bracket[0] < 0.5 <= c.bracket[1] and c.bracket[1] - c.bracket[0] <= 1e-6
    assert c.result is not None and c.result.by_id()["p"] == 1.0
    assert debtrank(g, "a=-49.9%").by_id()["p"] < 1.0


def test_critical_protocol_shock_and_R_threshold(build) -> None:
    # p: collateral C = 200, E = 50, so a collateral loss f gives h_p = min(1, 4f); p owes q with
    # W = 1, so h_q = h_p: q fully distressed from f* = 0.25 (p itself, the shocked node, does
    # not count). v = (a 100, p 200, q 200)/500. R = h_q * 0.4 (+ nothing else) = 1.6 f, so
    # R >= 0.2 from f* = 0.125.
    g = build([("a", "asset", 100.0), ("p", "protocol", 200.0, 50.0), ("q", "protocol", 200.0, 30.0)],
              [("a", "p", "collateral_held_in", 200.0), ("p", "q", "debt_owed_to", 30.0)])
    c = critical_shock(g, "p", tol=1e-6)
    assert c.kind == "protocol" and c.size == pytest.approx(0.25, abs=1e-6)
    r = critical_shock(g, "p", Systemic.parse("R>=0.2"), tol=1e-6)
    assert r.size == pytest.approx(0.125, abs=1e-6)


def test_not_systemic_and_criterion_parsing(chain) -> None:
    # a -> p has W = 1, so h_p = d < 1 for d < 1, and only 1.0 at d = 1: full drop is systemic.
    assert critical_shock(chain, "a").size == pytest.approx(1.0, abs=1e-4)
    assert critical_shock(chain, "q").size is None  # q reaches nobody
    assert Systemic.parse(" loss_usd >= 1e9 ") == Systemic("loss_usd", 1e9)
    assert str(Systemic.parse("R_full>=0.1")) == "R_full>=0.1"
    for bad in ("R>0.1", "foo>=1", "R>=-1", "R>=nan"):
        with pytest.raises(GraphError):
            Systemic.parse(bad)
