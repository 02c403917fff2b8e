"""Differential property test: the Aave model against real Aave 3.0 and 3.6 bytecode.

Hypothesis draws reserve parameters (risk and rate curve), 1–3 accounts with one or two
collaterals among WETH (18 decimals), WBTC (8), DAI (18) and one or two debts among USDC (6),
DAI and WETH, positions from a few hundred to a few hundred thousand USD (so the 1,000- and
2,000-base thresholds of 3.3+ are crossed), then 1–4 steps of time (0 s to 30 days) and price
moves, some aimed at a health factor at the 0.95 close-factor switch or at 1.0, with
liquidation attempts of the whole debt, half of it ±1 wei, a random part, or 1 wei. Every
example runs on both backends; every liquidation result, every refusal and the state after
every step must be identical. One deployment per variant serves every example
(``evm_snapshot``/``evm_revert`` between examples).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.chain.backend import AdvanceTo, Borrow, Liquidate, MarketSpec, SetPrice, Supply
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.sim_backend import SimulatorBackend
from defisim.engine.protocols.aave_v3.config import BPS_TO_RAY, ReserveConfig
from tests.chain.differential import Tally, compare_state, run_both

EXAMPLES = int(__import__("os").environ.get("DEFISIM_DIFF_EXAMPLES", "200"))
MAX = 2**256 - 1
TOKENS = {"WETH": 18, "WBTC": 8, "DAI": 18, "USDC": 6}
PRICES = {"WETH": 3000 * 10**8, "WBTC": 60_000 * 10**8, "DAI": 10**8, "USDC": 10**8}
VOLATILE = ("WETH", "WBTC")
COLLATERALS = ("WETH", "WBTC", "DAI")
DEBTS = ("USDC", "DAI", "WETH")
LP_USD = 50_000_000


def _default_reserve() -> ReserveConfig:
    return ReserveConfig(ltv=7500, liquidation_threshold=8000, liquidation_bonus=10500,
                         liquidation_protocol_fee=1000, reserve_factor=1000,
                         optimal_usage_ratio=8000 * BPS_TO_RAY, base_variable_borrow_rate=0,
                         variable_rate_slope1=400 * BPS_TO_RAY, variable_rate_slope2=6000 * BPS_TO_RAY,
                         decimals=18)


def base_spec(family: str) -> MarketSpec:
    reserves = {s: _replace_decimals(_default_reserve(), d) for s, d in TOKENS.items()}
    return MarketSpec(family=family, tokens=dict(TOKENS), prices=dict(PRICES), reserves=reserves)


def _replace_decimals(c: ReserveConfig, d: int) -> ReserveConfig:
    from dataclasses import replace

    return replace(c, decimals=d)


@st.composite
def reserve_configs(draw: st.DrawFn, decimals: int) -> ReserveConfig:
    lt = draw(st.integers(5000, 9300))
    ltv = lt - draw(st.integers(0, 1500))
    max_bonus = min(1500, 10_000 * 10_000 // lt - 10_000)
    bonus = draw(st.integers(100, max(100, max_bonus)))
    slope1 = draw(st.integers(100, 1500))
    return ReserveConfig(
        ltv=max(ltv, 0), liquidation_threshold=lt, liquidation_bonus=10_000 + bonus,
        liquidation_protocol_fee=draw(st.sampled_from([0, 1000, draw(st.integers(0, 5000))])),
        reserve_factor=draw(st.integers(0, 5000)),
        optimal_usage_ratio=draw(st.integers(4000, 9500)) * BPS_TO_RAY,
        base_variable_borrow_rate=draw(st.integers(0, 300)) * BPS_TO_RAY,
        variable_rate_slope1=slope1 * BPS_TO_RAY,
        variable_rate_slope2=draw(st.integers(slope1, 20_000)) * BPS_TO_RAY,
        decimals=decimals,
    )


def _units(asset: str, usd: float) -> int:
    return int(usd * 10 ** TOKENS[asset] * 10**8 // PRICES[asset])


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    reserves = {s: draw(reserve_configs(d)) for s, d in TOKENS.items()}
    accounts = []
    for i in range(draw(st.integers(1, 3))):
        colls = draw(st.lists(st.sampled_from(COLLATERALS), min_size=1, max_size=2, unique=True))
        debts = draw(st.lists(st.sampled_from([d for d in DEBTS if d not in colls] or ["USDC"]),
                              min_size=1, max_size=2, unique=True))
        usd = draw(st.sampled_from([300, 1500, 2500, 9000, 60_000, 400_000]))
        usd = usd * draw(st.floats(0.7, 1.4))
        split = draw(st.floats(0.2, 0.8))
        supplies = {c: max(1, int(_units(c, usd * (split if k == 0 else 1 - split))))
                    for k, c in enumerate(colls)}
        if len(colls) == 1:
            supplies = {colls[0]: max(1, _units(colls[0], usd))}
        use = draw(st.sampled_from([0.5, 0.9, 0.99, 0.999, 1.0, draw(st.floats(0.3, 1.0))]))
        accounts.append({"name": f"acct{i}", "supplies": supplies, "debts": debts, "use": use})
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        dt = draw(st.sampled_from([0, 12, 3600, 86_400, 30 * 86_400]))
        mode = draw(st.sampled_from(["random", "target"]))
        if mode == "random":
            moves = {a: draw(st.floats(0.45, 1.05)) for a in VOLATILE}
            target = None
        else:
            moves = None
            target = draw(st.sampled_from([0.9499, 0.95, 0.9501, 0.96, 0.999, 0.7, 0.4]))
        attempts = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3),
                                           st.sampled_from(["max", "half-1", "half", "half+1",
                                                            "part", "one"]),
                                           st.floats(0.01, 0.99)),
                                 min_size=1, max_size=4))
        steps.append({"dt": dt, "moves": moves, "target": target, "attempts": attempts})
    return {"reserves": reserves, "accounts": accounts, "steps": steps}


def _run_example(chain: ChainBackend, family: str, sc: dict) -> Tally:
    tally = Tally()
    chain.configure(sc["reserves"])
    spec = MarketSpec(family=family, tokens=dict(TOKENS), prices=dict(PRICES), reserves=sc["reserves"])
    sim = SimulatorBackend(spec)
    prices = dict(PRICES)
    for s in TOKENS:
        run_both(sim, chain, Supply("lp", s, _units(s, LP_USD)), tally)
    for acct in sc["accounts"]:
        for asset, amount in acct["supplies"].items():
            run_both(sim, chain, Supply(acct["name"], asset, amount), tally)
        power = sim.protocol.account_data(sim.now, acct["name"])
        room = power.total_collateral_base * power.avg_ltv // 10_000
        budget = int(room * acct["use"]) // len(acct["debts"])
        for d in acct["debts"]:
            amount = budget * 10 ** TOKENS[d] // prices[d]
            if amount > 0:
                run_both(sim, chain, Borrow(acct["name"], d, amount), tally)
    compare_state(sim, chain, tally, "after seeding")
    names = [a["name"] for a in sc["accounts"]]
    for k, step in enumerate(sc["steps"]):
        now = sim.now + step["dt"]
        run_both(sim, chain, AdvanceTo(now), tally)
        if step["moves"] is not None:
            factors = step["moves"]
        else:  # aim the first account's health factor at the target (volatile collateral)
            hf = sim.protocol.account_data(now, names[0]).health_factor
            f = step["target"] / (hf / 1e18) if 0 < hf < 2**255 else 1.0
            factors = {a: f for a in VOLATILE}
        for a, f in factors.items():
            new = max(1, int(prices[a] * f))
            if new != prices[a]:
                prices[a] = new
                run_both(sim, chain, SetPrice(a, new), tally)
        for who, ci, di, how, frac in step["attempts"]:
            acct = sc["accounts"][who % len(sc["accounts"])]
            colls = list(acct["supplies"])
            coll = colls[ci % len(colls)]
            debt = acct["debts"][di % len(acct["debts"])]
            owed = sim.protocol.debt_of(now, acct["name"], debt)
            amount = {"max": MAX, "half-1": owed // 2 - 1, "half": owed // 2, "half+1": owed // 2 + 1,
                      "part": int(owed * frac), "one": 1}[how]
            run_both(sim, chain, Liquidate("liquidator", acct["name"], coll, debt, max(amount, 1)), tally)
        compare_state(sim, chain, tally, f"after step {k}")
    return tally


def _differential(family: str, chain_fixture: ChainBackend, totals: dict) -> None:
    mark = chain_fixture.checkpoint()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenarios())
    def check(sc: dict) -> None:
        chain_fixture.restore(mark)
        try:
            tally = _run_example(chain_fixture, family, sc)
        finally:
            chain_fixture.restore(mark)
        totals["examples"] += 1
        totals["liquidations"] += tally.liquidations
        totals["refused"] += tally.refused
        totals["actions"] += tally.actions
        assert not tally.mismatches, "\n".join(tally.mismatches[:20])

    check()


@pytest.fixture(scope="module", params=["aave-v3.0", "aave-v3.6"])
def aave_chain(request: pytest.FixtureRequest):
    chain = ChainBackend(base_spec(request.param))
    yield request.param, chain
    chain.close()


def test_aave_model_matches_real_bytecode(aave_chain, record_property) -> None:
    family, chain = aave_chain
    totals = {"examples": 0, "liquidations": 0, "refused": 0, "actions": 0}
    _differential(family, chain, totals)
    for k, v in totals.items():
        record_property(k, v)
    print(f"\n{family}: {totals}")
    assert totals["examples"] >= EXAMPLES
    assert totals["liquidations"] > EXAMPLES // 2, totals  # the examples really liquidate
