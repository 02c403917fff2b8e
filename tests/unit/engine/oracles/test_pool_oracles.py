"""TwapOracle and AmmSpotOracle over a Uniswap V2 pool."""

from __future__ import annotations

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.markets.uniswap_v2 import Q112, UniswapV2Pool
from defisim.engine.oracles import AmmSpotOracle, OracleError, OracleNotReadyError, TwapOracle

E18 = 10**18
E6 = 10**6
P = 10**8


def make_pool(now: int = 1000) -> UniswapV2Pool:
    ledger = Ledger({"WETH": 18, "USDC": 6})
    ledger.mint("WETH", "lp", 10_000 * E18)
    ledger.mint("USDC", "lp", 10_000_000 * E6)
    pool = UniswapV2Pool("weth-usdc", "WETH", "USDC", ledger)
    pool.add_liquidity("lp", 1000 * E18, 2_000_000 * E6, now=now)  # $2000
    return pool


def test_twap_is_time_weighted_mean_of_spot() -> None:
    pool = make_pool(now=1000)
    twap = TwapOracle("twap", "WETH", pool, window_s=600)
    first = twap.on_block(0, 1000)
    assert [(r.price, r.reason) for r in first] == [(2000 * P, "initial")]
    # at t=1200 the price jumps to $3000 (1000 WETH / 3M USDC)
    pool.add_liquidity("lp", 0, 1_000_000 * E6, now=1200)
    assert pool.spot_price_e8("WETH", P) == 3000 * P
    assert twap.on_block(1, 1500) == []  # window not elapsed
    assert twap.latest_answer() == 2000 * P
    recs = twap.on_block(2, 1600)
    # mean over [1000, 1600]: (2000 * 200 s + 3000 * 400 s) / 600 s = 2666.666... -> nearest 8 dp
    assert [(r.price, r.round_id, r.reason) for r in recs] == [(266_666_666_667, 2, "window")]
    # the UQ112x112 average itself, from the accumulators
    a0 = ((2_000_000 * E6 * Q112 // (1000 * E18)) * 200 + (3_000_000 * E6 * Q112 // (1000 * E18)) * 400) // 600
    assert twap.price0_average == a0
    assert twap.consult("WETH", E18) == a0 * E18 // Q112 == 2_666_666_666
    # next window: flat at $3000 -> exactly 3000
    assert twap.on_block(3, 2200)[0].price == 3000 * P


def test_twap_on_token1_and_quote_price_callable() -> None:
    pool = make_pool()
    eth_price = [2000 * P]
    twap = TwapOracle("usdc-twap", "USDC", pool, window_s=60, quote_price=lambda: eth_price[0])
    assert twap.on_block(0, 1000)[0].price == P  # 1 USDC = 1/2000 WETH at $2000
    eth_price[0] = 1000 * P
    assert twap.on_block(1, 1060)[0].price == P // 2


def test_twap_without_priming_waits_a_window() -> None:
    pool = make_pool()
    twap = TwapOracle("twap", "WETH", pool, window_s=600, prime_with_spot=False)
    assert twap.on_block(0, 1000) == []
    with pytest.raises(OracleNotReadyError):
        twap.latest_answer()
    assert twap.on_block(1, 1599) == []
    assert [(r.price, r.round_id) for r in twap.on_block(2, 1600)] == [(2000 * P, 1)]
    with pytest.raises(OracleError):
        TwapOracle("bad", "DAI", pool, window_s=600)


def test_amm_spot_sampled_per_block() -> None:
    pool = make_pool()
    spot = AmmSpotOracle("spot", "WETH", pool)
    assert [(r.price, r.reason) for r in spot.on_block(0, 1000)] == [(2000 * P, "initial")]
    assert spot.on_block(1, 1012) == []  # unchanged -> nothing new
    v = spot.version
    pool.ledger.mint("WETH", "whale", 100 * E18)
    pool.swap_exact_in(1, 1012, "whale", "WETH", 100 * E18)
    assert spot.latest_answer() == 2000 * P  # sampled mode: not before the next ORACLE phase
    assert spot.version == v
    recs = spot.on_block(2, 1024)
    expected = pool.reserve1 * E18 * P // (pool.reserve0 * E6)
    assert [(r.price, r.round_id, r.reason) for r in recs] == [(expected, 2, "spot")]
    assert expected < 2000 * P * 100 // 120  # ~ $1652: 100 WETH dumped into 1000
    assert spot.version == v + 1


def test_amm_spot_live_reads_through() -> None:
    pool = make_pool()
    spot = AmmSpotOracle("spot", "WETH", pool, live=True)
    spot.on_block(0, 1000)
    v = spot.version
    pool.ledger.mint("USDC", "attacker", 2_000_000 * E6)
    pool.swap_exact_in(1, 1012, "attacker", "USDC", 2_000_000 * E6)  # same block, before the read
    pumped = spot.latest_answer()
    assert pumped == pool.spot_price_e8("WETH", P) > 7000 * P
    assert spot.version == v + 1
    assert spot.latest_round().updated_at == 1012
    # the next ORACLE phase records that round once, without bumping it again
    recs = spot.on_block(2, 1024)
    assert [(r.price, r.round_id) for r in recs] == [(pumped, spot.latest_round().round_id)]
    assert spot.version == v + 1
    assert spot.on_block(3, 1036) == []
