"""Hypothesis invariants of the perpetual exchange under random books and price paths.

A random exchange (two markets, a random pool depth and insurance fund, staged liquidation
on or off, venue or none) gets random traders (side, notional, leverage, isolated or cross),
then a random price path; at every step funding settles and the liquidation engine runs to
quiescence. Checked throughout:

* conservation: ``Σ collateral + Σ unrealised PnL + insurance fund + dust`` is what was
  deposited plus the initial fund, at every step, with PnL at one common price (``Σ size = 0``
  per market, so ``Σ PnL = -Σ entry``); with each position valued rounded down on its own,
  ``Σ equity`` is at most one base unit per position below it. The books also match the
  ledger to the unit;
* every loss lands in exactly one place: ``bad_debt == fund_drawn + adl_haircut + socialized
  + unbacked``; the fund moves by exactly ``fee - drawn``;
* ADL closes only opposite-side positions that were profitable, in accounts with positive
  equity, and takes at most their profit;
* no liquidation above maintenance: every liquidation acted on an account whose exact equity
  was below its requirement, and every healthy account's liquidation is refused with nothing
  changed;
* no account other than the one liquidated (and the vault) is pushed under water, and the
  total deficit of accounts never grows;
* the float screen never misses a liquidatable account.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.markets.uniswap_v2 import UniswapV2Pool
from defisim.engine.protocols.perp import (
    DeleveragingFill,
    FundingConfig,
    LiquidationConfig,
    LiquidationOutcome,
    MarketParams,
    PerpExchange,
    StagedLiquidation,
)
from defisim.engine.protocols.perp.mathlib import margin_requirement_ceil

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
T0 = 1_700_000_000
USD = 10**6
E8 = 10**8
MARKETS = {"ETH-PERP": ("WETH", 3_000), "BTC-PERP": ("WBTC", 60_000)}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

trader = st.tuples(
    st.sampled_from(sorted(MARKETS)),
    st.booleans(),                     # long
    st.integers(500, 400_000),         # notional, USD
    st.integers(11, 200),              # leverage x 10
    st.booleans(),                     # isolated
)
traders = st.lists(trader, min_size=1, max_size=12)
config = st.fixed_dictionaries({
    "depth": st.sampled_from([20, 200, 2_000]),          # pool WETH; BTC pool 1/20 of it
    "fund": st.sampled_from([0, 300, 5_000, 100_000]),   # USDC
    "staged": st.booleans(),
    "venue": st.sampled_from([True, True, True, False]),
    "fee": st.sampled_from([0, 5_000, 15_000]),
})
moves = st.lists(
    st.tuples(
        st.one_of(st.integers(-8, 6), st.integers(-30, 12)),   # ETH move, %
        st.one_of(st.integers(-8, 6), st.integers(-30, 12)),   # BTC move, %
        st.integers(12, 2_400),                                # seconds
        st.none() | trader,                                    # someone opens at the new price
    ),
    min_size=1, max_size=10,
)


class Exchange:
    """A random exchange, its ledger, the oracle prices and the running totals."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.px = {m: usd * E8 for m, (_, usd) in MARKETS.items()}
        self.ledger = Ledger(DEC)
        staged = StagedLiquidation(50_000 * USD, 200_000, 30, 666_667) if cfg["staged"] else None
        self.ex = PerpExchange("perp", self.ledger, "USDC", liquidation=LiquidationConfig(cfg["fee"], 15_000, staged),
                               funding=FundingConfig(), created_at=T0)
        for m, (asset, usd) in MARKETS.items():
            pool = None
            if cfg["venue"]:
                base = cfg["depth"] * 10 ** DEC[asset] * 3_000 // usd
                pool = UniswapV2Pool(f"{asset}-usdc", asset, "USDC", self.ledger)
                self.ledger.mint(asset, "lp", base)
                self.ledger.mint("USDC", "lp", cfg["depth"] * 3_000 * USD)
                pool.add_liquidity("lp", base, cfg["depth"] * 3_000 * USD, T0)
            self.ex.add_market(MarketParams(m, asset, DEC[asset], 50_000, 30_000),
                               lambda m=m: self.px[m], pool)
        self.ledger.mint("USDC", self.ex.fund_address, cfg["fund"] * USD)
        vault = self.ex.vault_address
        self.ledger.mint("USDC", vault, 60_000_000 * USD)
        self.ex.deposit(vault, 50_000_000 * USD)
        self.ledger.mint("WETH", vault, 20_000 * 10**18)
        self.ledger.mint("WBTC", vault, 1_000 * 10**8)
        self.total = 50_000_000 * USD + cfg["fund"] * USD
        self.now = T0

    def add(self, i: int, market: str, long: bool, notional: int, lev10: int, isolated: bool) -> None:
        asset, _ = MARKETS[market]
        price = self.px[market]
        size = notional * 10 ** DEC[asset] * E8 // price
        if size == 0:
            return
        size = size if long else -size
        # the initial requirement, plus the base unit a short's value rounds against it
        need = margin_requirement_ceil(size, price, 50_000, 10 ** DEC[asset], USD) + 1
        margin = max(need, notional * USD * 10 // lev10)
        name = f"t{i}"
        self.ledger.mint("USDC", name, margin)
        self.ex.deposit(name, margin, market if isolated else None)
        self.ex.open_position(name, market, size, isolated=isolated)
        self.total += margin

    def value(self) -> int:
        """Σ collateral + Σ PnL + fund + dust, PnL at one common price for all: since Σ size
        is 0 in every market, Σ PnL = -Σ entry whatever the price."""
        ex = self.ex
        books = 0
        for k in ex.accounts():
            books += ex.collateral(k) - sum(entry for _, entry in ex.positions(k).values())
        return books + ex.fund_balance() + ex.dust

    def check(self) -> None:
        assert self.ex.invariant_errors() == []
        assert self.ledger.conservation_errors() == []
        assert self.value() == self.total
        # with each position's value rounded down on its own, Σ equity is at most one base
        # unit per position below that
        positions = sum(len(self.ex.positions(k)) for k in self.ex.accounts())
        assert self.total - positions <= sum(self.ex.equity(k) for k in self.ex.accounts()) \
            + self.ex.fund_balance() + self.ex.dust <= self.total

    def traders(self) -> list[str]:
        return [k for k in self.ex.accounts() if k != self.ex.vault_key]

    def deficit(self) -> int:
        return sum(max(0, -self.ex.equity(k)) for k in self.traders())


def liquidate_checked(w: Exchange, key: str) -> bool:
    """Liquidate ``key`` once and check the per-liquidation properties; True if it acted."""
    ex = w.ex
    pre = {k: (ex.equity(k), ex.positions(k), {m: ex.unrealized_pnl(k, m) for m in MARKETS}) for k in ex.accounts()}
    liquidatable = ex.is_liquidatable(key)
    fund, deficit = ex.fund_balance(), w.deficit()
    before = ex.snapshot(w.now)
    out = ex.liquidate(1, w.now, "engine", key)
    if not isinstance(out, LiquidationOutcome):
        assert ex.snapshot(w.now) == before        # a refusal changes nothing
        return False
    # no liquidation above maintenance, judged independently of the outcome's own figures
    assert liquidatable and out.equity_before == pre[key][0] < out.maintenance_before
    # every loss lands in exactly one place; the fund moves by fee - drawn
    assert out.bad_debt == out.fund_drawn + out.adl_haircut + out.socialized + out.unbacked
    assert out.fund_drawn <= fund
    assert ex.fund_balance() == fund - out.fund_drawn + out.protocol_fee
    # ADL closes only opposite-side, profitable positions of accounts with positive equity
    for f in (r for r in out.records if isinstance(r, DeleveragingFill)):
        liq_size = pre[key][1][f.market][0]
        cp_equity, cp_positions, cp_pnl = pre[f.account]
        assert cp_positions[f.market][0] * liq_size < 0
        assert cp_pnl[f.market] > 0 and cp_equity > 0
        assert 0 <= f.haircut <= cp_pnl[f.market]
        assert f.size * cp_positions[f.market][0] > 0 and abs(f.size) <= abs(cp_positions[f.market][0])
    # nobody else is pushed under water; the total deficit of traders never grows
    for k in w.traders():
        if k != key and pre[k][0] >= 0:
            assert ex.equity(k) >= 0, (k, pre[k][0], ex.equity(k))
    assert w.deficit() <= deficit
    if out.full:
        assert ex.collateral(key) == -out.unbacked if out.unbacked else ex.collateral(key) >= 0
    w.check()
    return True


def run(w: Exchange, path: list[tuple[int, int, int, Any]]) -> int:
    liquidations = 0
    for step, (eth, btc, dt, newcomer) in enumerate(path):
        w.now += dt
        for m, pct in (("ETH-PERP", eth), ("BTC-PERP", btc)):
            w.px[m] = max(E8, w.px[m] * (100 + pct) // 100)
        w.ex.on_settlement(1, w.now)
        w.check()
        if newcomer is not None:   # opened at today's price: its counterparties' PnL differs
            w.add(1_000 + step, *newcomer)
            w.check()
        for _ in range(60):
            candidates = w.ex.perp_liquidation_candidates(w.now)
            for k in w.traders():   # the screen never misses a liquidatable account
                if w.ex.is_liquidatable(k):
                    assert k in candidates
            acted = [k for k in candidates if liquidate_checked(w, k)]
            liquidations += len(acted)
            if not acted:
                break
        for k in w.traders():       # every healthy account is refused
            if not w.ex.is_liquidatable(k):
                assert not liquidate_checked(w, k)
    return liquidations


@SETTINGS
@given(cfg=config, book=traders, path=moves)
def test_exchange_invariants_hold_under_random_paths(cfg: dict[str, Any], book: list, path: list) -> None:
    w = Exchange(cfg)
    for i, t in enumerate(book):
        w.add(i, *t)
    w.check()
    run(w, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=traders, crash=st.integers(-45, -15))
def test_a_crash_with_no_fund_resolves_every_deficit_exactly(book: list, crash: int) -> None:
    """No fund and a thin pool: every deficit must go to ADL or socialisation; after the
    engine has run, no liquidated account is left under water unless recorded unbacked."""
    w = Exchange({"depth": 20, "fund": 0, "staged": False, "venue": True, "fee": 15_000})
    for i, t in enumerate(book):
        w.add(i, *t)
    run(w, [(crash, crash, 12, None), (0, 0, 12, None)])
    assert w.deficit() == 0
    assert all(not w.ex.is_liquidatable(k) for k in w.traders())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    longs=st.lists(st.tuples(st.integers(5_000, 300_000), st.integers(30, 200)), min_size=1, max_size=6),
    drop=st.integers(-30, -6), then=st.integers(-10, 3), fund=st.sampled_from([0, 2_000]),
)
def test_late_shorts_leave_losses_to_socialise(longs: list, drop: int, then: int, fund: int) -> None:
    """Longs open at 3,000; the price gaps down and, before the engine runs, shorts open at
    the new price for exactly the longs' size (the vault, short since the start, is flat).
    Deficits of the longs then meet counterparties with little or no profit: ADL is capped,
    the rest goes to the vault at the mark and the loss is socialised, each unit once."""
    w = Exchange({"depth": 20, "fund": fund, "staged": False, "venue": True, "fee": 15_000})
    for i, (notional, lev) in enumerate(longs):
        w.add(i, "ETH-PERP", True, notional, lev, i % 2 == 0)
    w.px["ETH-PERP"] = w.px["ETH-PERP"] * (100 + drop) // 100
    size = w.ex.open_interest("ETH-PERP")[0]
    margin = w.ex.notional(w.ex.vault_key)  # 1x: never liquidated
    w.ledger.mint("USDC", "late", margin)
    w.ex.deposit("late", margin)
    w.ex.open_position("late", "ETH-PERP", -size)
    w.total += margin
    assert w.ex.positions(w.ex.vault_key) == {}
    w.check()
    run(w, [(0, 0, 12, None), (then, 0, 12, None), (0, 0, 12, None)])
    assert w.deficit() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book=st.lists(st.tuples(st.integers(60_000, 400_000), st.integers(40, 200), st.booleans()),
                     min_size=1, max_size=6),
       steps=st.lists(st.tuples(st.integers(-4, 2), st.integers(12, 40)), min_size=3, max_size=25))
def test_staged_steps_keep_every_invariant(book: list, steps: list) -> None:
    """Large positions in a deep pool, a slow grind down: 20 % steps with cooldowns."""
    w = Exchange({"depth": 2_000, "fund": 5_000, "staged": True, "venue": True, "fee": 15_000})
    for i, (notional, lev, isolated) in enumerate(book):
        w.add(i, "ETH-PERP", True, notional, lev, isolated)
    w.add(99, "ETH-PERP", False, 200_000, 20, False)
    run(w, [(pct, 0, dt, None) for pct, dt in steps])
