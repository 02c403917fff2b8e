"""Differential property test: the Morpho Blue model against the real Morpho Blue 1.0 bytecode.

Hypothesis draws one market per example: a (collateral, loan) pair among WETH (18 decimals),
WBTC (8), USDC (6) and DAI (18), an LLTV from the governance set or any WAD value in
(0.05, 1), a fee (off, the 25 % maximum, or any), 1–2 lenders and 1–3 borrowers using 20 %
to 100.1 % of their borrowing power (the last refused), liquidity from short to ample. Then
1–4 steps: time advances (0 s to a year; interest from ``IrmMock``, the model's
``LinearUtilizationIrm``), prices move at random or so that a borrower's health factor lands on
a target (from just above 1 down to 0.1, i.e. bad debt), sometimes a repay, withdrawal or
extra supply, and 1–4 liquidation attempts by ``repaidShares`` (all, part, 1 share, one too
many) or by ``seizedAssets`` (all collateral, part, 1 wei, one too many), plus malformed
argument pairs. Every example runs on both backends; every result, every refusal and the
state after seeding and after every step must be identical. One deployment serves every
example (``evm_snapshot``/``evm_revert`` between examples); each example creates its market.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.chain.adapters.morpho_blue import morpho_reason
from defisim.chain.backend import (
    AdvanceTo,
    Borrow,
    Liquidate,
    MarketSpec,
    MorphoMarketSpec,
    Repay,
    SetPrice,
    Supply,
    SupplyCollateral,
    Withdraw,
)
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.sim_backend import SimulatorBackend
from defisim.engine.protocols.morpho_blue.config import USUAL_LLTVS, fraction_to_wad
from defisim.engine.protocols.morpho_blue.constants import (
    MAX_FEE,
    ORACLE_PRICE_SCALE,
    WAD,
)
from defisim.engine.protocols.morpho_blue.mathlib import mul_div_down, w_mul_down
from tests.chain.differential import Tally, compare_state, run_both

EXAMPLES = int(os.environ.get("DEFISIM_DIFF_EXAMPLES", "200"))
MAX = 2**256 - 1
TOKENS = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18}
PRICES = {"WETH": 3000 * 10**8, "WBTC": 60_000 * 10**8, "USDC": 10**8, "DAI": 10**8}
PAIRS = [(c, loan) for c in TOKENS for loan in TOKENS if c != loan]
MARKET = "m"
LIQUIDATOR = "liquidator"


def base_spec() -> MarketSpec:
    return MarketSpec(family="morpho-blue", tokens=dict(TOKENS), prices=dict(PRICES),
                      irm="linear-utilization", treasury="fee-recipient")


def _units(asset: str, usd: float) -> int:
    return max(1, int(usd * 10 ** TOKENS[asset] * 10**8 // PRICES[asset]))


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    collateral, loan = draw(st.sampled_from(PAIRS))
    lltv = draw(st.one_of(st.sampled_from([fraction_to_wad(x, "lltv") for x in USUAL_LLTVS]),
                          st.integers(5 * 10**16, WAD - 1)))
    fee = draw(st.sampled_from([0, 0, MAX_FEE, draw(st.integers(1, MAX_FEE))]))
    borrowers = []
    for i in range(draw(st.integers(1, 3))):
        usd = draw(st.sampled_from([50, 2000, 60_000, 3_000_000])) * draw(st.floats(0.7, 1.4))
        use = draw(st.sampled_from([990_000, 900_000, 999_000, 1_000_000, 500_000, 1_001_000,
                                    draw(st.integers(200_000, 1_000_000))]))  # per million
        borrowers.append({"name": f"borrower{i}", "collateral_usd": usd, "use": use})
    planned = sum(b["collateral_usd"] * lltv / WAD * b["use"] / 1e6 for b in borrowers)
    liquidity = planned * draw(st.sampled_from([1.3, 1.02, 3.0, 0.9])) + 1
    lenders = draw(st.integers(1, 2))
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        dt = draw(st.sampled_from([0, 12, 3600, 86_400, 30 * 86_400, 365 * 86_400]))
        aim = draw(st.integers(0, 2))  # the borrower (among those in debt) the step is about
        mode = draw(st.sampled_from(["target", "random", "target"]))
        if mode == "random":
            move = (draw(st.floats(0.3, 1.1)), draw(st.sampled_from([1.0, 1.0, draw(st.floats(0.9, 1.2))])))
            target = None
        else:
            move = None
            target = draw(st.sampled_from([0.97, 0.4, 0.999, 0.1, 1.0001, 0.9, 0.7]))
        extra = draw(st.sampled_from([None, None, "repay-part", "repay-all", "withdraw-part",
                                      "withdraw-all", "withdraw-collateral", "supply"]))
        attempts = draw(st.lists(st.tuples(
            st.sampled_from([0, 0, 0, 1, 2]),  # offset from the aimed borrower
            st.sampled_from(["seized", "shares"]),
            st.sampled_from(["part", "all", "part", "one", "over", "all"]),
            st.floats(0.01, 0.99),
            st.sampled_from([None] * 12 + ["zero", "both"]),
        ), min_size=1, max_size=4))
        steps.append({"dt": dt, "aim": aim, "move": move, "target": target, "extra": extra,
                      "extra_frac": draw(st.floats(0.05, 0.95)), "attempts": attempts})
    return {"market": MorphoMarketSpec(MARKET, loan, collateral, lltv, fee), "borrowers": borrowers,
            "lenders": lenders, "liquidity": liquidity, "steps": steps}


def _run_example(chain: ChainBackend, sc: dict, bad_debt: list[int]) -> Tally:
    tally = Tally()
    m: MorphoMarketSpec = sc["market"]
    chain.configure((m,))
    sim = SimulatorBackend(replace(base_spec(), markets=(m,), start_time=chain.now))
    mb = sim.protocol
    liquidate = mb.liquidate

    def spy(*args, **kwargs):  # count liquidations that write off bad debt
        res = liquidate(*args, **kwargs)
        if res.bad_debt_shares:
            bad_debt[0] += 1
        return res

    mb.liquidate = spy

    def both(action) -> tuple:
        return run_both(sim, chain, action, tally, normalise=morpho_reason)

    prices = dict(PRICES)
    for k in range(sc["lenders"]):
        both(Supply(f"lender{k}", m.loan, _units(m.loan, sc["liquidity"] / sc["lenders"]), MARKET))
    for b in sc["borrowers"]:
        coll = _units(m.collateral, b["collateral_usd"])
        both(SupplyCollateral(b["name"], MARKET, coll))
        price = mb.oracle_price(MARKET)
        power = w_mul_down(mul_div_down(coll, price, ORACLE_PRICE_SCALE), m.lltv)
        amount = power * b["use"] // 10**6
        if amount:
            both(Borrow(b["name"], m.loan, amount, MARKET))
    compare_state(sim, chain, tally, "after seeding")
    names = [b["name"] for b in sc["borrowers"]]
    for k, step in enumerate(sc["steps"]):
        now = sim.now + step["dt"]
        both(AdvanceTo(now))
        debtors = [n for n in names if mb.position(MARKET, n).borrow_shares] or names
        aimed = names.index(debtors[step["aim"] % len(debtors)])
        if step["move"] is not None:
            factors = {m.collateral: step["move"][0], m.loan: step["move"][1]}
        else:  # aim one borrower's health factor at the target by moving the collateral price
            hf = mb.health_factor(now, MARKET, names[aimed])
            factors = {m.collateral: step["target"] / (hf / 1e18) if 0 < hf < 2**255 else 1.0}
        for asset, f in factors.items():
            new = max(1, min(int(prices[asset] * f), 10**20))
            if new != prices[asset]:
                prices[asset] = new
                both(SetPrice(asset, new))
        _extra(both, mb, m, step, names, sc["lenders"], now)
        for offset, kind, how, frac, odd in step["attempts"]:
            user = names[(aimed + offset) % len(names)]
            pos = mb.position(MARKET, user)
            total = pos.borrow_shares if kind == "shares" else pos.collateral
            x = {"all": total, "part": max(1, int(total * frac)), "one": 1, "over": total + 1}[how]
            seized, shares = (0, x) if kind == "shares" else (x, 0)
            if odd == "zero":
                seized = shares = 0
            elif odd == "both":
                seized, shares = max(seized, 1), max(shares, 1)
            both(Liquidate(LIQUIDATOR, user, market=MARKET, seized_assets=seized, repaid_shares=shares))
        compare_state(sim, chain, tally, f"after step {k}")
    tally.mismatches += [f"model invariant broken: {e}" for e in mb.invariant_errors()]
    return tally


def _extra(both, mb, m: MorphoMarketSpec, step: dict, names: list[str], lenders: int, now: int) -> None:
    what, frac = step["extra"], step["extra_frac"]
    user = names[int(frac * 100) % len(names)]
    lender = f"lender{int(frac * 100) % lenders}"
    if what == "repay-part":
        debt = mb.borrow_assets(now, MARKET, user)
        if debt:
            both(Repay(user, m.loan, max(1, int(debt * frac)), MARKET))
    elif what == "repay-all":
        both(Repay(user, m.loan, MAX, MARKET))
    elif what == "withdraw-part":
        have = mb.supply_assets(now, MARKET, lender)
        both(Withdraw(lender, m.loan, max(1, int(have * frac)), MARKET))
    elif what == "withdraw-all":
        both(Withdraw(lender, m.loan, MAX, MARKET))
    elif what == "withdraw-collateral":
        both(Withdraw(user, m.collateral, max(1, int(mb.position(MARKET, user).collateral * frac)), MARKET))
    elif what == "supply":
        both(Supply(lender, m.loan, max(1, int(mb.accrued_market(now, MARKET).total_supply_assets * frac)),
                    MARKET))


@pytest.fixture(scope="module")
def morpho_chain():
    chain = ChainBackend(base_spec())
    yield chain
    chain.close()


def test_morpho_model_matches_real_bytecode(morpho_chain: ChainBackend, record_property) -> None:
    chain = morpho_chain
    totals = {"examples": 0, "liquidations": 0, "refused": 0, "actions": 0, "bad_debt": 0}
    bad_debt = [0]
    mark = chain.checkpoint()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenarios())
    def check(sc: dict) -> None:
        chain.restore(mark)
        try:
            tally = _run_example(chain, sc, bad_debt)
        finally:
            chain.restore(mark)
        totals["examples"] += 1
        totals["liquidations"] += tally.liquidations
        totals["refused"] += tally.refused
        totals["actions"] += tally.actions
        assert not tally.mismatches, "\n".join(tally.mismatches[:20])

    check()
    totals["bad_debt"] = bad_debt[0]
    for k, v in totals.items():
        record_property(k, v)
    print(f"\nmorpho-blue: {totals}")
    assert totals["examples"] >= EXAMPLES
    assert totals["liquidations"] > EXAMPLES // 2, totals  # the examples really liquidate
    assert totals["refused"] > EXAMPLES // 4, totals
    assert totals["bad_debt"] > EXAMPLES // 20, totals  # and some write off bad debt
