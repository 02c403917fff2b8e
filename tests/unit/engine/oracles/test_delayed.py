"""DelayedOracle (Maker OSM): poke cadence, hop alignment, one-hop delay."""

from __future__ import annotations

import pytest

from defisim.engine.oracles import DelayedOracle, OracleNotReadyError

P = 10**8
BT = 12


def source(b: int) -> int:
    return (1000 + b) * P  # a distinct price every block


def test_delays_by_exactly_one_hop() -> None:
    t0 = 3600 * 500_000  # hop-aligned start
    osm = DelayedOracle("osm", "WETH", source, hop_s=3600)
    with pytest.raises(OracleNotReadyError):
        osm.latest_answer()  # nothing before the first poke
    first = osm.on_block(0, t0)
    # first poke: nxt = 1000 and, with no earlier reading, cur starts at that reading too
    assert [(r.price, r.reason) for r in first] == [(1000 * P, "initial")]
    assert osm.next_answer() == 1000 * P and osm.latest_answer() == 1000 * P
    recs = {b: osm.on_block(b, t0 + BT * b) for b in range(1, 901)}
    poked = [b for b, r in recs.items() if r]
    assert poked == [300, 600, 900]  # one hop = 300 blocks of 12 s
    # the price observed at a poke becomes the answer exactly one hop later
    assert [recs[b][0].price for b in poked] == [1000 * P, 1300 * P, 1600 * P]
    assert [recs[b][0].round_id for b in poked] == [2, 3, 4]
    assert {recs[b][0].reason for b in poked} == {"poke"}
    assert osm.next_answer() == 1900 * P
    assert osm.latest_round().updated_at == t0 + 900 * BT


def test_zzz_aligned_to_hop() -> None:
    t0 = 1_700_000_000  # t0 % 3600 == 800
    osm = DelayedOracle("osm", "WETH", source, hop_s=3600)
    osm.on_block(0, t0)
    assert osm.zzz == t0 - 800
    # next poke allowed at zzz + 3600 = t0 + 2800 -> first block at or after: 234 (t0 + 2808)
    assert not osm.pass_(t0 + 2799)
    assert osm.pass_(t0 + 2800)
    recs = {b: osm.on_block(b, t0 + BT * b) for b in range(1, 240)}
    assert [b for b, r in recs.items() if r] == [234]
    assert recs[234][0].price == 1000 * P
    assert osm.zzz == t0 + 2800
    assert osm.next_answer() == 1234 * P


def test_stopped_osm_does_not_poke() -> None:
    osm = DelayedOracle("osm", "WETH", source, hop_s=60)
    osm.on_block(0, 0)
    osm.stop()
    assert osm.on_block(10, 120) == []
    osm.start()
    assert [r.price for r in osm.on_block(11, 132)] == [1000 * P]
