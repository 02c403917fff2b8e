"""ChainlinkFeed: deviation, heartbeat, latency, one pending round at a time."""

from __future__ import annotations

import pytest

from defisim.engine.oracles import ChainlinkFeed, OracleError, OracleNotReadyError, RoundData
from defisim.engine.records import PriceUpdated

T0 = 1_700_000_000
BT = 12  # seconds per block
P = 10**8


def run(feed: ChainlinkFeed, blocks: range) -> dict[int, list[PriceUpdated]]:
    return {b: feed.on_block(b, T0 + BT * b) for b in blocks}


def path_feed(prices: dict[int, int], default: int = 3000 * P, **kw: int) -> ChainlinkFeed:
    return ChainlinkFeed("eth-usd", "WETH", lambda b: prices.get(b, default), **{
        "deviation_bps": 50, "heartbeat_s": 3600, **kw,
    })


def test_first_answer_lands_on_first_block() -> None:
    feed = path_feed({})
    with pytest.raises(OracleNotReadyError):
        feed.latest_answer()
    assert feed.version == 0
    recs = feed.on_block(0, T0)
    assert recs == [PriceUpdated(block=0, oracle="eth-usd", asset="WETH", price=3000 * P, round_id=1, reason="initial")]
    assert feed.latest_round() == RoundData(1, 3000 * P, T0)
    assert feed.version == 1


def test_deviation_triggers_with_latency_and_submission_price() -> None:
    # 0.5 % of 3000 = 15: 3014 is below, 3015 exactly at the threshold (>=) triggers
    feed = path_feed({1: 3014 * P, 2: 3015 * P, 3: 3100 * P, 4: 3100 * P})
    out = run(feed, range(0, 3))
    assert out[1] == []  # sub-threshold
    assert out[2] == []  # submitted at 2, in flight
    assert feed.pending is not None and feed.pending.lands_at_block == 3
    assert feed.latest_answer() == 3000 * P
    out |= run(feed, range(3, 4))
    # lands at 3 with the price seen at submission (3015), not the 3100 of block 3
    assert [(r.price, r.round_id, r.reason) for r in out[3]] == [(3015 * P, 2, "deviation")]
    assert feed.latest_round() == RoundData(2, 3015 * P, T0 + 3 * BT)
    out |= run(feed, range(4, 6))
    # in block 3 the 3100 deviates from the new answer -> next round lands at 4
    assert [(r.price, r.reason) for r in out[4]] == [(3100 * P, "deviation")]
    # back at 3000 from block 5 on: 3.2 % move -> submitted at 5
    assert out[5] == [] and feed.pending is not None and feed.pending.price == 3000 * P


def test_sub_threshold_moves_never_trigger_before_heartbeat() -> None:
    feed = path_feed({b: (3000 + (b % 2) * 14) * P for b in range(1, 299)})
    out = run(feed, range(0, 299))
    assert sum(len(v) for v in out.values()) == 1  # only the initial answer
    assert feed.pending is None


def test_heartbeat_triggers() -> None:
    feed = path_feed({})  # a flat price
    out = run(feed, range(0, 302))
    # updated at T0; heartbeat due when now - T0 >= 3600 -> block 300 submits, 301 lands
    assert all(out[b] == [] for b in range(1, 301))
    assert feed.pending is None
    assert [(r.block, r.price, r.round_id, r.reason) for r in out[301]] == [(301, 3000 * P, 2, "heartbeat")]
    assert feed.latest_round().updated_at == T0 + 301 * BT


def test_latency_blocks_lands_later() -> None:
    feed = path_feed({b: 2000 * P for b in range(10, 100)}, latency_blocks=3)
    out = run(feed, range(0, 20))
    assert out[10] == [] and out[11] == [] and out[12] == []
    assert [(r.block, r.price) for r in out[13]] == [(13, 2000 * P)]


def test_zero_latency_lands_same_block() -> None:
    feed = path_feed({5: 2000 * P}, latency_blocks=0)
    out = run(feed, range(0, 7))
    assert [(r.block, r.price) for r in out[5]] == [(5, 2000 * P)]
    assert [(r.block, r.price) for r in out[6]] == [(6, 3000 * P)]  # and straight back


def test_moves_while_pending_are_ignored_until_landing() -> None:
    # submitted at 1 (2900); at 2..3 the price crashes to 2000, the round still carries 2900
    prices = {1: 2900 * P, 2: 2000 * P, 3: 2000 * P, 4: 2000 * P, 5: 2000 * P, 6: 2000 * P}
    feed = path_feed(prices, latency_blocks=3)
    out = run(feed, range(0, 5))
    assert out[2] == [] and out[3] == []
    assert [(r.price, r.round_id) for r in out[4]] == [(2900 * P, 2)]
    # block 4 re-evaluates against 2900 and submits 2000, landing at 7
    assert feed.pending is not None and feed.pending.submitted_block == 4 and feed.pending.lands_at_block == 7
    out |= run(feed, range(5, 8))
    assert out[5] == [] and out[6] == []
    assert [(r.price, r.round_id) for r in out[7]] == [(2000 * P, 3)]


def test_stop_freezes_and_source_checked() -> None:
    feed = path_feed({3: 1000 * P})
    feed.on_block(0, T0)
    feed.stop()
    assert run(feed, range(1, 5)) == {1: [], 2: [], 3: [], 4: []}
    assert feed.latest_answer() == 3000 * P
    feed.start()
    bad = ChainlinkFeed("x", "WETH", lambda b: 0, deviation_bps=50, heartbeat_s=3600)
    with pytest.raises(OracleError):
        bad.on_block(0, T0)
    with pytest.raises(OracleError):
        ChainlinkFeed("x", "WETH", lambda b: P, deviation_bps=-1, heartbeat_s=3600)
