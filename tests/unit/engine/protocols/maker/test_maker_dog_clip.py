"""Liquidations 2.0: ``bark`` amounts (chop, hole/Hole, dust) and Clipper ``take``/``redo``.

Common setup: alice locks 10 WETH and draws 13,000 DAI at 2,000 USD (mat 1.5); the price falls
to 1,500, so spot = 1,500 / 1.5 = 1,000 and ink * spot = 10,000 < art * rate = 13,000.
rate stays RAY (no fee); chop 1.13; chip 0.1 %; tip 300 DAI; buf 1.2; stairstep 0.99 / 90 s.
"""

from __future__ import annotations

from maker_env import ILK, RAD, RAY, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.maker import AuctionStart, Refusal, TakeOutcome
from defisim.engine.records import BadDebtRealized

CLIP = "mk:clip:ETH-A"


def crashed(**params: object) -> MakerEnv:
    env = MakerEnv(**params)  # type: ignore[arg-type]
    env.vault("alice", 10, 13_000)
    env.price(1_500)
    return env


def bark(env: MakerEnv, urn: str = "alice") -> AuctionStart:
    out = env.mk.liquidate(1, env.now, ILK, urn, "kpr")
    assert isinstance(out, AuctionStart), out
    return out


# --- bark -------------------------------------------------------------------------------------

def test_bark_takes_the_whole_vault_with_the_penalty() -> None:
    env = crashed()
    out = bark(env)
    # dart = min(art, room * WAD / rate / chop) = art (room is huge); dink = ink
    assert (out.ink, out.art) == (10 * WAD, 13_000 * WAD)
    assert out.due == 13_000 * RAD                        # art * rate
    assert out.tab == 14_690 * RAD                        # due * 1.13
    # top = rmul(feed 1,500e27, buf 1.2e27) = 1,800e27
    assert out.top == 1_800 * RAY
    # coin = tip + wmul(tab, chip) = 300 + 14,690 * 0.001 = 314.69 DAI
    assert out.coin == 31_469 * RAD // 100
    assert env.vat.dai_of("kpr") == out.coin
    assert env.vat.urn(ILK, "alice").art == 0 and env.vat.urn(ILK, "alice").ink == 0
    vow = env.mk.vow.address
    assert env.vat.sin_of(vow) == 13_000 * RAD + out.coin  # grab + suck
    assert env.mk.vow.Sin == 13_000 * RAD                 # fess queues the due only
    assert env.mk.dog.Dirt == 14_690 * RAD == env.mk.dog.ilks[ILK].dirt
    assert env.vat.gem_of(ILK, CLIP) == 10 * WAD
    assert env.kinds() == ["AuctionStarted"]
    assert env.mk.invariant_errors() == []


def test_bark_refuses_a_safe_vault() -> None:
    env = MakerEnv()
    env.vault("alice", 10, 13_000)
    before = env.mk.snapshot(env.now)
    out = env.mk.liquidate(1, env.now, ILK, "alice", "kpr")
    assert out == Refusal("Dog/not-unsafe")
    assert env.mk.snapshot(env.now) == before


def test_hole_makes_a_partial_liquidation() -> None:
    env = crashed(hole=10_000 * RAD, dust=1_000 * RAD)
    out = bark(env)
    # dart = room * WAD / rate / chop = 10,000e45 * 1e18 // 1e27 // 1.13e18 = 1e40 // 1.13e18
    #      = 8,849.557522123893805309 wad (10**22 / 1.13 = 8849557522123893805309.73...)
    dart = 8_849_557_522_123_893_805_309
    assert out.art == dart
    # leftover (13,000 - 8,849.56) * rate = 4,150.44 DAI >= dust 1,000: a partial liquidation
    # dink = ink * dart // art = 10e18 * dart // 13,000e18 = 6,807,351,940,095,302,927
    #   (13,000 * 6,807,351,940,095,302,927 = 88,495,575,221,238,938,051,000; remainder 2,090)
    assert out.ink == 6_807_351_940_095_302_927
    # tab = dart * rate * chop / WAD = dart * 1.13e27; dart * 113 = 999,999,999,999,999,999,999,917
    assert out.tab == 999_999_999_999_999_999_999_917 * 10**25
    urn = env.vat.urn(ILK, "alice")
    assert (urn.ink, urn.art) == (10 * WAD - out.ink, 13_000 * WAD - dart)
    assert env.mk.invariant_errors() == []


def test_a_dusty_leftover_is_liquidated_whole() -> None:
    # same room as above, but the 4,150.44 DAI leftover is below dust 5,000: take everything
    env = crashed(hole=10_000 * RAD, dust=5_000 * RAD)
    out = bark(env)
    assert (out.art, out.ink, out.tab) == (13_000 * WAD, 10 * WAD, 14_690 * RAD)
    assert env.mk.dog.ilks[ILK].dirt == 14_690 * RAD  # above hole: the documented excess


def test_a_dusty_partial_auction_is_refused() -> None:
    # room 2,000 DAI: dart = 2e39 // 1.13e18 = 1,769.9 DAI < dust 5,000 while the leftover
    # 11,230 DAI is not dusty: "Dog/dusty-auction-from-partial-liquidation"
    env = crashed(hole=2_000 * RAD)
    assert env.mk.liquidate(1, env.now, ILK, "alice", "kpr") == Refusal(
        "Dog/dusty-auction-from-partial-liquidation")


def test_the_global_hole_stops_barks() -> None:
    env = MakerEnv(Hole=14_690 * RAD)
    env.vault("alice", 10, 13_000)
    env.vault("bob", 10, 13_000)
    env.price(1_500)
    bark(env, "alice")                               # Dirt = 14,690 = Hole
    assert env.mk.liquidate(2, env.now, ILK, "bob", "kpr") == Refusal("Dog/liquidation-limit-hit")


# --- take -------------------------------------------------------------------------------------

def started(dust: int = 5_000) -> MakerEnv:
    env = crashed(dust=dust * RAD)
    bark(env)
    env.fund("keeper", 100_000)
    return env


def take(env: MakerEnv, amt: int, max_price: int = 1_800 * RAY) -> TakeOutcome:
    out = env.mk.take(2, env.now, "keeper", ILK, 1, amt, max_price)
    assert isinstance(out, TakeOutcome), out
    return out


def test_a_partial_take_at_the_start_price() -> None:
    env = started()
    t = take(env, 3 * WAD)
    # price = top (0 s: rpow(cut, 0) = RAY); owe = 3e18 * 1,800e27 = 5,400 DAI; tab left 9,290
    # >= chost = wmul(dust 5,000, chop 1.13) = 5,650: plain partial purchase
    assert (t.price, t.owe, t.slice) == (1_800 * RAY, 5_400 * RAD, 3 * WAD)
    assert (t.tab_left, t.lot_left, t.ended) == (9_290 * RAD, 7 * WAD, False)
    assert t.collateral == 3 * WAD and env.ledger.balance_of("WETH", "keeper") == 3 * WAD
    assert t.dai_joined == 5_400 * WAD
    assert env.vat.dai_of(env.mk.vow.address) == 5_400 * RAD
    assert env.mk.dog.Dirt == 9_290 * RAD
    assert env.mk.invariant_errors() == []


def test_chost_caps_a_partial_take_and_then_forces_the_whole_lot() -> None:
    env = started()
    take(env, 3 * WAD)                                   # tab 9,290, lot 7
    t = take(env, 3 * WAD)
    # owe would be 5,400, leaving 3,890 < chost 5,650 (and tab 9,290 > chost): owe = tab - chost
    # = 3,640 DAI; slice = 3,640e45 // 1,800e27 = 2.0222... -> 2,022,222,222,222,222,222
    assert (t.owe, t.slice) == (3_640 * RAD, 2_022_222_222_222_222_222)
    assert (t.tab_left, t.lot_left) == (5_650 * RAD, 7 * WAD - 2_022_222_222_222_222_222)
    # now tab == chost: a partial purchase is refused...
    assert env.mk.take(3, env.now, "keeper", ILK, 1, WAD, 1_800 * RAY) == Refusal("Clipper/no-partial-purchase")
    # ...and asking for everything pays the tab: lot * price = 8,960.0000000000000004 DAI > 5,650,
    # so owe = tab = 5,650 and slice = 5,650e45 // 1,800e27 = 3,138,888,888,888,888,888
    t = take(env, 10 * WAD)
    assert (t.owe, t.slice, t.tab_left, t.ended) == (5_650 * RAD, 3_138_888_888_888_888_888, 0, True)
    # the rest of the lot goes back to alice's gem: 4,977,777,777,777,777,778 - 3,138,888,888,888,888,888
    assert env.vat.gem_of(ILK, "alice") == 1_838_888_888_888_888_890
    assert env.mk.dog.Dirt == 0 and env.mk.clips[ILK].active == []
    # raised 5,400 + 3,640 + 5,650 = 14,690 >= due 13,000: no bad debt
    assert not [r for r in env.mk.records if isinstance(r, BadDebtRealized)]
    assert env.mk.invariant_errors() == []


def test_one_take_of_everything_pays_exactly_the_tab() -> None:
    env = started()
    t = take(env, 10 * WAD)
    # owe = 10 * 1,800 = 18,000 > tab 14,690: owe = tab, slice = 14,690e45 // 1,800e27
    #     = 8.161111... -> 8,161,111,111,111,111,111; 1,838,888,888,888,888,889 back to alice
    assert (t.owe, t.slice) == (14_690 * RAD, 8_161_111_111_111_111_111)
    assert env.vat.gem_of(ILK, "alice") == 1_838_888_888_888_888_889


def test_price_falls_by_steps_and_take_respects_max() -> None:
    env = started()
    env.now += 180                                        # two steps: 1,800 * 0.9801 = 1,764.18
    view = env.mk.clip_auctions(env.now)[0]
    assert view.price == 176_418 * RAY // 100 and not view.needs_redo
    assert env.mk.take(2, env.now, "keeper", ILK, 1, WAD, 1_764 * RAY) == Refusal("Clipper/too-expensive")
    assert take(env, WAD, view.price).owe == 176_418 * RAD // 100


def test_an_auction_ending_short_of_due_books_bad_debt() -> None:
    env = started()
    env.now += 90 * 60                                     # 60 steps: 1,800 * 0.99**60 ~ 987
    t = take(env, 10 * WAD, RAY * 10**6)
    assert t.ended and t.lot_left == 0
    assert t.bad_debt == 13_000 * RAD - t.owe              # due - raised
    bad = [r for r in env.mk.records if isinstance(r, BadDebtRealized)]
    assert [(r.account, r.amount) for r in bad] == [("ETH-A/alice", -(-t.bad_debt // RAY))]
    # the Dog forgets the whole tab once the lot is gone: digs(tab + owe)
    assert env.mk.dog.Dirt == 0 and env.mk.invariant_errors() == []


# --- redo -------------------------------------------------------------------------------------

def test_redo_after_tail_resets_top_and_pays_the_keeper() -> None:
    env = started()
    assert env.mk.redo(2, env.now, "kpr2", ILK, 1) == Refusal("Clipper/cannot-reset")
    env.now += 8_401                                       # tail 8,400 passed
    assert env.mk.take(2, env.now, "keeper", ILK, 1, WAD, RAY * 10**6) == Refusal("Clipper/needs-reset")
    env.price(1_000)
    top, coin = env.mk.redo(3, env.now, "kpr2", ILK, 1)   # type: ignore[misc]
    # top = rmul(1,000e27, 1.2e27); tab 14,690 >= chost 5,650 and lot * feed = 10,000 >= chost
    assert top == 1_200 * RAY
    assert coin == 31_469 * RAD // 100                     # tip + chip * tab, as at the bark
    sale = env.mk.clips[ILK].sales[1]
    assert (sale.tic, sale.top) == (env.now, 1_200 * RAY)
    assert env.kinds()[-1] == "AuctionReset"


def test_cusp_needs_a_redo_before_tail() -> None:
    env = started()
    env.mk.clips[ILK].file("cusp", RAY // 2)
    # 0.99**68 = 0.5049 >= 0.5 but 0.99**69 = 0.4998 < 0.5
    env.now += 68 * 90
    assert not env.mk.clip_auctions(env.now)[0].needs_redo
    env.now += 90
    assert env.mk.clip_auctions(env.now)[0].needs_redo
    assert isinstance(env.mk.redo(2, env.now, "kpr2", ILK, 1), tuple)


def test_a_dusty_redo_pays_no_reward() -> None:
    env = started()
    take(env, 3 * WAD)
    take(env, 3 * WAD)                                     # tab = chost = 5,650
    env.vat.file(ILK, "dust", 6_000 * RAD)                 # governance raises dust...
    env.mk.clips[ILK].upchost()                            # ...chost = 6,000 * 1.13 = 6,780
    assert env.mk.clips[ILK].chost == 6_780 * RAD
    env.now += 8_401
    assert env.mk.redo(3, env.now, "kpr2", ILK, 1) == (1_800 * RAY, 0)
