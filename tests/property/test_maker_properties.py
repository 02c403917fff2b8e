"""Hypothesis invariants of the Maker model (Liquidations 2.0 and 1.2) under random actions.

After every action, successful or refused: the Vat's fundamental equation
``debt == vice + Σ rate·Art`` (with ``debt == Σ dai`` and ``vice == Σ sin``), collateral
conservation (GemJoin tokens == Σ ink + Σ gem), the auction books (``dirt``/``Dirt``/``litter``
equal the tabs on auction, auction houses hold exactly their lots), DAI backing
(``vat.dai(daiJoin) == RAY * DAI supply``) and the ledger's conservation of every token.
A refused action changes nothing. Every auction sells or returns exactly the collateral it
started with and never raises more than its tab; a Clipper sale left running keeps at least
``chost`` to raise; the float screen never misses an unsafe vault; price curves never rise.

The Vow's auctions under random ``tend``/``dent``/``deal``/``tick``/``settle`` and shocks to
surplus and debt: MKR supply == genesis + minted by flop deals - burned by flap deals; the
Vat's total dai only moves by what the Vow heals and kisses (and the shocks), and every rad
of it is held by someone; the Flapper holds exactly the MKR bid and the DAI on auction
(``fill``); ``Ash`` is the unbid flop auctions' DAI; flap bids rise and flop lots fall by
``beg``; refusals change nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.engine.ledger import Ledger
from defisim.engine.protocols.maker import (
    AuctionStart,
    CalcConfig,
    ExponentialDecrease,
    FlapConfig,
    FlopConfig,
    IlkConfig,
    LinearDecrease,
    MakerSystem,
    Refusal,
    StairstepExponentialDecrease,
    StaticFeed,
    VowConfig,
    annual_to_duty,
)
from defisim.engine.protocols.maker.records import (
    AuctionSettled,
    AuctionStarted,
    AuctionTaken,
    DebtAuctioned,
    DebtBidPlaced,
    DebtHealed,
    SurplusAuctioned,
    SurplusBidPlaced,
    TokensMinted,
)
from defisim.engine.records import TokensBurned

T0 = 1_700_000_000
WAD, RAY, RAD = 10**18, 10**27, 10**45
ILK = "ETH-A"
USERS = ["u0", "u1", "u2", "u3", "u4"]
KEEPERS = ["k0", "k1"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class World:
    def __init__(self, mode: str, hole: int, dunk: int) -> None:
        self.now = T0
        self.block = 0
        self.ledger = Ledger({"WETH": 18, "DAI": 18, "MKR": 18})
        self.feed = StaticFeed(2_000 * 10**8)
        self.mk = MakerSystem(
            "mk", self.ledger, liquidations=mode,  # type: ignore[arg-type]
            vow=VowConfig(hump=1_000 * RAD, bump=500 * RAD, sump=2_000 * RAD, dump=50 * WAD, wait=600),
            Hole=hole * RAD, box=hole * RAD,
        )
        self.mk.add_ilk(T0, ILK, "WETH", self.feed, IlkConfig(
            mat=15 * RAY // 10, chop=113 * WAD // 100, line=10**8 * RAD, dust=500 * RAD,
            duty=annual_to_duty(0.08), hole=hole * RAD, buf=12 * RAY // 10, tail=3_600,
            cusp=5 * RAY // 10, chip=WAD // 1000, tip=50 * RAD,
            calc=CalcConfig("stairstep-exponential", step=90, cut=98 * RAY // 100),
            beg=103 * WAD // 100, ttl=600, tau=7_200, dunk=dunk * RAD,
        ))
        for k in KEEPERS:
            self.ledger.mint("DAI", k, 5_000_000 * WAD)
        self.mk.back_external_dai()

    def check(self) -> None:
        assert self.mk.invariant_errors() == []
        assert self.ledger.conservation_errors() == []
        vat = self.mk.vat
        i = vat.ilks[ILK]
        assert vat.debt == vat.vice + i.Art * i.rate            # the fundamental equation
        unsafe = {u for u in vat.urns[ILK] if self.mk.is_unsafe(ILK, u)}
        assert unsafe <= set(dict.fromkeys(u for _, u in self.mk.unsafe_candidates(self.now)))

    def state(self) -> Any:
        return self.mk.snapshot(self.now), tuple(
            tuple(sorted(self.ledger.holders(t).items())) for t in ("WETH", "DAI", "MKR"))

    def expect_unchanged_if_refused(self, out: Any, before: Any) -> None:
        if isinstance(out, Refusal):
            assert self.state() == before, out


ACTION = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(USERS), st.integers(1, 40), st.floats(0.3, 0.99)),
    st.tuples(st.just("price"), st.floats(0.4, 1.3)),
    st.tuples(st.just("time"), st.integers(1, 4_000)),
    st.tuples(st.just("time"), st.sampled_from([90, 601, 7_201])),   # a step, ttl, tau
    st.tuples(st.just("liquidate"), st.sampled_from(USERS), st.sampled_from(KEEPERS)),
    st.tuples(st.just("liquidate"), st.sampled_from(USERS), st.sampled_from(KEEPERS)),
    st.tuples(st.just("bid"), st.sampled_from(KEEPERS), st.floats(0.0, 1.2), st.integers(0, 3)),
    st.tuples(st.just("bid"), st.sampled_from(KEEPERS), st.floats(0.0, 1.2), st.integers(0, 3)),
    st.tuples(st.just("bid"), st.sampled_from(KEEPERS), st.floats(0.0, 1.2), st.integers(0, 3)),
    st.tuples(st.just("settle"),),
)


def step(w: World, action: tuple[Any, ...]) -> None:
    mk, kind = w.mk, action[0]
    w.block += 1
    if kind == "open":
        _, user, ink, use = action
        price = w.feed.latest_answer()
        debt = int(ink * price * 10**10 * 2 // 3 * use)
        w.ledger.mint("WETH", user, ink * WAD)
        before = w.state()
        try:
            mk.open_vault(w.now, ILK, user, ink * WAD, debt)
        except ValueError:
            assert w.state() == before  # the refused vault joined nothing, drew nothing
    elif kind == "price":
        w.feed.set(max(1, int(w.feed.latest_answer() * action[1])))
        mk.poke_if_new(ILK)
    elif kind == "time":
        w.now += action[1]
        mk.jug.drip(ILK, w.now)
    elif kind == "liquidate":
        before = w.state()
        w.expect_unchanged_if_refused(mk.liquidate(w.block, w.now, ILK, action[1], action[2]), before)
    elif kind == "bid":
        _, keeper, x, pick = action
        before = w.state()
        if mk.clips:
            views = mk.clip_auctions(w.now)
            if not views:
                return
            v = views[pick % len(views)]
            out = (mk.redo(w.block, w.now, keeper, ILK, v.auction_id) if v.needs_redo else
                   mk.take(w.block, w.now, keeper, ILK, v.auction_id, int(v.lot * x), v.price))
        else:
            flips = mk.flip_auctions(w.now)
            if not flips:
                return
            f = flips[pick % len(flips)]
            if f.dealable:
                out = mk.deal(w.block, w.now, keeper, ILK, f.auction_id)
            elif f.needs_tick:
                out = mk.tick(w.block, w.now, keeper, ILK, f.auction_id)
            elif f.phase == "tend":
                out = mk.tend(w.block, w.now, keeper, ILK, f.auction_id, f.lot,
                              min(f.tab, max(f.min_bid, int(f.tab * x))))
            else:
                out = mk.dent(w.block, w.now, keeper, ILK, f.auction_id, max(1, int(f.max_lot * x)), f.tab)
        w.expect_unchanged_if_refused(out, before)
    else:
        mk.settle(w.block, w.now)


def check_auction_books(w: World) -> None:
    records = w.mk.records
    started = {r.auction_id: r for r in records if isinstance(r, AuctionStarted)}
    for r in records:
        if isinstance(r, AuctionSettled):
            s = started[r.auction_id]
            assert r.sold_wad + r.returned_wad == s.ink_wad            # collateral conserved
            assert r.raised_rad <= s.tab_rad                            # never more than the tab
            assert r.bad_debt_rad == max(0, s.due_rad - r.raised_rad)
        if isinstance(r, AuctionTaken) and r.lot_left_wad and r.tab_left_rad:
            assert r.tab_left_rad >= w.mk.clips[ILK].chost              # no dusty leftover


@SETTINGS
@given(mode=st.sampled_from(["2.0", "1.2"]), hole=st.sampled_from([20_000, 10**7]),
       dunk=st.sampled_from([5_000, 10**7]),
       vaults=st.lists(st.tuples(st.integers(1, 40), st.floats(0.6, 0.99)), min_size=1, max_size=5),
       crash=st.floats(0.3, 1.0), actions=st.lists(ACTION, min_size=1, max_size=40))
def test_books_balance_after_every_action(mode: str, hole: int, dunk: int, vaults: list[Any], crash: float,
                                          actions: list[Any]) -> None:
    w = World(mode, hole, dunk)
    w.check()
    for n, (ink, use) in enumerate(vaults):   # a few vaults, then a price move, then anything
        step(w, ("open", USERS[n], ink, use))
    step(w, ("price", crash))
    w.check()
    for action in actions:
        step(w, action)
        w.check()
    check_auction_books(w)


@SETTINGS
@given(users=st.lists(st.tuples(st.integers(1, 30), st.floats(0.5, 0.99)), min_size=1, max_size=5),
       crash=st.floats(0.2, 0.95), waits=st.lists(st.integers(0, 2_000), min_size=1, max_size=8))
def test_bark_then_takes_conserve_collateral_and_dai(users: list[Any], crash: float, waits: list[int]) -> None:
    """Liquidate every unsafe vault and buy everything at whatever price the auction reaches:
    WETH and DAI in existence do not change, and every tab is paid or the shortfall booked."""
    w = World("2.0", 10**7, 10**7)
    for n, (ink, use) in enumerate(users):
        step(w, ("open", USERS[n], ink, use))
    weth, dai = w.ledger.supply("WETH"), w.ledger.supply("DAI")
    step(w, ("price", crash))
    for u in USERS:
        step(w, ("liquidate", u, "k0"))
    for wait in waits:
        w.now += wait
        for v in w.mk.clip_auctions(w.now):
            if v.needs_redo:
                w.mk.redo(w.block, w.now, "k1", ILK, v.auction_id)
            else:
                w.mk.take(w.block, w.now, "k1", ILK, v.auction_id, v.lot, v.price)
        w.check()
    assert w.ledger.supply("WETH") == weth
    # circulating DAI only shrinks: takes join the keeper's DAI and pay it to the Vow (rewards
    # stay in the Vat as the keepers' dai)
    assert w.ledger.supply("DAI") <= dai
    check_auction_books(w)


@settings(max_examples=200, deadline=None)
@given(top=st.integers(1, 10**36), a=st.integers(0, 50_000), b=st.integers(0, 50_000),
       cut=st.integers(RAY // 2, RAY), step_s=st.integers(1, 600), tau=st.integers(1, 50_000))
def test_price_curves_never_rise(top: int, a: int, b: int, cut: int, step_s: int, tau: int) -> None:
    early, late = min(a, b), max(a, b)
    for calc in (LinearDecrease(tau), StairstepExponentialDecrease(step_s, cut), ExponentialDecrease(cut)):
        assert calc.price(top, late) <= calc.price(top, early) <= top


def test_a_started_auction_is_recorded() -> None:
    w = World("2.0", 10**7, 10**7)
    step(w, ("open", "u0", 10, 0.95))
    step(w, ("price", 0.5))
    out = w.mk.liquidate(1, w.now, ILK, "u0", "k0")
    assert isinstance(out, AuctionStart) and out.tab == out.due * 113 // 100


@SETTINGS
@given(users=st.lists(st.tuples(st.integers(1, 30), st.floats(0.5, 0.99)), min_size=1, max_size=5),
       crash=st.floats(0.2, 0.95), dunk=st.sampled_from([5_000, 10**7]),
       bids=st.lists(st.tuples(st.sampled_from(KEEPERS), st.floats(0.0, 1.2), st.integers(0, 7),
                               st.sampled_from([0, 30, 601, 7_201])), min_size=1, max_size=30))
def test_flip_auctions_conserve_collateral_and_raise_at_most_tab(
        users: list[Any], crash: float, dunk: int, bids: list[Any]) -> None:
    """Bite every unsafe vault, let keepers tend/dent/deal/tick at random times, then deal
    everything that can be dealt: the books balance after every step and every dealt auction
    sold or returned exactly its lot."""
    w = World("1.2", 10**7, dunk)
    for n, (ink, use) in enumerate(users):
        step(w, ("open", USERS[n], ink, use))
    step(w, ("price", crash))
    for _ in range(3):
        for u in USERS:
            step(w, ("liquidate", u, "k0"))
    for keeper, x, pick, wait in bids:
        w.now += wait
        step(w, ("bid", keeper, x, pick))
        w.check()
    w.now += 7_201
    for f in w.mk.flip_auctions(w.now):
        if f.dealable:
            assert not isinstance(w.mk.deal(w.block, w.now, f.guy, ILK, f.auction_id), Refusal)
        w.check()
    check_auction_books(w)


# --- the Vow's auctions ----------------------------------------------------------------------------

BIDDERS = ["k0", "k1", "k2"]


class VowWorld:
    """A Vow with surplus or debt, its Flapper (``lid`` 1,500 DAI) and Flopper, and three
    bidders holding 1,000 MKR and 100,000 DAI each (no vaults: only auctions move money)."""

    def __init__(self, surplus: int, debt: int) -> None:
        self.now = T0
        self.block = 0
        self.ledger = Ledger({"WETH": 18, "DAI": 18, "MKR": 18})
        self.mk = MakerSystem("mk", self.ledger, Hole=10**7 * RAD, vow=VowConfig(
            hump=1_000 * RAD, bump=500 * RAD, sump=2_000 * RAD, dump=50 * WAD, wait=0,
            flap=FlapConfig(beg=105 * WAD // 100, ttl=600, tau=3_600, lid=1_500 * RAD),
            flop=FlopConfig(beg=103 * WAD // 100, pad=150 * WAD // 100, ttl=600, tau=3_600)))
        for k in BIDDERS:
            self.ledger.mint("MKR", k, 1_000 * WAD)
            self.ledger.mint("DAI", k, 100_000 * WAD)
        self.mk.back_external_dai()
        self.genesis_mkr = self.ledger.supply("MKR")
        self.shocks = 0
        self.shock("surplus", surplus)
        self.shock("debt", debt)
        self.debt0 = self.mk.vat.debt - self.shocks

    def shock(self, kind: str, dai: int) -> None:
        """New surplus (fees) or released bad debt of ``dai`` DAI."""
        vat, vow = self.mk.vat, self.mk.vow.address
        if kind == "surplus":
            vat.suck(self.mk.genesis, vow, dai * RAD)
        else:
            vat.suck(vow, "elsewhere", dai * RAD)
        self.shocks += dai * RAD

    def state(self) -> Any:
        return self.mk.snapshot(self.now), tuple(
            tuple(sorted(self.ledger.holders(t).items())) for t in ("DAI", "MKR"))

    def check(self) -> None:
        mk, ledger = self.mk, self.ledger
        assert mk.invariant_errors() == []
        assert ledger.conservation_errors() == []            # includes: no negative balance
        minted = sum(r.amount for r in mk.records if isinstance(r, TokensMinted))
        burned = sum(r.amount for r in mk.records if isinstance(r, TokensBurned))
        assert ledger.supply("MKR") == self.genesis_mkr + minted - burned
        healed = sum(r.rad for r in mk.records if isinstance(r, DebtHealed))
        kissed = sum(r.kissed_rad for r in mk.records if isinstance(r, DebtBidPlaced))
        assert mk.vat.debt == self.debt0 + self.shocks - healed - kissed
        # every rad of dai is held by someone: the Vow, the Flapper, bidders (Vat or ERC-20)
        held = sum(d for u, d in mk.vat.dai.items() if u != mk.dai_join.address)
        assert held + RAY * ledger.supply("DAI") == mk.vat.debt


_SETTLE = st.tuples(st.just("settle"))
_TIME = st.tuples(st.just("time"), st.sampled_from([1, 300, 599, 600, 601, 3_600, 3_601, 4_000]))
_FLAP = st.tuples(st.just("flap"), st.sampled_from(BIDDERS), st.floats(0.9, 3.0), st.integers(0, 3))
_FLOP = st.tuples(st.just("flop"), st.sampled_from(BIDDERS), st.floats(0.3, 1.1), st.integers(0, 3))
_DEAL = st.tuples(st.just("deal"), st.sampled_from(BIDDERS), st.integers(0, 7))
_TICK = st.tuples(st.just("tick"), st.sampled_from(BIDDERS), st.integers(0, 7))
_SHOCK = st.tuples(st.just("shock"), st.sampled_from(["surplus", "debt"]), st.integers(1, 6_000))
VOW_ACTION = st.one_of(_SETTLE, _SETTLE, _TIME, _TIME, _FLAP, _FLAP, _FLAP, _FLOP, _FLOP, _FLOP,
                       _DEAL, _DEAL, _TICK, _SHOCK)


def vow_step(w: VowWorld, action: tuple[Any, ...]) -> None:
    mk, kind = w.mk, action[0]
    w.block += 1
    before = w.state()
    out: Refusal | object | None = None
    if kind == "settle":
        mk.settle(w.block, w.now)
    elif kind == "time":
        w.now += action[1]
    elif kind == "shock":
        w.shock(action[1], action[2])
    elif kind in ("flap", "flop"):
        _, who, x, pick = action
        views = [v for v in mk.vow_auctions(w.now) if v.house == kind]
        if not views:
            return
        v = views[pick % len(views)]
        if kind == "flap":   # x < 1.05 of the current bid is too small (or not higher) on purpose
            out = mk.flap_tend(w.block, w.now, who, v.auction_id, v.lot, max(1, int(v.bid * x)) if v.bid else
                               int(x * WAD))
        else:                # x > 1 / 1.03 of the current lot is too large on purpose
            out = mk.flop_dent(w.block, w.now, who, v.auction_id, int(v.lot * x), v.bid)
    else:
        _, who, pick = action
        views = mk.vow_auctions(w.now)
        ready = [v for v in views if (v.dealable if kind == "deal" else v.needs_tick)]
        if pick < 4 and ready:   # mostly one that is ready, sometimes any (then often refused)
            views = ready
        if not views:
            return
        v = views[pick % len(views)]
        fn = {("deal", "flap"): mk.flap_deal, ("deal", "flop"): mk.flop_deal,
              ("tick", "flap"): mk.flap_tick, ("tick", "flop"): mk.flop_tick}[(kind, v.house)]
        out = fn(w.block, w.now, who, v.auction_id)
    if isinstance(out, Refusal):
        assert w.state() == before, out


def check_vow_auction_books(w: VowWorld) -> None:
    """Bids rose by beg, lots fell by beg, every deal paid the winner what it bid for."""
    last: dict[tuple[str, int], Any] = {}
    for r in w.mk.records:
        if isinstance(r, SurplusBidPlaced):
            prev = last.get(("flap", r.auction_id))
            if prev is not None:
                assert r.bid * WAD >= 105 * WAD // 100 * prev.bid and r.bid > prev.bid
                assert r.refund == (prev.bid if r.refunded != r.bidder else 0)
            last[("flap", r.auction_id)] = r
        elif isinstance(r, DebtBidPlaced):
            prev = last.get(("flop", r.auction_id))
            if prev is not None:
                assert 103 * WAD // 100 * r.lot <= prev.lot * WAD and r.kissed_rad == 0
            else:
                assert r.kissed_rad == r.bid_rad == 2_000 * RAD   # the first dent kisses sump
            last[("flop", r.auction_id)] = r
        elif isinstance(r, SurplusAuctioned):
            final = last.pop(("flap", r.auction_id))
            assert (r.winner, r.gov_burned, r.lot_rad) == (final.bidder, final.bid, 500 * RAD)
        elif isinstance(r, DebtAuctioned):
            final = last.pop(("flop", r.auction_id))
            assert (r.winner, r.gov_minted, r.bid_rad) == (final.bidder, final.lot, 2_000 * RAD)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surplus=st.sampled_from([0, 1_499, 1_500, 2_000, 5_000]), debt=st.sampled_from([0, 1_999, 2_000, 9_000]),
       actions=st.lists(VOW_ACTION, min_size=20, max_size=80))
def test_vow_auctions_conserve_mkr_and_dai(surplus: int, debt: int, actions: list[Any]) -> None:
    w = VowWorld(surplus, debt)
    w.check()
    vow_step(w, ("settle",))
    for action in actions:
        vow_step(w, action)
        w.check()
    # run out the clock: deal everything that can be dealt
    w.now += 3_601
    for v in w.mk.vow_auctions(w.now):
        if v.dealable:
            deal = w.mk.flap_deal if v.house == "flap" else w.mk.flop_deal
            assert not isinstance(deal(w.block, w.now, "k0", v.auction_id), Refusal)
        w.check()
    check_vow_auction_books(w)
