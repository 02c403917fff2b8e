"""The Vow: debt queue (fess/flog), heal/kiss, and its auctions (dss ``vow.sol``, ``flap.sol``,
``flop.sol``).

Flap setup: ``bump`` 10,000 DAI, ``hump`` 20,000 DAI, the Vow holds 30,000 DAI of surplus and
no debt; ``beg`` 1.05, ``ttl`` 600 s, ``tau`` 3,600 s; bidders ``a``, ``b``, ``c`` hold 100,
100 and 5 MKR. Flop setup: ``sump`` 5,000 DAI, ``dump`` 10 MKR, 12,000 DAI of released debt
and no surplus; ``beg`` 1.05, ``pad`` 1.5, ``ttl`` 600 s, ``tau`` 3,600 s; bidders ``a`` and
``b`` hold 20,000 DAI each.
"""

from __future__ import annotations

from typing import Any

import pytest
from maker_env import ILK, RAD, WAD, MakerEnv  # type: ignore[import-not-found]

from defisim.engine.protocols.maker import (
    FlapConfig,
    FlopConfig,
    MakerError,
    Refusal,
    VowConfig,
)
from defisim.engine.protocols.maker.flap import FlapBid, FlapDeal
from defisim.engine.protocols.maker.flop import FlopBid, FlopDeal
from defisim.engine.protocols.maker.records import (
    DebtAuctioned,
    DebtAuctionReset,
    DebtAuctionStarted,
    DebtBidPlaced,
    SurplusAuctioned,
    SurplusAuctionReset,
    SurplusAuctionStarted,
    SurplusBidPlaced,
    TokensMinted,
)
from defisim.engine.records import TokensBurned

VOW, FLAPPER = "mk:vow", "mk:flapper"
BEG = 105 * WAD // 100


def of(env: MakerEnv, kind: type) -> list[Any]:
    return [r for r in env.mk.records if isinstance(r, kind)]


def test_fess_queues_debt_until_wait_has_passed() -> None:
    env = MakerEnv(vow=VowConfig(wait=3_600))
    vow = env.mk.vow
    env.vault("alice", 10, 13_000)
    env.price(1_500)
    env.mk.liquidate(1, env.now, ILK, "alice", "kpr")
    assert vow.sin == {env.now: 13_000 * RAD} and vow.Sin == 13_000 * RAD
    # sin(vow) = 13,000 due + 314.69 reward; only the reward is free debt while queued
    assert vow.free_debt() == 31_469 * RAD // 100
    with pytest.raises(MakerError, match="Vow/wait-not-finished"):
        vow.flog(env.now, env.now + 3_599)
    vow.flog(env.now, env.now + 3_600)
    assert vow.Sin == 0 and vow.free_debt() == 13_000 * RAD + 31_469 * RAD // 100


def test_heal_needs_surplus_and_free_debt() -> None:
    env = MakerEnv()
    vow = env.mk.vow
    env.vat.suck(vow.address, "x", 500 * RAD)          # 500 DAI of free debt
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        vow.heal(100 * RAD)
    env.vat.suck("mk:genesis", vow.address, 300 * RAD)  # 300 DAI of surplus
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        vow.heal(301 * RAD)
    vow.heal(300 * RAD)
    assert env.vat.sin_of(vow.address) == 200 * RAD and vow.surplus() == 0
    env.mk.settle(1, env.now)                          # the keeper heals min(surplus, debt) = 0
    assert env.vat.sin_of(vow.address) == 200 * RAD


def test_file_rejects_unknown_parameters() -> None:
    env = MakerEnv()
    with pytest.raises(MakerError, match="Vow/file-unrecognized-param"):
        env.mk.vow.file("pad", 1)
    with pytest.raises(MakerError, match="Flapper/file-unrecognized-param"):
        env.mk.flapper.file("pad", 1)
    with pytest.raises(MakerError, match="Flopper/file-unrecognized-param"):
        env.mk.flopper.file("lid", 1)


# --- surplus auctions (Flapper) -------------------------------------------------------------------

def flap_env(surplus: int = 30_000, **flap: int) -> MakerEnv:
    cfg = FlapConfig(**{"beg": BEG, "ttl": 600, "tau": 3_600, **flap})
    env = MakerEnv(vow=VowConfig(bump=10_000 * RAD, hump=20_000 * RAD, flap=cfg))
    env.vat.suck("mk:genesis", VOW, surplus * RAD)
    for who, mkr in (("a", 100), ("b", 100), ("c", 5)):
        env.ledger.mint("MKR", who, mkr * WAD)
    return env


def tend(env: MakerEnv, who: str, bid: int, lot: int = 10_000 * RAD, dt: int = 0) -> Refusal | None:
    return env.mk.flap_tend(2, env.now + dt, who, 1, lot, bid)


def test_flap_needs_surplus_above_bump_plus_hump_and_no_free_debt() -> None:
    env = flap_env(surplus=29_999)
    with pytest.raises(MakerError, match="Vow/insufficient-surplus"):
        env.mk.vow.flap(env.now)                       # 29,999 < sin 0 + bump + hump
    env.mk.settle(1, env.now)
    assert env.mk.flapper.bids == {} and of(env, SurplusAuctionStarted) == []
    env.vat.suck("mk:genesis", VOW, 50_000 * RAD)
    env.vat.suck(VOW, "x", 1 * RAD)                    # 1 DAI of released debt
    with pytest.raises(MakerError, match="Vow/debt-not-zero"):
        env.mk.vow.flap(env.now)


def test_flap_kicks_an_auction_for_bump() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    # kick(bump, 0): the lot moves to the Flapper, guy = the Vow, end = now + tau
    assert env.mk.flapper.bids == {1: FlapBid(0, 10_000 * RAD, VOW, 0, env.now + 3_600)}
    assert env.vat.dai_of(FLAPPER) == 10_000 * RAD and env.mk.vow.surplus() == 20_000 * RAD
    assert env.mk.flapper.fill == 10_000 * RAD
    assert [(r.auction_id, r.lot_rad, r.end, r.fill_rad) for r in of(env, SurplusAuctionStarted)] == [
        (1, 10_000 * RAD, env.now + 3_600, 10_000 * RAD)]
    env.mk.settle(2, env.now)                          # 20,000 < 0 + 10,000 + 20,000: no second
    assert list(env.mk.flapper.bids) == [1]
    assert env.mk.invariant_errors() == []


def test_tend_raises_mkr_bids_by_beg_and_refunds_the_previous_bidder() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    ledger = env.ledger
    assert tend(env, "a", 10 * WAD) is None            # the first bid: any bid > 0
    assert ledger.balance_of("MKR", "a") == 90 * WAD and ledger.balance_of("MKR", FLAPPER) == 10 * WAD
    assert env.mk.flapper.bids[1] == FlapBid(10 * WAD, 10_000 * RAD, "a", env.now + 600, env.now + 3_600)
    # 10.4 * 1e18 < 1.05 * 10: not 5 % more; equal is not higher; the lot must match
    assert tend(env, "b", 104 * WAD // 10) == Refusal("Flapper/insufficient-increase")
    assert tend(env, "b", 10 * WAD) == Refusal("Flapper/bid-not-higher")
    assert tend(env, "b", 11 * WAD, lot=9_999 * RAD) == Refusal("Flapper/lot-not-matching")
    assert tend(env, "b", 105 * WAD // 10) is None      # exactly beg * 10: accepted
    assert ledger.balance_of("MKR", "a") == 100 * WAD  # a refunded in full
    assert ledger.balance_of("MKR", "b") == 895 * WAD // 10
    assert ledger.balance_of("MKR", FLAPPER) == 105 * WAD // 10
    # the high bidder raises its own bid: it pays only the increase (11.025 - 10.5)
    assert tend(env, "b", 11_025 * WAD // 1_000) is None
    assert ledger.balance_of("MKR", "b") == 88_975 * WAD // 1_000
    assert ledger.balance_of("MKR", FLAPPER) == 11_025 * WAD // 1_000
    # ceil(1.05 * 11.025) = 11.57625 MKR; c holds 5: DSToken refuses, nothing changes
    assert env.mk.flapper.min_next_bid(1) == 1_157_625 * WAD // 100_000
    before = env.mk.snapshot(env.now), ledger.holders("MKR")
    assert tend(env, "c", 12 * WAD) == Refusal("ds-token-insufficient-balance", "c holds 5000000000000000000 MKR, needs 12000000000000000000")
    assert (env.mk.snapshot(env.now), ledger.holders("MKR")) == before
    bids = [(r.bidder, r.bid, r.refunded, r.refund) for r in of(env, SurplusBidPlaced)]
    assert bids == [("a", 10 * WAD, VOW, 0), ("b", 105 * WAD // 10, "a", 10 * WAD),
                    ("b", 11_025 * WAD // 1_000, "b", 0)]
    assert env.mk.invariant_errors() == [] and ledger.conservation_errors() == []


def test_flap_ends_ttl_after_the_last_bid_and_deal_burns_the_mkr() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    assert tend(env, "a", 10 * WAD) is None
    assert tend(env, "b", 12 * WAD, dt=300) is None    # tic = now + 300 + 600
    supply = env.ledger.supply("MKR")
    # at tic itself the bid is neither open (tic > now) nor over (tic < now)
    assert tend(env, "a", 13 * WAD, dt=900) == Refusal("Flapper/already-finished-tic")
    assert env.mk.flap_deal(3, env.now + 900, "b", 1) == Refusal("Flapper/not-finished")
    out = env.mk.flap_deal(3, env.now + 901, "b", 1)
    assert out == FlapDeal(1, "b", 12 * WAD, 10_000 * RAD)
    # b dealt itself: the 10,000 DAI lot is exited to its balance; the Flapper burned 12 MKR
    assert env.ledger.balance_of("DAI", "b") == 10_000 * WAD and env.vat.dai_of("b") == 0
    assert env.ledger.supply("MKR") == supply - 12 * WAD
    assert env.ledger.balance_of("MKR", FLAPPER) == 0 and env.mk.flapper.fill == 0
    assert env.mk.flapper.bids == {}
    assert of(env, SurplusAuctioned) == [SurplusAuctioned(3, "mk", 1, "b", 10_000 * RAD, "MKR", 12 * WAD,
                                                          supply - 12 * WAD)]
    assert of(env, TokensBurned) == [TokensBurned(3, "mk", "MKR", 12 * WAD, "DAI", 10_000 * WAD,
                                                  supply - 12 * WAD)]
    assert env.mk.invariant_errors() == [] and env.ledger.conservation_errors() == []


def test_anyone_may_deal_the_lot_goes_to_the_winner() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    assert tend(env, "a", 10 * WAD) is None
    assert isinstance(env.mk.flap_deal(3, env.now + 601, "c", 1), FlapDeal)
    assert env.vat.dai_of("a") == 10_000 * RAD and env.ledger.balance_of("DAI", "c") == 0


def test_flap_ends_at_tau_even_with_a_live_bid() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    assert tend(env, "a", 10 * WAD, dt=3_300) is None  # tic = now + 3,900 > end = now + 3,600
    assert tend(env, "b", 11 * WAD, dt=3_600) == Refusal("Flapper/already-finished-end")
    assert env.mk.flap_deal(3, env.now + 3_600, "a", 1) == Refusal("Flapper/not-finished")
    assert isinstance(env.mk.flap_deal(3, env.now + 3_601, "a", 1), FlapDeal)


def test_tick_restarts_a_flap_nobody_bid_on() -> None:
    env = flap_env()
    env.mk.settle(1, env.now)
    end = env.now + 3_600
    assert env.mk.flap_tick(2, end, "c", 1) == Refusal("Flapper/not-finished")
    assert env.mk.flap_deal(2, end + 1, "c", 1) == Refusal("Flapper/not-finished")   # no bid, no deal
    assert env.mk.flap_tick(2, end + 1, "c", 1) is None
    assert env.mk.flapper.bids[1] == FlapBid(0, 10_000 * RAD, VOW, 0, end + 1 + 3_600)
    assert [(r.keeper, r.end) for r in of(env, SurplusAuctionReset)] == [("c", end + 1 + 3_600)]
    assert tend(env, "a", 1, dt=3_601) is None         # open again
    assert env.mk.flap_tick(3, end + 3_602, "c", 1) == Refusal("Flapper/bid-already-placed")


def test_lid_limits_the_dai_on_auction() -> None:
    env = flap_env(surplus=60_000, lid=15_000 * RAD)
    env.mk.settle(1, env.now)
    assert env.mk.flapper.fill == 10_000 * RAD
    with pytest.raises(MakerError, match="Flapper/over-lid"):
        env.mk.vow.flap(env.now)                       # fill 20,000 > lid 15,000
    env.mk.settle(2, env.now)                          # the vow keeper waits for room
    assert list(env.mk.flapper.bids) == [1] and env.mk.vow.surplus() == 50_000 * RAD
    assert tend(env, "a", WAD) is None
    assert isinstance(env.mk.flap_deal(3, env.now + 601, "a", 1), FlapDeal)
    env.mk.settle(4, env.now + 601)                    # fill back to 0: the next lot goes out
    assert list(env.mk.flapper.bids) == [2] and env.mk.flapper.fill == 10_000 * RAD
    assert env.mk.invariant_errors() == []


# --- debt auctions (Flopper) --------------------------------------------------------------------

def flop_env(**flop: int) -> MakerEnv:
    cfg = FlopConfig(**{"beg": BEG, "pad": 150 * WAD // 100, "ttl": 600, "tau": 3_600, **flop})
    env = MakerEnv(vow=VowConfig(sump=5_000 * RAD, dump=10 * WAD, flop=cfg))
    env.vat.suck(VOW, "x", 12_000 * RAD)               # 12,000 DAI of unbacked, released debt
    env.fund("a", 20_000)
    env.fund("b", 20_000)
    return env


def dent(env: MakerEnv, who: str, lot: int, bid: int = 5_000 * RAD, dt: int = 0, id_: int = 1) -> Refusal | None:
    return env.mk.flop_dent(2, env.now + dt, who, id_, lot, bid)


def test_flop_kicks_auctions_while_free_debt_covers_sump() -> None:
    env = flop_env()
    vow = env.mk.vow
    env.mk.settle(1, env.now)
    # Ash += sump; kick(vow, dump, sump): guy = the Vow, end = now + tau
    assert vow.Ash == 5_000 * RAD and vow.free_debt() == 7_000 * RAD
    assert env.mk.flopper.bids == {1: FlopBid(5_000 * RAD, 10 * WAD, VOW, 0, env.now + 3_600)}
    env.mk.settle(2, env.now)
    assert vow.Ash == 10_000 * RAD and vow.free_debt() == 2_000 * RAD and list(env.mk.flopper.bids) == [1, 2]
    env.mk.settle(3, env.now)                          # 2,000 < sump: no third auction
    with pytest.raises(MakerError, match="Vow/insufficient-debt"):
        vow.flop(env.now)
    assert [(r.auction_id, r.lot, r.bid_rad) for r in of(env, DebtAuctionStarted)] == [
        (1, 10 * WAD, 5_000 * RAD), (2, 10 * WAD, 5_000 * RAD)]
    # Ash is not free debt: heal cannot touch it
    env.vat.suck("mk:genesis", VOW, 3_000 * RAD)
    with pytest.raises(MakerError, match="Vow/insufficient-debt"):
        vow.heal(2_001 * RAD)
    env.vat.suck(VOW, "x", 5_000 * RAD)                # free debt 7,000 again, surplus 3,000
    with pytest.raises(MakerError, match="Vow/surplus-not-zero"):
        vow.flop(env.now)
    assert env.mk.invariant_errors() == []


def test_dent_lowers_the_lot_and_the_first_dent_kisses_ash() -> None:
    env = flop_env()
    env.mk.settle(1, env.now)
    env.mk.settle(1, env.now)                          # two auctions: Ash = 10,000
    vow = env.mk.vow
    # 1.05 * 9.6 = 10.08 > 10: not 5 % less; the lot must fall; the bid is fixed
    assert dent(env, "a", 96 * WAD // 10) == Refusal("Flopper/insufficient-decrease")
    assert dent(env, "a", 10 * WAD) == Refusal("Flopper/lot-not-lower")
    assert dent(env, "a", 9 * WAD, bid=4_999 * RAD) == Refusal("Flopper/not-matching-bid")
    # the largest lot allowed: floor(10e18 * 1e18 / 1.05e18)
    first = env.mk.flopper.max_next_lot(1)
    assert first == 9_523_809_523_809_523_809
    assert dent(env, "a", first) is None
    # a's 5,000 DAI went to the Vow, which kissed it against its own auction's Ash
    assert env.ledger.balance_of("DAI", "a") == 15_000 * WAD
    assert vow.Ash == 5_000 * RAD and vow.surplus() == 0
    assert env.vat.sin_of(VOW) == 7_000 * RAD
    assert env.mk.flopper.bids[1] == FlopBid(5_000 * RAD, first, "a", env.now + 600, env.now + 3_600)
    # b underbids a: floor(9.523809523809523809 / 1.05) = 9.070294784580498865 (rem 0.75e18)
    second = env.mk.flopper.max_next_lot(1)
    assert second == 9_070_294_784_580_498_865
    assert dent(env, "b", second + 1) == Refusal("Flopper/insufficient-decrease")
    assert dent(env, "b", second, dt=60) is None
    # b paid a back (as Vat dai); no second kiss; the Vow's books did not move
    assert env.vat.dai_of("a") == 5_000 * RAD and env.ledger.balance_of("DAI", "b") == 15_000 * WAD
    assert vow.Ash == 5_000 * RAD and env.vat.sin_of(VOW) == 7_000 * RAD
    assert [(r.bidder, r.lot, r.refunded, r.kissed_rad, r.tic) for r in of(env, DebtBidPlaced)] == [
        ("a", first, VOW, 5_000 * RAD, env.now + 600), ("b", second, "a", 0, env.now + 660)]
    assert env.mk.invariant_errors() == [] and env.ledger.conservation_errors() == []


def test_flop_deal_mints_the_lot_to_the_winner() -> None:
    env = flop_env()
    env.mk.settle(1, env.now)
    lot = 9 * WAD                                      # 1.05 * 9 = 9.45 <= 10
    assert dent(env, "a", lot) is None
    supply = env.ledger.supply("MKR")
    assert env.mk.flop_deal(3, env.now + 600, "b", 1) == Refusal("Flopper/not-finished")
    assert dent(env, "b", lot - 1, dt=600) == Refusal("Flopper/already-finished-tic")
    out = env.mk.flop_deal(3, env.now + 601, "b", 1)   # anyone may deal; a gets the MKR
    assert out == FlopDeal(1, "a", 5_000 * RAD, lot)
    assert env.ledger.balance_of("MKR", "a") == lot and env.ledger.supply("MKR") == supply + lot
    assert env.mk.flopper.bids == {}
    assert of(env, DebtAuctioned) == [DebtAuctioned(3, "mk", 1, "a", 5_000 * RAD, "MKR", lot, supply + lot)]
    assert of(env, TokensMinted) == [TokensMinted(3, "mk", "MKR", lot, "flop", supply + lot)]
    assert env.mk.invariant_errors() == [] and env.ledger.conservation_errors() == []


def test_flop_ends_at_tau_even_with_a_live_bid() -> None:
    env = flop_env()
    env.mk.settle(1, env.now)
    assert dent(env, "a", 9 * WAD, dt=3_300) is None
    assert dent(env, "b", 8 * WAD, dt=3_600) == Refusal("Flopper/already-finished-end")
    assert env.mk.flop_deal(3, env.now + 3_600, "a", 1) == Refusal("Flopper/not-finished")
    assert isinstance(env.mk.flop_deal(3, env.now + 3_601, "a", 1), FlopDeal)


def test_tick_raises_an_unbid_lot_by_pad() -> None:
    env = flop_env()
    env.mk.settle(1, env.now)
    end = env.now + 3_600
    assert env.mk.flop_tick(2, end, "b", 1) == Refusal("Flopper/not-finished")
    assert env.mk.flop_deal(2, end + 1, "b", 1) == Refusal("Flopper/not-finished")
    assert env.mk.flop_tick(2, end + 1, "b", 1) is None
    # lot = pad * lot / ONE = 1.5 * 10 = 15 MKR; end = now + tau
    assert env.mk.flopper.bids[1] == FlopBid(5_000 * RAD, 15 * WAD, VOW, 0, end + 1 + 3_600)
    assert [(r.lot, r.end) for r in of(env, DebtAuctionReset)] == [(15 * WAD, end + 1 + 3_600)]
    assert env.mk.flop_tick(2, end + 3_602, "b", 1) is None
    assert env.mk.flopper.bids[1].lot == 225 * WAD // 10
    assert dent(env, "a", 20 * WAD, dt=3_603) is None
    assert env.mk.flop_tick(2, env.now + 2 * 3_600 + 3_603, "b", 1) == Refusal("Flopper/bid-already-placed")
    assert env.mk.invariant_errors() == []


def test_tick_rounds_the_padded_lot_down() -> None:
    env = flop_env(pad=12 * WAD // 10)
    flopper = env.mk.flopper
    id_ = flopper.kick(VOW, 7, 1, env.now)             # 7 wei of MKR: 1.2 * 7 = 8.4 -> 8
    assert flopper.tick(id_, env.now + 3_601) == 8


def test_a_refused_dent_changes_nothing() -> None:
    env = flop_env()
    env.mk.settle(1, env.now)
    env.ledger.burn("DAI", "a", 16_000 * WAD)          # a keeps 4,000 DAI < bid
    before = env.mk.snapshot(env.now), env.ledger.holders("DAI")
    out = dent(env, "a", 9 * WAD)
    assert isinstance(out, Refusal) and out.reason == "Dai/insufficient-balance"
    assert (env.mk.snapshot(env.now), env.ledger.holders("DAI")) == before
