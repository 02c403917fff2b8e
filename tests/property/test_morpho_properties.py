"""Hypothesis invariants of the Morpho Blue model under random action sequences.

After every action, successful or reverted: the contract's ledger balance matches its books
(``Σ (totalSupplyAssets - totalBorrowAssets) + Σ collateral + surplus`` per token), position
shares sum to the totals, nothing is negative, and the ledger conserves every token. A
reverted action changes nothing. Liquidations through the liquidator-facing interface never
repay more than asked, quote exactly what they do, and take bad debt from suppliers only when
the borrower's collateral is gone; the float screen never misses an unhealthy position.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.morpho_blue import (
    MAX_AMOUNT,
    ChainlinkPairOracle,
    FixedRateIrm,
    LinearUtilizationIrm,
    LiquidationOutcome,
    LiquidationQuote,
    MarketParams,
    MorphoBlue,
    MorphoError,
    liquidation_incentive_factor,
    position_key,
)
from defisim.engine.protocols.morpho_blue.mathlib import (
    mul_div_down,
    mul_div_up,
    w_div_up,
    w_mul_down,
)
from defisim.engine.protocols.morpho_blue.sharesmath import to_assets_down, to_shares_up

DEC = {"WETH": 18, "WBTC": 8, "USDC": 6}
T0 = 1_700_000_000
USERS = ["u0", "u1", "u2", "u3"]
MARKETS = ["weth-usdc", "wbtc-usdc"]
COLLATERAL = {"weth-usdc": "WETH", "wbtc-usdc": "WBTC"}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class World:
    def __init__(self) -> None:
        self.usd = {"WETH": 3000 * 10**8, "WBTC": 60_000 * 10**8, "USDC": 10**8}
        self.ledger = Ledger(DEC)
        self.morpho = MorphoBlue("morpho", self.ledger, lambda a: self.usd[a], fee_recipient="fees")
        self.now = T0
        for irm in (LinearUtilizationIrm(), FixedRateIrm(3 * 10**16 // (365 * 86400))):
            self.morpho.enable_irm(irm)
        self.morpho.enable_lltv(86 * 10**16)
        self.morpho.enable_lltv(915 * 10**15)
        self.morpho.create_market(T0, MarketParams(
            "weth-usdc", "USDC", "WETH",
            ChainlinkPairOracle(lambda: self.usd["WETH"], lambda: self.usd["USDC"], 18, 6),
            LinearUtilizationIrm(), 86 * 10**16))
        self.morpho.create_market(T0, MarketParams(
            "wbtc-usdc", "USDC", "WBTC",
            ChainlinkPairOracle(lambda: self.usd["WBTC"], lambda: self.usd["USDC"], 8, 6),
            FixedRateIrm(3 * 10**16 // (365 * 86400)), 915 * 10**15))
        self.morpho.set_fee(T0, "weth-usdc", 5 * 10**16)
        for m in MARKETS:
            self.ledger.mint("USDC", "lp", 10**13)
            self.morpho.supply(T0, "lp", m, 10**13, 0)

    def balances(self) -> dict[str, dict[str, int]]:
        return {t: self.ledger.holders(t) for t in DEC}

    def check(self) -> None:
        assert self.morpho.invariant_errors() == []
        assert self.ledger.conservation_errors() == []


def scale(market: str, raw: int, what: str) -> int:
    """Map a raw draw in [0, 10**6] onto a sensible amount for the field."""
    if what == "collateral":
        return raw * (10**14 if market == "weth-usdc" else 10**4)  # up to 100 WETH / 1 BTC... x10
    if what == "shares":
        return raw * 10**9
    return raw * 10**4  # loan units: up to 10,000 USDC


action = st.tuples(
    st.sampled_from([
        "supply", "supply_shares", "withdraw", "withdraw_shares", "borrow", "borrow_shares",
        "repay", "repay_shares", "collateral", "withdraw_collateral", "liquidate_call",
        "liquidate_seized", "liquidate_shares", "accrue", "price",
    ]),
    st.sampled_from(USERS),
    st.sampled_from(MARKETS),
    st.integers(0, 10**6),
    st.integers(0, 3 * 86400),
    st.booleans(),
)


def run(w: World, kind: str, user: str, market: str, raw: int, dt: int, fund: bool) -> Any:
    m = w.morpho
    w.now += dt
    now = w.now
    if kind == "price":
        asset = COLLATERAL[market]
        w.usd[asset] = w.usd[asset] * (60 + raw % 60) // 100  # x0.6 .. x1.19
        return None
    if kind == "accrue":
        return m.accrue_interest(now, market)
    if kind in ("supply", "supply_shares", "repay", "repay_shares") and fund:
        w.ledger.mint("USDC", user, 2 * scale(market, raw, "assets") + 10)
    if kind == "supply":
        return m.supply(now, user, market, scale(market, raw, "assets"), 0)
    if kind == "supply_shares":
        return m.supply(now, user, market, 0, scale(market, raw, "shares"))
    if kind == "withdraw":
        return m.withdraw(now, user, market, scale(market, raw, "assets"), 0)
    if kind == "withdraw_shares":
        return m.withdraw(now, user, market, 0, m.position(market, user).supply_shares * (raw % 101) // 100)
    if kind == "borrow":
        return m.borrow(now, user, market, scale(market, raw, "assets"), 0)
    if kind == "borrow_shares":
        return m.borrow(now, user, market, 0, scale(market, raw, "shares"))
    if kind == "repay":
        return m.repay(now, user, market, scale(market, raw, "assets"), 0)
    if kind == "repay_shares":
        return m.repay(now, user, market, 0, m.position(market, user).borrow_shares * (raw % 101) // 100)
    if kind == "collateral":
        amount = scale(market, raw, "collateral")
        if fund:
            w.ledger.mint(COLLATERAL[market], user, amount)
        return m.supply_collateral(now, user, market, amount)
    if kind == "withdraw_collateral":
        return m.withdraw_collateral(now, user, market, m.position(market, user).collateral * (raw % 101) // 100)
    victim = USERS[(USERS.index(user) + 1) % len(USERS)]
    w.ledger.mint("USDC", "liq", 10**13)
    if kind == "liquidate_seized":
        return m.liquidate(now, "liq", market, victim, m.position(market, victim).collateral * (raw % 101) // 100, 0)
    if kind == "liquidate_shares":
        return m.liquidate(now, "liq", market, victim, 0, m.position(market, victim).borrow_shares * (raw % 101) // 100)
    return liquidate_call(w, market, victim, MAX_AMOUNT if raw % 3 == 0 else scale(market, raw, "assets"))


def liquidate_call(w: World, market: str, victim: str, cover: int) -> Any:
    m, now = w.morpho, w.now
    key = position_key(market, victim)
    quote = m.quote_liquidation(now, COLLATERAL[market], "USDC", key, cover)
    before = m.accrued_market(now, market)  # the state liquidate starts from
    collateral_before = m.position(market, victim).collateral
    out = m.liquidation_call(now, "liq", COLLATERAL[market], "USDC", key, cover)
    if not isinstance(out, LiquidationOutcome):
        assert not isinstance(quote, LiquidationQuote) and quote.reason == out.reason
        return None
    assert isinstance(quote, LiquidationQuote)
    assert (quote.debt_repaid, quote.collateral_seized) == (out.debt_repaid, out.collateral_seized)
    assert out.debt_repaid <= cover
    assert out.health_before < 10**18  # only unhealthy positions are liquidated
    assert out.collateral_seized <= collateral_before
    after = m.market(market)
    # suppliers lose exactly the bad debt (their shares stay), and only when the collateral is gone
    assert after.total_supply_assets == before.total_supply_assets - out.bad_debt_assets
    assert after.total_supply_shares == before.total_supply_shares
    assert after.total_borrow_assets == max(0, before.total_borrow_assets - out.debt_repaid) - out.bad_debt_assets
    assert after.total_borrow_shares == before.total_borrow_shares - out.repaid_shares - out.bad_debt_shares
    if out.bad_debt_shares:
        assert m.position(market, victim).collateral == 0
    assert m.position(market, victim).collateral == collateral_before - out.collateral_seized
    return out


@SETTINGS
@given(st.lists(action, min_size=1, max_size=40), st.integers(70, 100), st.integers(70, 100))
def test_random_actions_keep_the_books_and_revert_cleanly(
    actions: list[tuple[Any, ...]], eth_pct: int, btc_pct: int
) -> None:
    w = World()
    # borrowers near their limit (WETH: 2,450 of 2,580 USDC per WETH; WBTC: 5,200 of 5,490 per
    # 0.1 WBTC), so that price moves make them liquidatable and sometimes insolvent
    for i, user in enumerate(USERS[:3]):
        w.ledger.mint("WETH", user, (1 + i) * 10**18)
        w.morpho.open_position(T0, "weth-usdc", user, (1 + i) * 10**18, (1 + i) * 2_450 * 10**6)
        w.ledger.mint("WBTC", user, (1 + i) * 10**7)
        w.morpho.open_position(T0, "wbtc-usdc", user, (1 + i) * 10**7, (1 + i) * 5_200 * 10**6)
    w.check()
    w.usd["WETH"] = w.usd["WETH"] * eth_pct // 100
    w.usd["WBTC"] = w.usd["WBTC"] * btc_pct // 100
    for kind, user, market, raw, dt, fund in actions:
        snap = w.morpho.snapshot(0)
        balances = w.balances()
        now_before = w.now
        try:
            run(w, kind, user, market, raw, dt, fund)
        except MorphoError:
            assert w.morpho.snapshot(0) == snap, f"{kind} reverted but changed the state"
            # minting before the call is the test's doing; the contract's own balance did not move
            for token in DEC:
                assert w.ledger.balance_of(token, "morpho") == balances[token].get("morpho", 0)
        assert w.now >= now_before
        w.check()


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 99)), min_size=1, max_size=8),
    st.integers(40, 130),
    st.integers(0, 400 * 86400),
)
def test_screen_never_misses_an_unhealthy_position(
    positions: list[tuple[int, int]], price_pct: int, dt: int
) -> None:
    w = World()
    for i, (raw, use) in enumerate(positions):
        user = f"b{i}"
        coll = raw * 10**13  # up to 10 WETH
        w.ledger.mint("WETH", user, coll)
        max_borrow = coll * 3000 * 10**6 // 10**18 * 86 // 100
        try:
            w.morpho.open_position(T0, "weth-usdc", user, coll, max_borrow * use // 100)
        except MorphoError:
            continue
    w.usd["WETH"] = 3000 * 10**8 * price_pct // 100
    now = T0 + dt
    cands = set(w.morpho.liquidation_candidates(now))
    for i in range(len(positions)):
        user = f"b{i}"
        if w.morpho.position("weth-usdc", user).borrow_shares and not w.morpho.is_healthy(now, "weth-usdc", user):
            assert position_key("weth-usdc", user) in cands
            hf = w.morpho.health_factor(now, "weth-usdc", user)
            assert hf < 10**18


@SETTINGS
@given(st.integers(10**15, 10**20), st.integers(1, 99), st.integers(10**8, 10**12), st.integers(10**8, 10**12))
def test_health_factor_monotone_in_price(coll: int, use: int, p1: int, p2: int) -> None:
    w = World()
    w.ledger.mint("WETH", "u", coll)
    max_borrow = coll * 3000 * 10**6 // 10**18 * 86 // 100
    debt = max(1, max_borrow * use // 100)
    w.morpho.open_position(T0, "weth-usdc", "u", coll, debt)
    lo, hi = sorted((p1, p2))
    w.usd["WETH"] = lo
    h_lo = w.morpho.health_factor(T0, "weth-usdc", "u")
    # health < 1 exactly when the contract would allow a liquidation
    assert (h_lo < 10**18) == (not w.morpho.is_healthy(T0, "weth-usdc", "u"))
    w.usd["WETH"] = hi
    h_hi = w.morpho.health_factor(T0, "weth-usdc", "u")
    assert h_lo <= h_hi


@SETTINGS
@given(st.integers(10**15, 10**20), st.integers(80, 99), st.integers(20, 99), st.integers(1, 10**12),
       st.integers(0, 2 * 365 * 86400))
def test_liquidation_args_never_revert(coll: int, use: int, drop: int, cover: int, dt: int) -> None:
    """Whatever debt_to_cover, the chosen (seizedAssets, repaidShares) are accepted by
    ``liquidate`` for an unhealthy position (no underflow), and repay at most what was asked."""
    w = World()
    w.ledger.mint("WETH", "u", coll)
    max_borrow = coll * 3000 * 10**6 // 10**18 * 86 // 100
    w.morpho.open_position(T0, "weth-usdc", "u", coll, max(1, max_borrow * use // 100))
    w.usd["WETH"] = 3000 * 10**8 * drop // 100
    now = T0 + dt
    if w.morpho.is_healthy(now, "weth-usdc", "u"):
        return
    w.ledger.mint("USDC", "liq", 10**15)
    for amount in (cover, MAX_AMOUNT):
        out = w.morpho.liquidation_call(now, "liq", "WETH", "USDC", position_key("weth-usdc", "u"), amount)
        if not isinstance(out, LiquidationOutcome):
            assert out.reason == "position is healthy"  # the first call may have cured it
            continue
        assert out.debt_repaid <= amount
        assert (out.arg_seized_assets == 0) != (out.arg_repaid_shares == 0)
        w.check()


@SETTINGS
@given(
    st.integers(0, 2**100), st.integers(100, 1000), st.integers(1, 2**120), st.integers(1, 2**100),
    st.integers(1, 10**45), st.sampled_from([0, 385, 770, 860, 915, 980]),
)
def test_seizing_all_collateral_never_burns_more_shares_than_asked(
    tba: int, per_mille: int, s: int, c: int, price: int, lltv_milli: int
) -> None:
    """If repaying ``s`` shares would seize more than ``c``, the shares ``liquidate`` burns
    for seizing exactly ``c`` are at most ``s`` (the argument in ``liquidation_args``).

    Totals as markets have them: ``tbs`` shares for ``tba`` assets at a share price between
    1e-6 (a new market) and 1e-5 (ten times that after interest)."""
    tbs = tba * 10**6 * per_mille // 1000
    lif = liquidation_incentive_factor(lltv_milli * 10**15)
    seized = mul_div_down(w_mul_down(to_assets_down(s, tba, tbs), lif), 10**36, price)
    if seized > c:
        assert to_shares_up(w_div_up(mul_div_up(c, price, 10**36), lif), tba, tbs) <= s
