"""Hypothesis invariants of the Compound III (Comet) model under random action sequences.

After every action, successful or reverted: principals sum to the totals, collateral balances
sum to ``totalsCollateral`` and never exceed what the contract holds, ``assetsIn`` matches the
balances, and the ledger conserves every token. A reverted action changes nothing. ``absorb``
leaves the account with no debt and no collateral, moves all of it into the collateral
reserves, and lowers ``getReserves`` by what it paid out (to rounding); its shortfall is split
between reserves and suppliers exactly. ``buyCollateral`` raises the reserves by exactly the
base paid and lowers the collateral reserves by exactly what it sent. Health below 1 is
``isLiquidatable`` exactly, and the float screen never misses a liquidatable account.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.compound_v3 import (
    MAX_AMOUNT,
    AssetConfig,
    Comet,
    CometConfiguration,
    CometError,
)

DEC = {"USDC": 6, "WETH": 18, "WBTC": 8}
T0 = 1_700_000_000
WAD = 10**18
USERS = ["u0", "u1", "u2", "u3"]
ASSETS = ["WETH", "WBTC"]
FEED = {"USDC": "usdc-usd", "WETH": "eth-usd", "WBTC": "btc-usd"}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class World:
    def __init__(self, target_reserves: int = 5_000_000 * 10**6) -> None:
        self.usd = {"usdc-usd": 10**8, "eth-usd": 3000 * 10**8, "btc-usd": 60_000 * 10**8}
        self.ledger = Ledger(DEC)
        config = CometConfiguration(
            base_token="USDC", base_token_price_feed="usdc-usd",
            supply_kink=8 * 10**17, supply_per_year_interest_rate_slope_low=325 * 10**14,
            supply_per_year_interest_rate_slope_high=4 * 10**17, supply_per_year_interest_rate_base=0,
            borrow_kink=8 * 10**17, borrow_per_year_interest_rate_slope_low=35 * 10**15,
            borrow_per_year_interest_rate_slope_high=25 * 10**16, borrow_per_year_interest_rate_base=15 * 10**15,
            store_front_price_factor=5 * 10**17, target_reserves=target_reserves, base_borrow_min=100 * 10**6,
            asset_configs=(
                AssetConfig("WETH", "eth-usd", 18, 82 * 10**16, 90 * 10**16, 95 * 10**16, 10**30),
                AssetConfig("WBTC", "btc-usd", 8, 70 * 10**16, 77 * 10**16, 93 * 10**16, 10**20),
            ),
            # reward tracking on, with a minimum large enough that the uint64 tracking indices cannot
            # overflow (divBaseWei(speed * elapsed, total) over 400 days stays below 2**64)
            base_min_for_rewards=10_000 * 10**6, base_tracking_supply_speed=10**14, base_tracking_borrow_speed=10**12,
        )
        feeds = {name: (lambda name=name: self.usd[name]) for name in self.usd}
        self.comet = Comet("comet", self.ledger, config, feeds, created_at=T0)
        self.now = T0
        self.ledger.mint("USDC", "comet", 20_000 * 10**6)  # starting reserves
        self.ledger.mint("USDC", "lp", 10**12)
        self.comet.supply(T0, "lp", "USDC", 10**12)

    def holdings(self) -> tuple[Any, ...]:
        return tuple((t, tuple(sorted(self.ledger.holders(t).items()))) for t in DEC)

    def check(self) -> None:
        assert self.comet.invariant_errors() == []
        assert self.ledger.conservation_errors() == []


action = st.tuples(
    st.sampled_from(["lend", "post", "borrow", "repay", "repay_max", "withdraw", "withdraw_max",
                     "withdraw_collateral", "absorb", "buy", "price"]),
    st.sampled_from(USERS),
    st.sampled_from(ASSETS),
    st.integers(0, 10**6),
    st.integers(0, 2 * 86400),
)


def run(w: World, kind: str, user: str, asset: str, raw: int, dt: int) -> None:
    c = w.comet
    w.now += dt
    now = w.now
    usdc = raw * 10**4  # up to 10,000 USDC
    if kind == "price":
        feed = FEED[asset]
        w.usd[feed] = max(1, w.usd[feed] * (55 + raw % 60) // 100)  # x0.55 .. x1.14
    elif kind == "lend":
        w.ledger.mint("USDC", user, usdc)
        c.supply(now, user, "USDC", usdc)
    elif kind == "post":
        amount = raw * (10**13 if asset == "WETH" else 10**2)  # up to 10 WETH / 1 WBTC
        w.ledger.mint(asset, user, amount)
        c.supply(now, user, asset, amount)
    elif kind == "borrow":
        fresh = c.user_basic(user).principal == 0
        c.withdraw(now, user, "USDC", usdc)
        if fresh:  # principalValueBorrow rounds up: a borrower never owes less than it took
            assert c.borrow_balance_of(now, user) >= usdc
    elif kind in ("repay", "repay_max"):
        w.ledger.mint("USDC", user, c.borrow_balance_of(now, user) + usdc)
        c.supply(now, user, "USDC", MAX_AMOUNT if kind == "repay_max" else usdc)
        if kind == "repay_max":
            assert c.borrow_balance_of(now, user) == 0
    elif kind == "withdraw":
        c.withdraw(now, user, "USDC", usdc)
    elif kind == "withdraw_max":
        c.withdraw(now, user, "USDC", MAX_AMOUNT)
        assert c.balance_of(now, user) == 0
    elif kind == "withdraw_collateral":
        c.withdraw(now, user, asset, c.collateral_balance_of(user, asset) * (raw % 101) // 100)
    elif kind == "absorb":
        if raw % 4:  # a keeper's batch: the accounts liquidatable now (or one that is not)
            accounts = [u for u in USERS if c.is_liquidatable(now, u)] or [user]
        else:  # any subset: reverts unless every account is liquidatable
            accounts = [u for u in USERS if raw >> (2 + USERS.index(u)) & 1] or [user]
        absorb(w, accounts)
    else:
        held = c.get_collateral_reserves(asset)
        buy(w, asset, min(usdc, c.base_for_collateral(asset, held)) if raw % 3 else usdc)


def absorb(w: World, accounts: list[str]) -> None:
    c, now = w.comet, w.now
    held = {a: c.get_collateral_reserves(a) for a in ASSETS}
    coll = {(u, a): c.collateral_balance_of(u, a) for u in accounts for a in ASSETS}
    liquidatable = [c.is_liquidatable(now, u) for u in accounts]
    # health below 1 is isLiquidatable, exactly
    assert liquidatable == [c.health_factor(now, u) < WAD for u in accounts]
    result = c.absorb(now, "keeper", accounts)  # raises NotLiquidatable unless all are
    assert all(liquidatable) and len(set(accounts)) == len(accounts)
    for a in result.accounts:
        assert c.borrow_balance_of(now, a.account) == 0
        assert all(c.collateral_balance_of(a.account, x) == 0 for x in ASSETS)
        assert a.health_before < WAD
        assert a.shortfall == a.reserves_drawn + a.uncovered
        assert a.base_paid_out >= a.debt_absorbed
        # getReserves falls by what was paid out, to the rounding of presentValue/principalValue
        assert abs((a.reserves_before - a.reserves_after) - a.base_paid_out) <= 3
        # the shortfall is the debt the collateral at the feeds does not cover
        assert a.shortfall == max(0, a.debt_absorbed - a.collateral_value_base)
    for x in ASSETS:
        taken = sum(coll[(u, x)] for u in accounts)
        assert c.get_collateral_reserves(x) == held[x] + taken


def buy(w: World, asset: str, base_amount: int) -> None:
    c, now = w.comet, w.now
    w.ledger.mint("USDC", "buyer", base_amount)
    reserves, held = c.get_reserves(now), c.get_collateral_reserves(asset)
    quote = c.quote_collateral(asset, base_amount)
    assert quote <= c.quote_collateral(asset, base_amount + 1)  # monotone in the base paid
    result = c.buy_collateral(now, "buyer", asset, quote, base_amount)
    assert reserves < c.target_reserves
    assert result.collateral_amount == quote <= held
    assert c.get_reserves(now) == reserves + base_amount
    assert c.get_collateral_reserves(asset) == held - quote


@SETTINGS
@given(st.lists(action, min_size=1, max_size=40), st.integers(50, 100), st.integers(50, 100), st.booleans())
def test_random_actions_keep_the_books_and_revert_cleanly(
    actions: list[tuple[Any, ...]], eth_pct: int, btc_pct: int, low_target: bool
) -> None:
    w = World(target_reserves=10**6 if low_target else 5_000_000 * 10**6)
    # borrowers near their limit: 1-3 WETH (capacity 2,460 per WETH) and 0.1-0.3 WBTC (4,200 per
    # 0.1 WBTC), so price moves make them liquidatable and some insolvent
    for i, user in enumerate(USERS[:3]):
        w.ledger.mint("WETH", user, (1 + i) * 10**18)
        w.ledger.mint("WBTC", user, (1 + i) * 10**7)
        w.comet.open_position(T0, user, {"WETH": (1 + i) * 10**18, "WBTC": (1 + i) * 10**7},
                              (1 + i) * 6_500 * 10**6)
    w.check()
    w.usd["eth-usd"] = w.usd["eth-usd"] * eth_pct // 100
    w.usd["btc-usd"] = w.usd["btc-usd"] * btc_pct // 100
    for kind, user, asset, raw, dt, in actions:
        snap = w.comet.snapshot(0)
        cash = {t: w.ledger.balance_of(t, "comet") for t in DEC}
        try:
            run(w, kind, user, asset, raw, dt)
        except CometError:
            assert w.comet.snapshot(0) == snap, f"{kind} reverted but changed the state"
            # minting before the call is the test's doing; the contract's own balance did not move
            assert {t: w.ledger.balance_of(t, "comet") for t in DEC} == cash
        w.check()


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**6), st.integers(1, 99)), min_size=1, max_size=8),
    st.integers(40, 130), st.integers(40, 130), st.integers(0, 400 * 86400),
)
def test_screen_never_misses_a_liquidatable_account(
    positions: list[tuple[int, int, int]], eth_pct: int, btc_pct: int, dt: int
) -> None:
    w = World()
    for i, (weth, wbtc, use) in enumerate(positions):
        user = f"b{i}"
        coll = {"WETH": weth * 10**13, "WBTC": wbtc * 10}
        for a, x in coll.items():
            w.ledger.mint(a, user, x)
        capacity = coll["WETH"] * 3000 // 10**18 * 82 // 100 + coll["WBTC"] * 60_000 // 10**8 * 70 // 100
        try:
            w.comet.open_position(T0, user, coll, capacity * 10**6 * use // 100)
        except CometError:
            continue
    w.usd["eth-usd"] = 3000 * 10**8 * eth_pct // 100
    w.usd["btc-usd"] = 60_000 * 10**8 * btc_pct // 100
    now = T0 + dt
    found = w.comet.liquidation_candidates(now)
    for i in range(len(positions)):
        user = f"b{i}"
        if w.comet.is_liquidatable(now, user):
            assert user in found
            assert w.comet.health_factor(now, user) < WAD
    # largest debt first
    debts = [w.comet.borrow_balance_of(now, u) for u in found]
    assert debts == sorted(debts, reverse=True)


@SETTINGS
@given(st.integers(10**15, 10**20), st.integers(1, 99), st.integers(10**8, 10**12), st.integers(10**8, 10**12),
       st.integers(0, 30 * 86400))
def test_health_is_monotone_in_price_and_exact_at_one(coll: int, use: int, p1: int, p2: int, dt: int) -> None:
    w = World()
    w.ledger.mint("WETH", "u", coll)
    debt = coll * 3000 // 10**18 * 82 // 100 * 10**6 * use // 100  # a share of the capacity, USDC units
    try:
        w.comet.open_position(T0, "u", {"WETH": coll}, debt)
    except CometError:
        return  # below baseBorrowMin or beyond the borrow factor
    lo, hi = sorted((p1, p2))
    now = T0 + dt
    w.usd["eth-usd"] = lo
    h_lo = w.comet.health_factor(now, "u")
    assert (h_lo < WAD) == w.comet.is_liquidatable(now, "u")
    assert (w.comet.borrow_health_factor(now, "u") < WAD) == (not w.comet.is_borrow_collateralized(now, "u"))
    w.usd["eth-usd"] = hi
    assert h_lo <= w.comet.health_factor(now, "u")
