"""The insurance fund against its on-chain counterpart: contracts/src/InsuranceFund.sol as Umbrella.

A crash leaves an Aave 3.6 reserve in deficit (collateral exhausted, ``_burnBadDebt``); time
passes so the liquidity index is not 1; then the fund covers part, all, or more than all of it,
once or several times (leftover scaled aTokens from rounding count towards the next cover).
The simulator's ``AavePool.eliminate_deficit`` and the real pool + fund must leave identical
state: deficit, indexes, rates, virtual balance, and the fund's own aTokens.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.chain.backend import AdvanceTo, Borrow, CoverDeficit, Liquidate, MarketSpec, SetPrice, Supply
from defisim.chain.chain_backend import ChainBackend
from defisim.chain.sim_backend import SimulatorBackend
from tests.chain.differential import Tally, compare_state, run_both
from tests.chain.test_differential_aave import PRICES, TOKENS, base_spec

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def chain():
    backend = ChainBackend(base_spec("aave-v3.6"))
    yield backend
    backend.close()


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    crash=st.floats(0.3, 0.6),
    gap=st.sampled_from([0, 12, 3600, 86_400 * 7]),
    covers=st.lists(st.tuples(st.sampled_from(["part", "all", "more", "one"]), st.floats(0.05, 0.95),
                              st.sampled_from([0, 12, 86_400])), min_size=1, max_size=3),
)
def test_fund_cover_matches_real_contracts(chain: ChainBackend, crash: float, gap: int,
                                           covers: list[tuple[str, float, int]]) -> None:
    mark = chain.checkpoint()
    try:
        tally = _run(chain, crash, gap, covers)
    finally:
        chain.restore(mark)
    assert not tally.mismatches, "\n".join(tally.mismatches[:20])


def _run(chain: ChainBackend, crash: float, gap: int, covers: list[tuple[str, float, int]]) -> Tally:
    spec: MarketSpec = chain.spec
    sim = SimulatorBackend(spec)
    tally = Tally()
    steps = [Supply("lp", "USDC", 5_000_000 * 10**6), Supply("lp", "WETH", 1_000 * 10**18),
             Supply("keeper", "WETH", 50 * 10**18), Borrow("keeper", "USDC", 60_000 * 10**6),
             Supply("bob", "WETH", 10 * 10**18), Borrow("bob", "USDC", 22_000 * 10**6),
             AdvanceTo(spec.start_time + 3600),
             SetPrice("WETH", int(PRICES["WETH"] * crash)),
             Liquidate("liq", "bob", "WETH", "USDC", MAX),
             AdvanceTo(spec.start_time + 3600 + gap)]
    for action in steps:
        run_both(sim, chain, action, tally)
    deficit = sim.protocol.deficit("USDC")
    assert deficit > 0, "the crash must leave a deficit"
    assert tally.liquidations == 1
    now = sim.now
    for how, frac, dt in covers:
        if dt:
            now += dt
            run_both(sim, chain, AdvanceTo(now), tally)
        left = sim.protocol.deficit("USDC")
        amount = {"part": max(1, int(left * frac)), "all": left, "more": left + 12_345, "one": 1}[how]
        run_both(sim, chain, CoverDeficit("insurance", "USDC", amount), tally)
        compare_state(sim, chain, tally, f"after cover {how}")
    assert TOKENS["USDC"] == 6
    return tally
