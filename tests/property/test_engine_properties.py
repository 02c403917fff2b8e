"""Whole-engine invariants on random small worlds (hypothesis).

With zero interest rates every unit of debt is accounted for exactly: for each account,
``initial debt == debt left + Σ repaid by liquidators + Σ written off as bad debt``. The ledger
and the pool's books are checked every block (``check_invariants_every_blocks: 1``), and no
liquidation may touch a healthy account.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import defisim
from defisim.engine.records import BadDebtRealized, PositionLiquidated
from tests.integration.scenarios import one_liquidation

WAD = 10**18
USDC = 10**6

account = st.tuples(
    st.integers(min_value=1, max_value=40),        # WETH supplied (whole tokens)
    st.floats(min_value=0.30, max_value=0.99),     # debt as a share of the 80 % borrowing power
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    accounts=st.lists(account, min_size=1, max_size=6),
    crash_to=st.integers(min_value=700, max_value=1990),
    gas_limit=st.sampled_from([1_000_000, 30_000_000]),
    bid_share=st.floats(min_value=0.0, max_value=0.95),
    flash=st.booleans(),
    pool_weth=st.sampled_from([50, 1000, 100_000]),
)
def test_debt_is_conserved_and_only_unhealthy_accounts_are_liquidated(
    accounts: list[tuple[int, float]], crash_to: int, gas_limit: int, bid_share: float, flash: bool,
    pool_weth: int,
) -> None:
    data = one_liquidation()
    data["chain"].update({"blocks": 40, "gas_limit": gas_limit})
    data["prices"]["assets"]["WETH"]["points"] = [[0, 2000], [5, 2000], [15, crash_to]]
    data["markets"][0]["liquidity"] = {"WETH": f"{pool_weth} WETH", "USDC": f"{pool_weth * 2000} USDC"}
    aave = data["protocols"][0]
    aave["accounts"] = []
    initial: dict[str, int] = {}
    for i, (weth, share) in enumerate(accounts):
        debt = int(weth * 2000 * 0.80 * share * USDC)
        if debt == 0:
            continue
        name = f"u{i}"
        initial[name] = debt
        aave["accounts"].append({"name": name, "supply": {"WETH": f"{weth} WETH"}, "borrow": {"USDC": debt}})
    data["agents"][0].update({"bid_share": bid_share, "flash_loans": flash})
    result = defisim.simulate(defisim.scenario_from_dict(data))  # checks invariants every block

    pool = result.world.protocols["aave"]
    now = result.world.now()
    repaid: dict[str, int] = {}
    for r in result.records.of_type(PositionLiquidated):
        assert r.health_before < WAD
        assert r.debt_asset == "USDC" and r.collateral_asset == "WETH"
        repaid[r.account] = repaid.get(r.account, 0) + r.debt_repaid
    event("liquidations" if repaid else "no liquidation")
    written_off: dict[str, int] = {}
    for r in result.records.of_type(BadDebtRealized):
        written_off[r.account] = written_off.get(r.account, 0) + r.amount
    event("bad debt" if written_off else "no bad debt")
    for name, debt in initial.items():
        left = pool.debt_of(now, name, "USDC")
        assert debt == left + repaid.get(name, 0) + written_off.get(name, 0)
    assert result.world.invariant_errors() == []
