"""Oracle kinds wired through scenarios: the OSM delays liquidations by its hop; an AMM-spot or
TWAP oracle follows the pool, not the off-chain price."""

from __future__ import annotations

import defisim
from defisim.engine.records import PositionLiquidated, PriceUpdated
from tests.integration.scenarios import one_liquidation


def _run(oracle: dict) -> defisim.Result:
    data = one_liquidation()
    data["chain"]["blocks"] = 40
    data["markets"][0]["liquidity"] = {"WETH": "1000 WETH", "USDC": "2000000 USDC"}  # at 2,000
    data["oracles"][0] = {"name": "eth-usd", "asset": "WETH", **oracle}
    return defisim.simulate(defisim.scenario_from_dict(data))


def test_osm_publishes_one_hop_late_and_liquidation_waits_for_it() -> None:
    result = _run({"kind": "osm", "source": "reference", "hop": 60})  # 5 blocks
    rounds = [(r.block, r.price) for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd"]
    first_low = min(b for b, p in rounds if p == 1800 * 10**8)
    (liq,) = result.records.of_type(PositionLiquidated)
    assert liq.block == first_low
    # the reference moved at block 6 (t = 72 s); the OSM shows it only a hop after it read it
    timestamps = {b: result.world.now(b) for b, _ in rounds}
    assert timestamps[first_low] - result.world.now(6) >= 60
    assert first_low > 7  # later than the Chainlink feed of the same scenario (block 7)


def test_amm_spot_oracle_ignores_the_reference_move() -> None:
    result = _run({"kind": "amm-spot", "pool": "weth-usdc"})
    prices = {r.price for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd"}
    assert prices == {2000 * 10**8}  # nobody trades the pool, so its spot never moves
    assert result.records.of_type(PositionLiquidated) == []


def test_twap_oracle_reads_the_pool_average() -> None:
    result = _run({"kind": "twap", "pool": "weth-usdc", "window": 120})
    prices = [r.price for r in result.records.of_type(PriceUpdated) if r.oracle == "eth-usd"]
    assert prices and all(p == 2000 * 10**8 for p in prices)
    assert result.records.of_type(PositionLiquidated) == []
