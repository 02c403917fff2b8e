"""The bundled Morpho Blue scenario end to end: liquidations, bad debt, conservation.

``scenarios/morpho_blue.yaml``: WETH/USDC and WBTC/USDC markets at LLTV 0.86 (LIF
1/0.958 = 1.04384), ETH -40 % over an hour, WBTC -25 % in one block (block 151). Invariants are
checked every block here (ledger conservation and the Morpho books).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import defisim
from defisim.engine.protocols.morpho_blue import MorphoBlue
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    LiquidationRefused,
    PositionLiquidated,
    PriceUpdated,
)

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "morpho_blue.yaml"
LIF = 1_043_841_336_116_910_229 / 10**18


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    scenario = defisim.load_scenario(SCENARIO)
    scenario = defisim.with_overrides(scenario, {"run.check_invariants_every_blocks": 1})
    return defisim.simulate(scenario)


def test_liquidations_happen_in_both_markets(result: defisim.Result) -> None:
    liqs = result.records.of_type(PositionLiquidated)
    markets = {r.account.split("/")[0] for r in liqs}
    assert markets == {"weth-usdc", "wbtc-usdc"}
    assert all(r.protocol == "morpho" and r.protocol_fee == 0 for r in liqs)
    assert all(r.health_before < 10**18 for r in liqs)  # only unhealthy positions
    assert result.summary["protocols"]["morpho"]["liquidations"] == len(liqs) > 100


def test_wbtc_liquidations_start_when_the_gap_round_lands(result: defisim.Result) -> None:
    rounds = [r for r in result.records.of_type(PriceUpdated) if r.oracle == "btc-usd"]
    gap = next(r for r in rounds if r.price <= 45_000 * 10**8)
    assert gap.block == 152  # the venue moves at block 151, the round lands one block later
    btc = [r for r in result.records.of_type(PositionLiquidated) if r.account.startswith("wbtc-usdc/")]
    assert min(r.block for r in btc) == gap.block


def test_seized_value_is_repaid_value_times_lif(result: defisim.Result) -> None:
    """seized = repaid * LIF / price in liquidate, so in USD at the same feeds the ratio is LIF
    (up to integer rounding), whether or not the liquidation also wrote off bad debt."""
    for r in result.records.of_type(PositionLiquidated):
        if r.debt_repaid_usd >= 1_000 * 10**8:
            assert r.collateral_seized_usd / r.debt_repaid_usd == pytest.approx(LIF, abs=2e-5)


def test_bad_debt_is_realised_and_socialised_at_once(result: defisim.Result) -> None:
    realized = result.records.of_type(BadDebtRealized)
    socialized = result.records.of_type(BadDebtSocialized)
    assert realized, "the WBTC gap should leave some positions under water"
    assert [(r.block, r.asset, r.amount) for r in realized] == [(r.block, r.asset, r.amount) for r in socialized]
    summary = result.summary["protocols"]["morpho"]
    assert summary["bad_debt_usd"] == summary["socialized_usd"] > 0
    # the insolvent positions are WBTC ones: health < 0.86 / 0.75 = 1.147 before the gap
    assert {r.account.split("/")[0] for r in realized} == {"wbtc-usdc"}


def test_suppliers_bear_the_loss(result: defisim.Result) -> None:
    world = result.world
    assert world is not None
    morpho = world.protocols["morpho"]
    assert isinstance(morpho, MorphoBlue)
    now = world.now()
    lost = sum(r.amount for r in result.records.of_type(BadDebtRealized))
    btc = morpho.supply_assets(now, "wbtc-usdc", "supplier:morpho")
    # 30M supplied; three hours of 6 % interest on the borrowed part is far less than the loss
    assert btc < 30_000_000 * 10**6
    assert 30_000_000 * 10**6 - btc <= lost
    # no bad debt in the WETH market: its supplier only gained interest
    assert morpho.supply_assets(now, "weth-usdc", "supplier:morpho") > 60_000_000 * 10**6


def test_books_and_ledger_balance_at_the_end(result: defisim.Result) -> None:
    world = result.world
    assert world is not None
    assert world.invariant_errors() == []
    morpho = world.protocols["morpho"]
    snap = morpho.snapshot(world.now())
    for m in snap.markets:
        assert m.total_borrow_assets <= m.total_supply_assets
        assert sum(p.borrow_shares for p in snap.positions if p.market == m.market) == m.total_borrow_shares
    # cash = supply - borrow (+ collateral held) per token, to the unit
    usdc = sum(m.total_supply_assets - m.total_borrow_assets for m in snap.markets)
    assert world.ledger.balance_of("USDC", "morpho") == usdc + morpho.surplus("USDC")
    for token, market in (("WETH", "weth-usdc"), ("WBTC", "wbtc-usdc")):
        held = sum(p.collateral for p in snap.positions if p.market == market)
        assert world.ledger.balance_of(token, "morpho") == held


def test_refusals_are_records_not_errors(result: defisim.Result) -> None:
    refused = result.records.of_type(LiquidationRefused)
    # competitors that arrive after the first liquidator find the position healthy again
    assert any("position is healthy" in r.reason for r in refused)
