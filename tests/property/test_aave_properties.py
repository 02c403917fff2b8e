"""Hypothesis invariants of the Aave V3.6 pool model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import (
    MAX_AMOUNT,
    AaveError,
    AavePool,
    LiquidationOutcome,
    ReserveParams,
)

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
PARAMS = {
    "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05),
    "WBTC": ReserveParams(ltv=0.70, liquidation_threshold=0.75, liquidation_bonus=0.10),
    "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045),
}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_world(prices: dict[str, int]) -> tuple[AavePool, Ledger]:
    ledger = Ledger(DEC)
    pool = AavePool("aave", ledger, {a: p.to_config(DEC[a]) for a, p in PARAMS.items()}, lambda a: prices[a])
    for asset, amount in (("USDC", 10**14), ("WBTC", 10**10), ("WETH", 10**22)):
        ledger.mint(asset, "lp", amount)
        pool.supply(0, "lp", asset, amount)
    return pool, ledger


positions = st.tuples(
    st.integers(10**15, 10**20),  # WETH collateral, base units
    st.integers(0, 10**8),  # WBTC collateral
    st.floats(0.05, 0.99),  # fraction of the borrowing power used
    st.integers(0, 10**6),  # time passing before the check, seconds
)


def open_position(pool: AavePool, ledger: Ledger, weth: int, wbtc: int, use: float) -> int:
    for asset, amount in (("WETH", weth), ("WBTC", wbtc)):
        if amount:
            ledger.mint(asset, "u", amount)
            pool.supply(0, "u", asset, amount)
    d = pool.account_data(0, "u")
    borrow_base = d.total_collateral_base * d.avg_ltv // 10_000 * int(use * 1000) // 1000
    amount = borrow_base * 10**6 // 10**8
    if amount:
        pool.borrow(0, "u", "USDC", amount)
    return amount


@SETTINGS
@given(positions, st.integers(100_00000000, 5000_00000000), st.integers(100_00000000, 5000_00000000))
def test_health_factor_monotone_in_collateral_price(pos: tuple[int, int, float, int], p1: int, p2: int) -> None:
    weth, wbtc, use, dt = pos
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = make_world(prices)
    open_position(pool, ledger, weth, wbtc, use)
    lo, hi = sorted((p1, p2))
    prices["WETH"] = lo
    h_lo = pool.account_data(dt, "u").health_factor
    prices["WETH"] = hi
    h_hi = pool.account_data(dt, "u").health_factor
    assert h_lo <= h_hi


@SETTINGS
@given(positions, st.integers(30, 100), st.one_of(st.just(MAX_AMOUNT), st.integers(1, 10**12)))
def test_liquidation_never_increases_debt_and_conserves(
    pos: tuple[int, int, float, int], drop_pct: int, cover: int
) -> None:
    weth, wbtc, use, dt = pos
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = make_world(prices)
    open_position(pool, ledger, weth, wbtc, use)
    prices["WETH"] = 2000_00000000 * drop_pct // 100
    prices["WBTC"] = 60000_00000000 * drop_pct // 100
    ledger.mint("USDC", "liq", 10**13)
    debt_before = pool.debt_of(dt, "u", "USDC")
    liquidatable = pool.liquidatable_accounts(dt)
    exact = pool.account_data(dt, "u").health_factor < 10**18
    assert (["u"] if exact else []) == liquidatable
    preview = pool.preview_liquidation(dt, "WETH", "USDC", "u", cover)
    out = pool.liquidation_call(dt, "liq", "WETH", "USDC", "u", cover)
    assert preview == out
    debt_after = pool.debt_of(dt, "u", "USDC")
    assert debt_after <= debt_before
    if isinstance(out, LiquidationOutcome):
        # burn rounds the scaled debt down (TokenMath.getVTokenBurnScaledAmount): the debt can
        # fall by a unit less than paid + written off, never by more
        gap = out.debt_repaid + dict(out.deficits).get("USDC", 0) - (debt_before - debt_after)
        assert 0 <= gap <= 2
        assert out.collateral_seized + out.protocol_fee <= weth + weth  # interest never doubles
    assert ledger.conservation_errors() == []
    assert pool.invariant_errors() == []


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["supply", "borrow", "repay", "withdraw"]),
                          st.integers(0, 3), st.integers(1, 10**12), st.integers(0, 10**5)),
                min_size=1, max_size=25))
def test_random_actions_keep_invariants(actions: list[tuple[str, int, int, int]]) -> None:
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = make_world(prices)
    now = 0
    for kind, who, amount, dt in actions:
        now += dt
        acct = f"a{who}"
        try:
            if kind == "supply":
                ledger.mint("WETH", acct, amount * 10**6)
                pool.supply(now, acct, "WETH", amount * 10**6)
            elif kind == "borrow":
                pool.borrow(now, acct, "USDC", amount // 100)
            elif kind == "repay":
                ledger.mint("USDC", acct, amount)
                pool.repay(now, acct, "USDC", amount)
            else:
                pool.withdraw(now, acct, "WETH", amount * 10**5)
        except AaveError:
            pass
        assert pool.invariant_errors() == []
        assert ledger.conservation_errors() == []
        for a in pool.positions():
            if pool.debt_of(now, a, "USDC") >= 10**6:
                # nobody can borrow into HF < 1 (time moves forward by at most ~1 day per step;
                # positions under 1 USD are excluded: one unit of rounded-up debt moves them a lot)
                assert pool.account_data(now, a).health_factor >= 10**18 * 99 // 100
