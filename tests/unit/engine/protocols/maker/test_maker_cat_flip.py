"""Liquidations 1.2: Cat ``bite`` (dunk, box, chop) and Flipper ``tend``/``dent``/``deal``.

Bite setup: alice has 10 WETH and 13,000 DAI of debt; the price falls 2,000 -> 1,500 (spot
1,000); chop 1.13. Auction setup: 10 WETH and 10,000 DAI, price 2,000 -> 1,400, chop 1.10, so
one bite auctions the whole vault for tab = 11,000 DAI; beg 3 %, ttl 600 s, tau 21,600 s.
"""

from __future__ import annotations

import pytest
from maker_env import ILK, RAD, RAY, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.maker import AuctionStart, DealOutcome, Refusal
from defisim.engine.records import BadDebtRealized

FLIP = "mk:flip:ETH-A"


def bitten_env(**params: object) -> tuple[MakerEnv, AuctionStart]:
    env = MakerEnv(liquidations="1.2", **params)  # type: ignore[arg-type]
    env.vault("alice", 10, 13_000)
    env.price(1_500)
    out = env.mk.liquidate(1, env.now, ILK, "alice", "kpr")
    assert isinstance(out, AuctionStart), out
    return env, out


def test_bite_is_capped_by_dunk() -> None:
    env, out = bitten_env(dunk=5_000 * RAD)
    # dart = min(art, min(dunk, room) * WAD / rate / chop) = 5e39 // 1.13e18
    #      = 4,424.778761061946902654 wad (5e21 / 1.13 = 4424778761061946902654.87)
    assert out.art == 4_424_778_761_061_946_902_654
    # dink = min(ink, ink * dart // art) = 44,247,787,610,619,469,026,540 // 13,000
    #      = 3,403,675,970,047,651,463 (remainder 7,540)
    assert out.ink == 3_403_675_970_047_651_463
    # tab = dart * rate * chop / WAD: dart * 113 = 499,999,999,999,999,999,999,902 (x 1e25)
    assert out.tab == 499_999_999_999_999_999_999_902 * 10**25
    assert (out.top, out.coin, out.module) == (0, 0, "flip")     # no reward in 1.2
    assert env.mk.cat.litter == out.tab
    assert env.vat.gem_of(ILK, FLIP) == out.ink
    bid = env.mk.flips[ILK].bids[1]
    assert (bid.bid, bid.lot, bid.guy, bid.tic, bid.end) == (0, out.ink, "mk:cat", 0, env.now + 21_600)
    assert (bid.usr, bid.gal, bid.tab) == ("alice", "mk:vow", out.tab)
    # the rest of the vault is still there and still unsafe: bite it again
    assert env.mk.is_unsafe(ILK, "alice")
    assert isinstance(env.mk.liquidate(2, env.now, ILK, "alice", "kpr"), AuctionStart)
    assert env.mk.invariant_errors() == []


def test_bite_is_capped_by_the_box_room() -> None:
    env, out = bitten_env(box=4_000 * RAD, dunk=5_000 * RAD, dust=1_000 * RAD)
    # room = box - litter = 4,000 >= dust 1,000 and < dunk: dart = 4e39 // 1.13e18 = 3,539.823008849557522123
    assert out.art == 3_539_823_008_849_557_522_123
    # room left = 4,000 - tab (~4,000) < dust 1,000: the next bite hits the limit
    assert env.mk.liquidate(2, env.now, ILK, "alice", "kpr") == Refusal("Cat/liquidation-limit-hit")


def auction() -> MakerEnv:
    env = MakerEnv(liquidations="1.2", chop=11 * WAD // 10)
    env.vault("alice", 10, 10_000)
    env.price(1_400)                        # spot 933.33: 9,333 < 10,000
    out = env.mk.liquidate(1, env.now, ILK, "alice", "kpr")
    assert isinstance(out, AuctionStart) and out.tab == 11_000 * RAD and out.ink == 10 * WAD
    for keeper in ("a", "b", "c"):
        env.fund(keeper, 20_000)
    return env


def tend(env: MakerEnv, who: str, bid_dai: int, lot: int = 10 * WAD) -> Refusal | None:
    return env.mk.tend(2, env.now, who, ILK, 1, lot, bid_dai * RAD)


def test_tend_raises_by_beg_up_to_the_tab() -> None:
    env = auction()
    vow = env.mk.vow.address
    assert tend(env, "a", 100) is None
    assert env.vat.dai_of(vow) == 100 * RAD                 # the increase goes to gal (the Vow)
    assert env.mk.flips[ILK].bids[1].tic == env.now + 600
    # 102 * 1e18 < 1.03e18 * 100: not 3 % more
    assert tend(env, "b", 102) == Refusal("Flipper/insufficient-increase")
    assert tend(env, "b", 103) is None
    assert env.ledger.balance_of("DAI", "a") + env.vat.dai_of("a") // RAY == 20_000 * WAD  # a refunded
    assert env.vat.dai_of(vow) == 103 * RAD
    assert tend(env, "a", 11_001) == Refusal("Flipper/higher-than-tab")
    assert tend(env, "a", 103, 9 * WAD) == Refusal("Flipper/lot-not-matching")
    assert tend(env, "a", 11_000) is None                   # the tab is always a valid step
    assert env.vat.dai_of(vow) == 11_000 * RAD
    assert env.mk.invariant_errors() == []


def test_dent_lowers_the_lot_by_beg_and_returns_collateral() -> None:
    env = auction()
    # no bid yet (bid 0 != tab): dent is for the second phase only
    assert env.mk.dent(2, env.now, "a", ILK, 1, 9 * WAD, 0) == Refusal("Flipper/tend-not-finished")
    assert tend(env, "a", 5_000) is None
    assert env.mk.dent(2, env.now, "b", ILK, 1, 9 * WAD, 5_000 * RAD) == Refusal("Flipper/tend-not-finished")
    assert tend(env, "a", 11_000) is None
    # 1.03 * 9.8 = 10.094 > 10: not 3 % less
    assert env.mk.dent(2, env.now, "b", ILK, 1, 98 * WAD // 10, 11_000 * RAD) == Refusal(
        "Flipper/insufficient-decrease")
    # 1.03 * 9.7 = 9.991 <= 10: accepted; b pays a's 11,000 back; 0.3 WETH returns to alice
    assert env.mk.dent(2, env.now, "b", ILK, 1, 97 * WAD // 10, 11_000 * RAD) is None
    assert env.vat.gem_of(ILK, "alice") == 3 * WAD // 10
    assert env.vat.dai_of("a") == 11_000 * RAD
    b = env.mk.flips[ILK].bids[1]
    assert (b.guy, b.lot, b.bid) == ("b", 97 * WAD // 10, 11_000 * RAD)
    assert env.mk.invariant_errors() == []


def test_deal_after_ttl_gives_the_lot_to_the_winner() -> None:
    env = auction()
    assert tend(env, "a", 11_000) is None
    assert env.mk.deal(3, env.now + 600, "a", ILK, 1) == Refusal("Flipper/not-finished")  # tic == now
    out = env.mk.deal(3, env.now + 601, "a", ILK, 1)
    assert isinstance(out, DealOutcome)
    assert (out.winner, out.bid, out.lot, out.collateral) == ("a", 11_000 * RAD, 10 * WAD, 10 * WAD)
    assert env.ledger.balance_of("WETH", "a") == 10 * WAD       # exited to the winner
    assert out.bad_debt == 0 and env.mk.cat.litter == 0          # claw(tab)
    assert env.mk.flips[ILK].bids == {}
    assert env.kinds()[-1] == "AuctionSettled"
    assert env.mk.invariant_errors() == []


def test_a_lone_lowball_bid_wins_and_books_bad_debt() -> None:
    env = auction()
    assert tend(env, "c", 1) is None                         # 1 DAI for 10 WETH
    env.now += 601                                           # nobody else bids within ttl
    assert tend(env, "a", 5_000) == Refusal("Flipper/already-finished-tic")
    out = env.mk.deal(3, env.now, "c", ILK, 1)
    assert isinstance(out, DealOutcome) and out.bid == RAD
    # due = art * rate = 10,000 DAI was booked as sin; 1 DAI came in: 9,999 DAI bad debt
    assert out.bad_debt == 9_999 * RAD
    bad = [r for r in env.mk.records if isinstance(r, BadDebtRealized)]
    assert [(r.account, r.asset, r.amount) for r in bad] == [("ETH-A/alice", "DAI", 9_999 * WAD)]


def test_tick_restarts_an_auction_nobody_bid_on() -> None:
    env = auction()
    end = env.mk.flips[ILK].bids[1].end
    assert env.mk.tick(2, end, "a", ILK, 1) == Refusal("Flipper/not-finished")   # end < now needed
    env2 = auction()
    assert env2.mk.tend(2, end, "a", ILK, 1, 10 * WAD, 100 * RAD) == Refusal("Flipper/already-finished-end")
    assert env2.mk.deal(2, end + 1, "a", ILK, 1) == Refusal("Flipper/not-finished")  # no bid: no deal
    assert env2.mk.tick(2, end + 1, "a", ILK, 1) is None
    assert env2.mk.flips[ILK].bids[1].end == end + 1 + 21_600
    assert env.mk.invariant_errors() == [] and env2.mk.invariant_errors() == []


def test_flip_views_give_the_next_valid_bids() -> None:
    env = auction()
    assert tend(env, "a", 100) is None
    view = env.mk.flip_auctions(env.now)[0]
    # ceil(1.03 * 100) = 103 DAI; the dent bound is floor(10 / 1.03) = 9.70873786407766990 WETH
    assert view.min_bid == 103 * RAD and view.phase == "tend"
    assert view.max_lot == 10 * WAD * WAD // (103 * WAD // 100)
    with pytest.raises(KeyError):
        env.mk.flips[ILK].min_next_bid(2)
