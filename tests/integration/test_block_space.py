"""Block space: a crowded block pushes liquidations to later blocks and raises the base fee."""

from __future__ import annotations

import defisim
from defisim.engine.records import BlockBuilt, PositionLiquidated
from tests.integration.scenarios import one_liquidation


def crowded(gas_limit: int, private: bool = True) -> defisim.Result:
    data = one_liquidation()
    data["chain"].update({"gas_limit": gas_limit, "blocks": 30, "background_load": 0.0})
    data["markets"][0]["liquidity"] = {"WETH": "100000 WETH", "USDC": "180000000 USDC"}  # deep: no slippage limit
    aave = data["protocols"][0]
    aave["accounts"] = [
        {"name": f"u{i}", "supply": {"WETH": "10 WETH"}, "borrow": {"USDC": "16000 USDC"}} for i in range(12)
    ]
    data["agents"][0].update({"capital": {"USDC": "1000000 USDC"}, "max_txs_per_block": 20,
                              "private_bundles": private})
    return defisim.simulate(defisim.scenario_from_dict(data))


def test_gas_limit_spreads_liquidations_over_blocks() -> None:
    # 1M gas holds two 450k-gas liquidations per block
    result = crowded(1_000_000)
    liqs = result.records.of_type(PositionLiquidated)
    per_block: dict[int, int] = {}
    for r in liqs:
        per_block[r.block] = per_block.get(r.block, 0) + 1
    assert len(liqs) == 12
    assert max(per_block.values()) == 2
    assert min(per_block) == 7 and max(per_block) >= 12
    built = {b.block: b for b in result.records.of_type(BlockBuilt)}
    assert built[7].deferred == 10 and built[7].tx_gas == 900_000
    # a full block (900k of 1M, target 500k) raises the next base fee by 1/8 * 400/500
    assert built[8].base_fee == built[7].base_fee + built[7].base_fee * 400_000 // 500_000 // 8


def test_roomy_block_takes_every_liquidation_at_once() -> None:
    result = crowded(30_000_000)
    blocks = {r.block for r in result.records.of_type(PositionLiquidated)}
    assert blocks == {7}
