"""The bundled Maker scenarios end to end (invariants checked every 5 blocks).

``scenarios/maker.yaml`` (Liquidations 2.0, ETH-A-like): keepers bark once the OSM's delayed
round makes vaults unsafe, take Clipper auctions only when the AMM exit pays, and the Vow
auctions its surplus for MKR (Flapper), which is burned. ``scenarios/maker_black_thursday.yaml``
(1.2): congestion prices keepers out, a lowballer wins auctions for 1 DAI, bad debt is covered
by debt auctions (Flopper) that mint MKR.

Keepers' Vow-auction bids are derived from the MKR/DAI pool as it stood at the start of the
block (every keeper plans before any transaction runs): the reserves after the last swap in an
earlier block, the block's base fee and the ETH reference price for gas (200,000 gas, no tip).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

import defisim
from defisim.engine.markets.uniswap_v2 import get_amount_in, get_amount_out
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.records import (
    AuctionSettled,
    AuctionStarted,
    AuctionTaken,
    BidPlaced,
    DebtAuctioned,
    DebtAuctionStarted,
    DebtBidPlaced,
    DebtHealed,
    SurplusAuctioned,
    SurplusAuctionStarted,
    SurplusBidPlaced,
    TokensMinted,
)
from defisim.engine.records import (
    BadDebtRealized,
    BlockBuilt,
    PositionLiquidated,
    PriceUpdated,
    SwapExecuted,
    TokensBurned,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WAD, RAY, RAD = 10**18, 10**27, 10**45
GWEI = 10**9
USD = 10**8
BID_GAS = 200_000


def run(name: str) -> defisim.Result:
    scenario = defisim.load_scenario(SCENARIOS / name)
    scenario = defisim.with_overrides(scenario, {"run.check_invariants_every_blocks": 5})
    return defisim.simulate(scenario)


def pool_at_block_start(result: defisim.Result, pool: str, genesis: tuple[int, int]) -> Callable[[int], tuple[int, int]]:
    """``(MKR, DAI)`` reserves of ``pool`` before any transaction of a block."""
    history = [(r.block, r.reserve0, r.reserve1) for r in result.records.of_type(SwapExecuted) if r.pool == pool]

    def at(block: int) -> tuple[int, int]:
        before = [(r0, r1) for b, r0, r1 in history if b < block]
        return before[-1] if before else genesis
    return at


def bid_gas_dai(result: defisim.Result, block: int) -> int:
    """DAI base units of a bid's gas at ``block`` (base fee, ETH reference price, no tip)."""
    world = result.world
    assert world is not None
    base_fee, = [r.base_fee for r in result.records.of_type(BlockBuilt) if r.block == block]
    return BID_GAS * base_fee * world.reference_e8("WETH", block) // WAD * WAD // USD


def margins(result: defisim.Result) -> dict[str, int]:
    """Each keeper's margin in basis points, by ledger holder name."""
    return {f"keeper:{a.name}": round(a.margin * 10_000) for a in result.scenario.agents if a.kind == "maker-keeper"}


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


def test_the_vow_auctions_surplus_for_mkr_and_burns_it(clip_run: defisim.Result) -> None:
    starts = clip_run.records.of_type(SurplusAuctionStarted)
    deals = clip_run.records.of_type(SurplusAuctioned)
    burns = [r for r in clip_run.records.of_type(TokensBurned) if r.protocol == "maker"]
    assert deals and [(r.block, r.gov_burned, r.supply_after) for r in deals] == [
        (r.block, r.amount, r.supply_after) for r in burns]
    # bump 50,000 DAI per lot; lid: at most 150,000 DAI on auction at once
    assert all(r.lot_rad == 50_000 * RAD and r.fill_rad <= 150_000 * RAD for r in starts)
    assert max(r.fill_rad for r in starts) == 150_000 * RAD            # the rate limit binds
    assert all(r.lot_rad == 50_000 * RAD for r in deals) and all(r.paid_amount == 50_000 * WAD for r in burns)
    bids: dict[int, list[SurplusBidPlaced]] = {}
    for r in clip_run.records.of_type(SurplusBidPlaced):
        bids.setdefault(r.auction_id, []).append(r)
    for chain in bids.values():                                         # beg 4 %
        assert all(b.bid * WAD >= 104 * WAD // 100 * a.bid for a, b in pairwise(chain))
    for d in deals:  # the last bidder wins what it bid, ttl (30 min = 150 blocks) after its bid
        last = bids[d.auction_id][-1]
        assert (d.winner, d.gov_burned) == (last.bidder, last.bid)
        assert d.block >= last.block + 151
    # each bid is the MKR that the lot less the bidder's margin and gas buys on the pool
    pool = pool_at_block_start(clip_run, "mkr-dai", (5_000 * WAD, 10_000_000 * WAD))
    margin = margins(clip_run)
    for b in (b for chain in bids.values() for b in chain):
        mkr, dai = pool(b.block)
        spend = 50_000 * WAD * (10_000 - margin[b.bidder]) // 10_000 - bid_gas_dai(clip_run, b.block)
        assert b.bid == get_amount_out(spend, dai, mkr)
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


def test_flop_auctions_mint_mkr_to_cover_bad_debt(flip_run: defisim.Result) -> None:
    starts = flip_run.records.of_type(DebtAuctionStarted)
    deals = flip_run.records.of_type(DebtAuctioned)
    mints = flip_run.records.of_type(TokensMinted)
    assert deals and [(r.block, r.gov_minted, r.supply_after) for r in deals] == [
        (r.block, r.amount, r.supply_after) for r in mints]
    assert all(r.lot == 500 * WAD and r.bid_rad == 50_000 * RAD for r in starts)   # dump, sump
    # the debt queue holds bad debt for wait = 30 min: no flop before the first release
    first_bite = min(r.block for r in flip_run.records.of_type(AuctionStarted))
    assert min(r.block for r in starts) >= first_bite + 150
    dents: dict[int, list[DebtBidPlaced]] = {}
    for r in flip_run.records.of_type(DebtBidPlaced):
        dents.setdefault(r.auction_id, []).append(r)
    for chain in dents.values():
        # the first dent pays the Vow, which kisses the whole sump; later ones pay the bidder
        assert chain[0].kissed_rad == 50_000 * RAD and chain[0].refunded == "sai-era:vow"
        assert all(b.kissed_rad == 0 and b.refunded == a.bidder and 103 * WAD // 100 * b.lot <= a.lot * WAD
                   for a, b in pairwise(chain))
    for d in deals:  # the last bidder gets the lot it asked for, ttl (15 min) after its dent
        last = dents[d.auction_id][-1]
        assert (d.winner, d.gov_minted, d.bid_rad) == (last.bidder, last.lot, 50_000 * RAD)
        assert d.block >= last.block + 76
    # each dent asks for the smallest lot whose sale on the pool returns the 50,000 DAI plus
    # the bidder's margin and gas
    pool = pool_at_block_start(flip_run, "mkr-dai", (20_000 * WAD, 6_000_000 * WAD))
    margin = margins(flip_run)
    for b in (b for chain in dents.values() for b in chain):
        mkr, dai = pool(b.block)
        need = 50_000 * WAD * (10_000 + margin[b.bidder]) // 10_000 + bid_gas_dai(flip_run, b.block)
        assert b.lot == get_amount_in(need, mkr, dai)
    # dilution: every flop mints on top of the last; the supply grew by exactly what was minted
    supplies = [r.supply_after for r in deals]
    assert supplies == sorted(supplies)
    world = flip_run.world
    assert world is not None
    before = deals[0].supply_after - deals[0].gov_minted
    assert world.ledger.supply("MKR") == before + sum(r.gov_minted for r in deals)
    # the Vow's books: every rad of debt booked at a bite was healed with surplus, kissed with a
    # flop's DAI, or is still its sin; what is left released is less than one more sump
    mk = world.protocols["sai-era"]
    vow = mk.vow
    booked = sum(r.due_rad for r in flip_run.records.of_type(AuctionStarted))
    healed = sum(r.rad for r in flip_run.records.of_type(DebtHealed))
    kissed = sum(r.kissed_rad for r in flip_run.records.of_type(DebtBidPlaced))
    assert kissed == 50_000 * RAD * len(dents) > 0
    assert healed + kissed + mk.vat.sin_of(vow.address) == booked
    assert vow.free_debt() < vow.sump and world.invariant_errors() == []


def test_runs_are_deterministic() -> None:
    scenario = defisim.load_scenario(SCENARIOS / "maker_black_thursday.yaml")
    a = defisim.simulate(scenario, blocks=700)
    b = defisim.simulate(scenario, blocks=700)
    assert a.summary["protocols"] == b.summary["protocols"]
    assert [r.as_dict() for r in a.records] == [r.as_dict() for r in b.records]
