"""EIP-1559 base fee and priority-fee ordering within the gas limit."""

from __future__ import annotations

import numpy as np
import pytest

from defisim.engine.blockspace import BlockBuilder, Tx, next_base_fee

GWEI = 10**9


def test_base_fee_unchanged_at_target() -> None:
    assert next_base_fee(10 * GWEI, 15_000_000, 15_000_000) == 10 * GWEI


def test_base_fee_full_block_rises_one_eighth() -> None:
    # delta = base * (used - target) // target // 8 = 10 gwei * 15M // 15M // 8 = 1.25 gwei
    assert next_base_fee(10 * GWEI, 30_000_000, 15_000_000) == 11_250_000_000


def test_base_fee_empty_block_falls_one_eighth() -> None:
    assert next_base_fee(10 * GWEI, 0, 15_000_000) == 8_750_000_000


def test_base_fee_rises_at_least_one_wei() -> None:
    assert next_base_fee(7, 15_000_001, 15_000_000) == 8


def _tx(name: str, gas: int, tip: int, log: list[str], ok: bool = True, protected: bool = False) -> Tx:
    def run() -> bool:
        log.append(name)
        return ok

    return Tx(name, "test", gas, tip, run, revert_protected=protected)


def test_higher_priority_fee_runs_first_and_overflow_is_deferred() -> None:
    log: list[str] = []
    builder = BlockBuilder(1_000_000, 10 * GWEI, background_tip=GWEI, rng=np.random.default_rng(0))
    txs = [_tx("low", 400_000, 2 * GWEI, log), _tx("high", 400_000, 5 * GWEI, log),
           _tx("mid", 400_000, 3 * GWEI, log)]
    result = builder.build(txs, background_demand=0)
    assert log == ["high", "mid"]
    assert [t.sender for t in result.deferred] == ["low"]
    assert result.tx_gas == 800_000
    # used 800k of target 500k: base += 10 gwei * 300k // 500k // 8
    assert builder.base_fee == 10 * GWEI + 10 * GWEI * 300_000 // 500_000 // 8


def test_background_takes_space_before_low_tippers_only() -> None:
    log: list[str] = []
    builder = BlockBuilder(1_000_000, GWEI, background_tip=GWEI, rng=np.random.default_rng(0))
    txs = [_tx("rich", 300_000, 2 * GWEI, log), _tx("cheap", 300_000, GWEI // 2, log)]
    result = builder.build(txs, background_demand=900_000)
    # rich goes first (300k), background fills the remaining 700k, cheap is left out
    assert log == ["rich"]
    assert result.background_gas == 700_000
    assert [t.sender for t in result.deferred] == ["cheap"]


def test_ties_are_broken_by_the_seeded_shuffle_deterministically() -> None:
    def order(seed: int) -> list[str]:
        log: list[str] = []
        builder = BlockBuilder(10_000_000, GWEI, 0, np.random.default_rng(seed))
        builder.build([_tx(n, 21_000, GWEI, log) for n in "abcdefgh"], 0)
        return log

    assert order(1) == order(1)
    assert len({tuple(order(s)) for s in range(8)}) > 1


def test_reverted_public_tx_uses_gas_protected_tx_does_not() -> None:
    log: list[str] = []
    builder = BlockBuilder(1_000_000, GWEI, 0, np.random.default_rng(0))
    result = builder.build(
        [_tx("public", 300_000, 3, log, ok=False), _tx("bundle", 300_000, 2, log, ok=False, protected=True)],
        0,
    )
    assert log == ["public", "bundle"]
    assert [t.sender for t in result.included] == ["public"]
    assert result.succeeded == (False,)
    assert result.tx_gas == 300_000


@pytest.mark.parametrize("demand", [0, 500_000, 5_000_000])
def test_block_never_exceeds_gas_limit(demand: int) -> None:
    log: list[str] = []
    builder = BlockBuilder(1_000_000, GWEI, GWEI, np.random.default_rng(3))
    txs = [_tx(str(i), 150_000, (i % 4) * GWEI, log) for i in range(20)]
    result = builder.build(txs, demand)
    assert result.tx_gas + result.background_gas <= 1_000_000
    assert len(result.included) + len(result.deferred) == 20
