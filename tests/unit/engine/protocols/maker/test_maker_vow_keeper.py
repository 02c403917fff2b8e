"""The maker keeper in the Vow's auctions, in a small world: one MKR/DAI pool (1,000 MKR,
1,000,000 DAI, fee 0.3 %), WETH at 2,000 USD pays gas, flap/flop ``ttl`` 60 s (5 blocks).

Expected bids are derived from the pool formulas (``getAmountOut``/``getAmountIn`` with the fee
as 9,970 / 10,000) and the gas a 200,000-gas bid costs at the block's base fee, zero tip.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

import defisim
from defisim.engine.markets.uniswap_v2 import get_amount_in, get_amount_out
from defisim.engine.protocols.maker import MakerSystem
from defisim.engine.protocols.maker.records import (
    DebtAuctioned,
    DebtBidPlaced,
    SurplusAuctioned,
    SurplusBidPlaced,
)
from defisim.engine.records import BlockBuilt, SwapExecuted, TokensBurned
from defisim.engine.world import World
from defisim.scenario.assemble import build_world

WAD, RAY, RAD = 10**18, 10**27, 10**45
USD = 10**8
MKR_RESERVE, DAI_RESERVE = 1_000 * WAD, 1_000_000 * WAD

BASE: dict[str, Any] = yaml.safe_load("""
name: vow-keeper
seed: 1
chain: {blocks: 20, base_fee_gwei: 20}
tokens:
  WETH: {decimals: 18}
  DAI: {decimals: 18}
  MKR: {decimals: 18}
prices:
  model: scripted
  assets:
    WETH: {start: 2000}
    DAI: {start: 1.0}
    MKR: {start: 1000}
markets:
  - kind: uniswap-v2
    name: mkr-dai
    tokens: [MKR, DAI]
    liquidity: {MKR: "1000 MKR", DAI: "1000000 DAI"}
oracles:
  - {kind: osm, name: eth-osm, asset: WETH, source: reference, hop: 1h}
protocols:
  - kind: maker
    name: maker
    Hole: "1000000 DAI"
    vow:
      bump: "10000 DAI"
      sump: "5000 DAI"
      dump: "20 MKR"
      flap: {beg: 0.05, ttl: 1m, tau: 10m}
      flop: {beg: 0.05, pad: 0.5, ttl: 1m, tau: 10m}
    ilks:
      ETH-A: {gem: WETH, oracle: eth-osm, mat: 1.5, line: "1000000 DAI", hole: "1000000 DAI"}
agents:
  - {kind: maker-keeper, name: a, capital: {DAI: "100000 DAI"}, margin: 0.02}
""")


def world_with(keeper: dict[str, Any] | None = None, *, surplus: int = 0, debt: int = 0) -> tuple[World, MakerSystem]:
    data = copy.deepcopy(BASE)
    if keeper is not None:
        data["agents"][0].update(keeper)
    world = build_world(defisim.scenario_from_dict(data))
    mk = world.protocols["maker"]
    assert isinstance(mk, MakerSystem)
    if surplus:
        mk.vat.suck(mk.genesis, mk.vow.address, surplus * RAD)
    if debt:
        mk.vat.suck(mk.vow.address, "elsewhere", debt * RAD)
    return world, mk


def gas_dai(world: World, block: int) -> int:
    """DAI base units of a 200,000-gas bid at ``block``'s base fee, no tip, ETH at 2,000."""
    base_fee, = [r.base_fee for r in world.log.of_type(BlockBuilt) if r.block == block]
    gas_usd = 200_000 * base_fee * 2_000 * USD // WAD
    return gas_usd * WAD // USD


def test_flop_keeper_dents_to_its_reservation_then_deals_and_sells() -> None:
    world, mk = world_with(debt=5_000)
    world.run(0, 12)
    # block 0: the Vow kicks a flop (20 MKR for 5,000 DAI); block 1: the keeper dents
    bid, = world.log.of_type(DebtBidPlaced)
    assert (bid.block, bid.bidder, bid.bid_rad, bid.refunded, bid.kissed_rad) == (
        1, "keeper:a", 5_000 * RAD, mk.vow.address, 5_000 * RAD)
    # the smallest lot whose sale returns 5,000 * 1.02 DAI + gas: getAmountIn on the pool
    need = 5_000 * WAD * 10_200 // 10_000 + gas_dai(world, 1)
    assert bid.lot == MKR_RESERVE * need * 10_000 // ((DAI_RESERVE - need) * 9_970) + 1
    assert bid.lot == get_amount_in(need, MKR_RESERVE, DAI_RESERVE)
    assert mk.vow.Ash == 0 and mk.vat.sin_of(mk.vow.address) == 0     # kissed in full
    # tic = now(1) + 60: dealable from block 7; the keeper deals and sells the minted MKR
    deal, = world.log.of_type(DebtAuctioned)
    assert (deal.block, deal.winner, deal.gov_minted) == (7, "keeper:a", bid.lot)
    sale, = [s for s in world.log.of_type(SwapExecuted) if s.trader == "keeper:a"]
    assert (sale.block, sale.token_in, sale.amount_in) == (7, "MKR", bid.lot)
    assert sale.amount_out == get_amount_out(bid.lot, MKR_RESERVE, DAI_RESERVE)
    assert sale.amount_out * 10_000 >= 5_000 * WAD * 10_200                  # the margin held
    assert world.ledger.balance_of("DAI", "keeper:a") == 95_000 * WAD + sale.amount_out
    assert world.ledger.balance_of("MKR", "keeper:a") == 0
    assert world.invariant_errors() == []


def test_flap_keeper_buys_the_mkr_it_bids_and_gets_the_lot() -> None:
    world, mk = world_with(surplus=10_000)
    world.run(0, 12)
    tend, = world.log.of_type(SurplusBidPlaced)
    # 10,000 DAI less 2 % and gas buys W MKR on the pool: the keeper bids W
    spend = 10_000 * WAD * 9_800 // 10_000 - gas_dai(world, 1)
    want = spend * 9_970 * MKR_RESERVE // (DAI_RESERVE * 10_000 + spend * 9_970)
    assert (tend.block, tend.bidder, tend.bid, tend.refunded) == (1, "keeper:a", want, mk.vow.address)
    # ... buying exactly W with getAmountIn DAI in the same transaction
    buy, = [s for s in world.log.of_type(SwapExecuted) if s.trader == "keeper:a"]
    cost = get_amount_in(want, DAI_RESERVE, MKR_RESERVE)
    assert (buy.block, buy.token_in, buy.amount_in) == (1, "DAI", cost)
    assert cost <= spend
    won, = world.log.of_type(SurplusAuctioned)
    burned, = world.log.of_type(TokensBurned)
    assert (won.block, won.winner, won.gov_burned) == (7, "keeper:a", want)
    assert (burned.amount, burned.paid_amount, burned.supply_after) == (
        want, 10_000 * WAD, world.ledger.supply("MKR"))
    # leftover MKR from the purchase (getAmountOut(cost) >= W) stays with the keeper
    assert world.ledger.balance_of("MKR", "keeper:a") == buy.amount_out - want
    assert world.ledger.balance_of("DAI", "keeper:a") == 100_000 * WAD - cost + 10_000 * WAD
    assert world.invariant_errors() == []


def test_flap_keeper_with_mkr_pays_from_its_balance() -> None:
    world, _ = world_with({"capital": {"MKR": "50 MKR"}}, surplus=10_000)
    world.run(0, 3)
    tend, = world.log.of_type(SurplusBidPlaced)
    assert world.ledger.balance_of("MKR", "keeper:a") == 50 * WAD - tend.bid
    assert not [s for s in world.log.of_type(SwapExecuted) if s.trader == "keeper:a"]


def test_keepers_without_capital_or_with_auctions_off_do_not_bid() -> None:
    for keeper in ({"capital": {}}, {"flap": False, "flop": False}):
        for kind in ("surplus", "debt"):
            world, mk = world_with(keeper, **{kind: 10_000})
            world.run(0, 8)
            assert not world.log.of_type(SurplusBidPlaced) and not world.log.of_type(DebtBidPlaced)
            assert mk.flapper.bids or mk.flopper.bids     # the auctions are there, unbid
