"""Hypothesis invariants of the Aave 3.0 rule set (``AavePool(..., version="3.0")``)."""

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
START = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}


def make_world(prices: dict[str, int]) -> tuple[AavePool, Ledger]:
    ledger = Ledger(DEC)
    pool = AavePool("aave", ledger, {a: p.to_config(DEC[a]) for a, p in PARAMS.items()},
                    prices.__getitem__, version="3.0")
    for asset, amount in (("USDC", 10**14), ("WBTC", 10**10), ("WETH", 10**22)):
        ledger.mint(asset, "lp", amount)
        pool.supply(0, "lp", asset, amount)
    return pool, ledger


positions = st.tuples(
    st.integers(10**15, 10**20),  # WETH collateral, base units
    st.integers(0, 10**8),  # WBTC collateral
    st.integers(50, 999),  # per mille of the borrowing power used
    st.integers(0, 10**6),  # time passing before the check, seconds
)


def open_position(pool: AavePool, ledger: Ledger, weth: int, wbtc: int, use: int) -> None:
    for asset, amount in (("WETH", weth), ("WBTC", wbtc)):
        if amount:
            ledger.mint(asset, "u", amount)
            pool.supply(0, "u", asset, amount)
    d = pool.account_data(0, "u")
    amount = d.total_collateral_base * d.avg_ltv // 10_000 * use // 1000 * 10**6 // 10**8
    if amount:
        pool.borrow(0, "u", "USDC", amount)


@SETTINGS
@given(positions, st.integers(30, 100), st.one_of(st.just(MAX_AMOUNT), st.integers(1, 10**12)))
def test_liquidation_conserves_and_never_books_deficit(
    pos: tuple[int, int, int, int], drop_pct: int, cover: int
) -> None:
    weth, wbtc, use, dt = pos
    prices = dict(START)
    pool, ledger = make_world(prices)
    open_position(pool, ledger, weth, wbtc, use)
    prices["WETH"] = START["WETH"] * drop_pct // 100
    prices["WBTC"] = START["WBTC"] * drop_pct // 100
    ledger.mint("USDC", "liq", 10**13)
    debt_before = pool.debt_of(dt, "u", "USDC")
    exact = pool.account_data(dt, "u").health_factor < 10**18
    assert (["u"] if exact else []) == pool.liquidatable_accounts(dt)
    preview = pool.preview_liquidation(dt, "WETH", "USDC", "u", cover)
    quote = pool.quote_liquidation(dt, "WETH", "USDC", "u", cover)
    out = pool.liquidation_call(dt, "liq", "WETH", "USDC", "u", cover)
    assert preview == out
    debt_after = pool.debt_of(dt, "u", "USDC")
    if isinstance(out, LiquidationOutcome):
        assert (quote.debt_repaid, quote.collateral_seized) == (out.debt_repaid, out.collateral_seized)
        assert out.deficits == () and pool.deficit("USDC") == 0
        # close factor: half of the reserve debt (half up) unless HF <= 0.95
        cap = debt_before if out.health_before <= 95 * 10**16 else (debt_before * 5000 + 5000) // 10_000
        assert out.debt_repaid <= cap == out.max_liquidatable_debt
        # half-up burn: the debt falls by what was repaid, within one unit either way
        assert abs(out.debt_repaid - (debt_before - debt_after)) <= 1
        backed = wbtc > 0 or pool.collateral_of(dt, "u", "WETH") > 0
        assert out.unbacked_debt == ((("USDC", debt_after),) if not backed and debt_after else ())
    else:
        assert debt_after == debt_before
    assert ledger.conservation_errors() == []
    assert pool.invariant_errors() == []


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["supply", "borrow", "repay", "withdraw", "collect"]),
                          st.integers(0, 3), st.integers(1, 10**12), st.integers(0, 10**5)),
                min_size=1, max_size=25))
def test_random_actions_keep_invariants(actions: list[tuple[str, int, int, int]]) -> None:
    pool, ledger = make_world(dict(START))
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
            elif kind == "withdraw":
                pool.withdraw(now, acct, "WETH", amount * 10**5)
            else:
                pool.touch_reserve(now, "USDC")
                pool.collect_treasury(now, "USDC", "t")
        except AaveError:
            pass
        assert pool.invariant_errors() == []
        assert ledger.conservation_errors() == []
        for a in pool.positions():
            if pool.debt_of(now, a, "USDC") >= 10**6:
                assert pool.account_data(now, a).health_factor >= 10**18 * 99 // 100
