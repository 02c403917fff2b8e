"""The bundled Maker scenarios end to end (invariants checked every 5 blocks).

``scenarios/maker.yaml`` (Liquidations 2.0, ETH-A-like): keepers bark once the OSM's delayed
round makes vaults unsafe, take Clipper auctions only when the AMM exit pays, and the Vow
burns MKR with its surplus. ``scenarios/maker_black_thursday.yaml`` (1.2): congestion prices
keepers out, a lowballer wins auctions for 1 DAI, bad debt is covered by minting MKR.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import defisim
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.records import (
    AuctionSettled,
    AuctionStarted,
    AuctionTaken,
    BidPlaced,
    DebtAuctioned,
    SurplusAuctioned,
    TokensMinted,
)
from defisim.engine.records import (
    BadDebtRealized,
    BlockBuilt,
    PositionLiquidated,
    PriceUpdated,
    TokensBurned,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WAD, RAY, RAD = 10**18, 10**27, 10**45
GWEI = 10**9


def run(name: str) -> defisim.Result:
    scenario = defisim.load_scenario(SCENARIOS / name)
    scenario = defisim.with_overrides(scenario, {"run.check_invariants_every_blocks": 5})
    return defisim.simulate(scenario)


@pytest.fixture(scope="module")
def clip_run() -> defisim.Result:
    return run("maker.yaml")


@pytest.fixture(scope="module")
def flip_run() -> defisim.Result:
    return run("maker_black_thursday.yaml")


# --- Liquidations 2.0 ---------------------------------------------------------------------------

def test_barks_follow_the_delayed_osm_round(clip_run: defisim.Result) -> None:
    starts = clip_run.records.of_type(AuctionStarted)
    osm = {r.block: r.price for r in clip_run.records.of_type(PriceUpdated) if r.oracle == "eth-osm"}
    assert len(starts) > 200
    assert all(r.health_before < WAD and r.module == "clip" for r in starts)
    # the first bark lands in the block of the OSM round that made vaults unsafe, an hour
    # or more after the market moved (the price starts falling at minute 20 = block 100)
    first = min(r.block for r in starts)
    assert first in osm and first > 100 + 300
    # top = OSM price (USD 8 dp -> ray: x 1e19) * buf 1.2
    for r in starts:
        price = osm[max(b for b in osm if b <= r.block)]    # the OSM answer at the bark
        assert r.top_ray == price * 10**19 * 12 // 10
        # keeper reward: tip 300 DAI + 0.1 % of the tab
        assert r.coin_rad == 300 * RAD + r.tab_rad // 1000


def test_takes_pay_at_most_the_tab_and_keepers_profit(clip_run: defisim.Result) -> None:
    takes = clip_run.records.of_type(AuctionTaken)
    liqs = [r for r in clip_run.records.of_type(PositionLiquidated) if r.protocol == "maker"]
    assert len(takes) == len(liqs) > 200
    assert all(r.profit_usd > 0 for r in liqs)               # a keeper takes only when it pays
    assert [(r.block, -(-t.owe_rad // RAY)) for r, t in zip(liqs, takes, strict=True)] == [
        (r.block, r.debt_repaid) for r in liqs]
    starts = {(r.ilk, r.auction_id): r for r in clip_run.records.of_type(AuctionStarted)}
    for s in clip_run.records.of_type(AuctionSettled):
        start = starts[(s.ilk, s.auction_id)]
        assert s.raised_rad <= start.tab_rad
        assert s.sold_wad + s.returned_wad == start.ink_wad
        assert s.bad_debt_rad == max(0, start.due_rad - s.raised_rad)
    for t in takes:
        assert t.tab_left_rad == 0 or t.lot_left_wad == 0 or t.tab_left_rad >= 5_000 * RAD * 113 // 100


def test_the_vow_burns_mkr_with_its_surplus(clip_run: defisim.Result) -> None:
    flaps = clip_run.records.of_type(SurplusAuctioned)
    burns = [r for r in clip_run.records.of_type(TokensBurned) if r.protocol == "maker"]
    assert flaps and len(burns) == len(flaps)
    assert all(r.lot_rad == 50_000 * RAD for r in flaps)
    summary = clip_run.summary["protocols"]["maker"]
    assert summary["tokens_burned_base_units"]["MKR"] == sum(r.amount for r in burns) > 0
    assert summary["liquidations"] == len(clip_run.records.of_type(AuctionTaken))
    world = clip_run.world
    assert world is not None and isinstance(world.protocols["maker"], MakerSystem)
    assert world.invariant_errors() == []


# --- Liquidations 1.2 (Black Thursday) ------------------------------------------------------------

def test_congestion_prices_out_the_careful_keeper(flip_run: defisim.Result) -> None:
    built = flip_run.records.of_type(BlockBuilt)
    calm = 20 * GWEI
    assert max(b.base_fee for b in built) >= 6 * calm
    pricey = {b.block for b in built if b.base_fee >= 200 * GWEI}
    assert pricey, "the crash should push the base fee above the careful keeper's cap"
    careful = [r for r in flip_run.records.of_type(BidPlaced) if r.bidder == "keeper:careful"]
    assert careful and not any(r.block in pricey for r in careful)


def test_bids_follow_beg_and_lowball_wins_for_almost_nothing(flip_run: defisim.Result) -> None:
    last: dict[tuple[str, int], BidPlaced] = {}
    for r in flip_run.records.of_type(BidPlaced):
        key = (r.ilk, r.auction_id)
        prev = last.get(key)
        if prev is not None and r.phase == "tend" and prev.phase == "tend":
            assert r.bid_rad * WAD >= 103 * WAD // 100 * prev.bid_rad or r.bid_rad == r.tab_rad
        if prev is not None and r.phase == "dent":
            assert r.bid_rad == r.tab_rad and 103 * WAD // 100 * r.lot_wad <= prev.lot_wad * WAD
        last[key] = r
    settled = flip_run.records.of_type(AuctionSettled)
    starts = {(r.ilk, r.auction_id): r for r in flip_run.records.of_type(AuctionStarted)}
    near_zero = [s for s in settled if s.raised_rad * 100 < s.due_rad]
    assert len(near_zero) >= 50
    assert {s.winner for s in near_zero} == {"keeper:lowball"}
    assert all(s.sold_wad + s.returned_wad == starts[(s.ilk, s.auction_id)].ink_wad for s in settled)
    bad = flip_run.records.of_type(BadDebtRealized)
    assert sum(r.amount for r in bad) > 1_000_000 * WAD
    assert flip_run.summary["protocols"]["sai-era"]["bad_debt_usd"] > 1_000_000


def test_flop_mints_mkr_to_cover_bad_debt(flip_run: defisim.Result) -> None:
    flops = flip_run.records.of_type(DebtAuctioned)
    mints = flip_run.records.of_type(TokensMinted)
    assert flops and [r.gov_minted for r in flops] == [r.amount for r in mints]
    assert all(r.bid_rad == 50_000 * RAD for r in flops)
    supplies = [r.supply_after for r in flops]
    assert supplies == sorted(supplies)                      # dilution only grows
    # the debt queue holds bad debt for wait = 30 min: no flop before the first release
    first_start = min(r.block for r in flip_run.records.of_type(AuctionStarted))
    assert min(r.block for r in flops) >= first_start + 150
    world = flip_run.world
    assert world is not None
    minted = sum(r.gov_minted for r in flops)
    assert world.ledger.minted["MKR"] >= minted


def test_runs_are_deterministic() -> None:
    scenario = defisim.load_scenario(SCENARIOS / "maker_black_thursday.yaml")
    a = defisim.simulate(scenario, blocks=700)
    b = defisim.simulate(scenario, blocks=700)
    assert a.summary["protocols"] == b.summary["protocols"]
    assert [r.as_dict() for r in a.records] == [r.as_dict() for r in b.records]
