"""Float screen vs exact layer; no floats in the exact modules; same-asset liquidation."""

from __future__ import annotations

import ast
import random
from pathlib import Path

from defisim.engine.fixedpoint import RAY
from defisim.engine.ledger import Ledger
from defisim.engine.protocols.aave_v3 import MAX_AMOUNT, AavePool, LiquidationOutcome, ReserveParams
from defisim.engine.protocols.aave_v3._screen import HealthScreen

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
PARAMS = {
    "WETH": ReserveParams(ltv=0.80, liquidation_threshold=0.825, liquidation_bonus=0.05),
    "WBTC": ReserveParams(ltv=0.70, liquidation_threshold=0.75, liquidation_bonus=0.10),
    "USDC": ReserveParams(ltv=0.75, liquidation_threshold=0.78, liquidation_bonus=0.045),
}
EXACT_MODULES = ["fixedpoint.py", "protocols/aave_v3/interest.py", "protocols/aave_v3/pool.py"]


def test_exact_modules_use_no_floats() -> None:
    import defisim.engine.fixedpoint as fp

    engine = Path(fp.__file__).parent
    for rel in EXACT_MODULES:
        tree = ast.parse((engine / rel).read_text())
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), rel
            assert not (isinstance(node, ast.Name) and node.id == "float"), rel
            assert not isinstance(node, ast.Div), f"true division in {rel}"


def _world(prices: dict[str, int], weth_lp: int = 10**24) -> tuple[AavePool, Ledger]:
    ledger = Ledger(DEC)
    pool = AavePool("aave", ledger, {a: p.to_config(DEC[a]) for a, p in PARAMS.items()}, lambda a: prices[a])
    for asset, amount in (("USDC", 10**15), ("WBTC", 10**12), ("WETH", weth_lp)):
        if not amount:
            continue
        ledger.mint(asset, "lp", amount)
        pool.supply(0, "lp", asset, amount)
    return pool, ledger


def test_screen_matches_brute_force_over_many_accounts() -> None:
    rng = random.Random(7)
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = _world(prices)
    names = [f"b{i}" for i in range(1500)]
    for name in names:
        weth = rng.randrange(10**14, 10**20)
        ledger.mint("WETH", name, weth)
        pool.supply(0, name, "WETH", weth)
        if rng.random() < 0.5:
            wbtc = rng.randrange(1, 10**8)
            ledger.mint("WBTC", name, wbtc)
            pool.supply(0, name, "WBTC", wbtc)
        cap = pool.account_data(0, name)
        borrow = cap.total_collateral_base * cap.avg_ltv // 10_000 * rng.randrange(1, 1000) // 1000 // 100
        if borrow:
            pool.borrow(0, name, "USDC", borrow)
    assert pool.invariant_errors() == []
    for t, weth_price in ((3600, 1900_00000000), (7200, 1750_00000000), (86_400, 1750_00000000),
                          (86_400 * 30, 1650_00000000)):
        prices["WETH"] = weth_price
        exact = [a for a in pool._screen.accounts if pool.account_data(t, a).health_factor < 10**18]
        found = pool.liquidatable_accounts(t)
        assert sorted(found) == sorted(exact)
        debts = [pool.account_data(t, a).total_debt_base for a in found]
        assert debts == sorted(debts, reverse=True)  # largest debt first
    assert exact  # the scenario does reach liquidations


def test_screen_caches_until_inputs_change() -> None:
    # columns: WETH (18 dp, LT 80 %), USDC (6 dp)
    s = HealthScreen(2)
    s.set_row("a", [10**18, 0], [0, 1000 * 10**6])  # HF 2000*0.8/1000 = 1.6
    args = ([RAY, RAY], [RAY, RAY], [2000_00000000, 10**8], [10**18, 10**6], [8000, 7800])
    assert s.candidates(*args) == []
    key = s._key
    s.set_row("b", [10**18, 0], [0, 1700 * 10**6])  # row update uses the cached weights
    assert s._key is key
    assert s.candidates(*args) == ["b"]
    assert list(s.estimates(*args).round(9)) == [1.6, round(1600 / 1700, 9)]
    # WETH at 1000: "a" drops to 0.8; candidates come largest debt first ("b" owes 1700)
    assert s.candidates([RAY, RAY], [RAY, RAY], [1000_00000000, 10**8], [10**18, 10**6], [8000, 7800]) == ["b", "a"]


def test_boundary_hf_one_wei_below_is_found() -> None:
    # exact HF < 1 by rounding while the float HF rounds to >= 1: the margin must catch it
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = _world(prices)
    ledger.mint("WETH", "u", 10**18)
    pool.supply(0, "u", "WETH", 10**18)
    pool.borrow(0, "u", "USDC", 1600 * 10**6)
    # HF = 2000e8 * 1e18 * P/2000 * 0.825 / 1600e8: 1 exactly at P = 1939.39393939..; pick the 8-dp floor
    prices["WETH"] = 1939_39393939
    assert pool.account_data(0, "u").health_factor < 10**18
    assert pool.liquidatable_accounts(0) == ["u"]


def test_same_asset_liquidation_accrues_treasury_twice_like_the_contract() -> None:
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = _world(prices, weth_lp=0)
    ledger.mint("WETH", "u", 10 * 10**18)
    pool.supply(0, "u", "WETH", 10 * 10**18)
    pool.borrow(0, "u", "WETH", 8 * 10**18)  # LTV 80 %: HF 10*0.825/8 = 1.03125, usage 80 %
    r0 = pool.snapshot(0).reserves[0]
    t = 365 * 86_400 * 5  # five years: debt ~ x1.19, supply ~ x1.13 -> HF below 1
    assert pool.account_data(t, "u").health_factor < 10**18
    # single accrual (ReserveLogic._accrueToTreasury) the contract books per updateState
    x = r0.current_variable_borrow_rate * t // 31_536_000
    growth = RAY + x + (x * (x // 2 + (x * (x // 6) + RAY // 2) // RAY) + RAY // 2) // RAY
    borrow_index = (growth * r0.variable_borrow_index + RAY // 2) // RAY
    liq_index = ((RAY + r0.current_liquidity_rate * t // 31_536_000) * r0.liquidity_index + RAY // 2) // RAY
    accrued = r0.scaled_total_debt * (borrow_index - r0.variable_borrow_index) // RAY
    once = ((accrued * 1000 + 5000) // 10_000) * RAY // liq_index
    ledger.mint("WETH", "liq", 10**20)
    out = pool.liquidation_call(t, "liq", "WETH", "WETH", "u", MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome)
    r1 = pool.snapshot(t).reserves[0]
    assert r1.variable_borrow_index == borrow_index and r1.liquidity_index == liq_index
    # both caches are taken before either updateState, so the treasury share is booked twice
    assert r1.accrued_to_treasury == r0.accrued_to_treasury + 2 * once
    assert pool.invariant_errors() == [] and ledger.conservation_errors() == []


def test_treasury_collects_liquidation_fee() -> None:
    prices = {"WETH": 2000_00000000, "WBTC": 60000_00000000, "USDC": 1_00000000}
    pool, ledger = _world(prices)
    ledger.mint("WETH", "u", 10**19)
    pool.supply(0, "u", "WETH", 10**19)
    pool.borrow(0, "u", "USDC", 16_000 * 10**6)
    prices["WETH"] = 1800_00000000
    ledger.mint("USDC", "liq", 10**12)
    out = pool.liquidation_call(0, "liq", "WETH", "USDC", "u", MAX_AMOUNT)
    assert isinstance(out, LiquidationOutcome) and out.protocol_fee > 0
    assert pool.collect_treasury(0, "WETH", "dao") == out.protocol_fee
    assert ledger.balance_of("WETH", "dao") == out.protocol_fee
    assert pool.invariant_errors() == [] and ledger.conservation_errors() == []


def test_candidate_order_is_a_full_stable_sort_by_debt_whatever_is_read_first() -> None:
    import numpy as np

    from defisim.engine.protocols.aave_v3._screen import _Names

    rng = np.random.default_rng(0)
    accounts = [f"a{i}" for i in range(5000)]
    for _ in range(100):
        n = int(rng.integers(1, 2000))
        rows = np.sort(rng.choice(5000, n, replace=False))
        debt = rng.integers(1, 50, n).astype(float)  # many ties
        expected = [accounts[rows[i]] for i in np.lexsort((rows, -debt))]
        names = _Names(accounts, rows, debt)
        k = int(rng.integers(0, n))
        assert [names[i] for i in range(k)] == expected[:k]  # partial read first
        assert list(names) == expected
        assert names[-1] == expected[-1] and len(names) == n


def test_weights_are_rebuilt_only_past_the_index_drift_or_on_a_price_change() -> None:
    from defisim.engine.protocols.aave_v3._screen import INDEX_DRIFT

    s = HealthScreen(2)
    s.set_row("a", [10**18, 0], [0, 1000 * 10**6])
    prices, units, lts = [2000_00000000, 10**8], [10**18, 10**6], [8000, 7800]
    s.candidates([RAY, RAY], [RAY, RAY], prices, units, lts)
    key = s._key
    small = RAY + int(RAY * INDEX_DRIFT) // 2  # half the tolerated drift
    s.candidates([RAY, RAY], [RAY, small], prices, units, lts)
    assert s._key is key  # kept: interest over a few blocks
    big = RAY + int(RAY * INDEX_DRIFT) * 2
    s.candidates([RAY, RAY], [RAY, big], prices, units, lts)
    assert s._key != key
    key = s._key
    s.candidates([RAY, RAY], [RAY, big], [1999_00000000, 10**8], units, lts)
    assert s._key != key  # any price change rebuilds
