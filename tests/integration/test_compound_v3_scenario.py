"""The bundled Compound III scenario end to end: absorptions, the store front, the reserves.

``scenarios/compound_v3.yaml``: a USDC Comet with WETH (0.82 / 0.90 / 0.95) and WBTC
(0.70 / 0.77 / 0.95), 6M USDC of reserves against a 5M target; ETH -40 % over an hour, WBTC
-35 % in one block (block 151). Invariants (ledger conservation and the Comet books) are
checked every block here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import defisim
from defisim.engine.protocols.compound_v3 import (
    AbsorberPointsAccrued,
    CollateralBought,
    Comet,
    PositionAbsorbed,
)
from defisim.engine.protocols.compound_v3.constants import NO_DEBT
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    LiquidationRefused,
    PositionLiquidated,
    PriceUpdated,
)

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "compound_v3.yaml"
USDC = 10**6
TARGET = 5_000_000 * USDC


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    scenario = defisim.load_scenario(SCENARIO)
    scenario = defisim.with_overrides(scenario, {"run.check_invariants_every_blocks": 1})
    return defisim.simulate(scenario)


def comet_of(result: defisim.Result) -> Comet:
    assert result.world is not None
    comet = result.world.protocols["comet"]
    assert isinstance(comet, Comet)
    return comet


def test_underwater_accounts_are_absorbed_not_liquidated(result: defisim.Result) -> None:
    liqs = result.records.of_type(PositionLiquidated)
    absorbed = result.records.of_type(PositionAbsorbed)
    assert len(liqs) == len(absorbed) > 300
    assert [(r.block, r.account) for r in liqs] == [(r.block, r.account) for r in absorbed]
    assert all(r.protocol == "comet" and r.protocol_fee == 0 and r.profit_usd == 0 for r in liqs)
    assert all(r.health_before < 10**18 and r.health_after == NO_DEBT for r in liqs)
    assert {r.liquidator for r in liqs} <= {"keeper-a", "keeper-b"}
    assert len({r.account for r in liqs}) == len(liqs)  # an absorbed account is done
    assert result.summary["protocols"]["comet"]["liquidations"] == len(liqs)
    comet = comet_of(result)
    now = result.world.now()  # type: ignore[union-attr]
    for r in absorbed:
        assert comet.borrow_balance_of(now, r.account) == 0
        assert all(comet.collateral_balance_of(r.account, a) == 0 for a in ("WETH", "WBTC"))


def test_absorption_credits_collateral_at_the_liquidation_factor(result: defisim.Result) -> None:
    for r in result.records.of_type(PositionAbsorbed):
        # deltaValue = Σ mulFactor(value, 0.95e18); deltaBalance = divPrice(deltaValue, 1e8, 1e6)
        # (the USDC feed reads 1.00); the balance becomes max(0, -debt + deltaBalance)
        credited = sum(value * 95 // 100 for _, _, value in r.collateral) * USDC // 10**8
        assert r.base_paid_out == max(r.debt_absorbed, credited)
        assert r.shortfall == max(0, r.debt_absorbed - r.collateral_value_usd * USDC // 10**8)


def test_wbtc_absorptions_start_when_the_gap_round_lands(result: defisim.Result) -> None:
    gap = next(r for r in result.records.of_type(PriceUpdated) if r.oracle == "btc-usd" and r.price <= 39_000 * 10**8)
    assert gap.block == 152  # the venue moves at block 151, the round lands one block later
    btc = [r for r in result.records.of_type(PositionLiquidated) if r.collateral_asset == "WBTC"]
    assert min(r.block for r in btc) == gap.block


def test_shortfall_is_drawn_from_reserves(result: defisim.Result) -> None:
    realized = result.records.of_type(BadDebtRealized)
    drawn = result.records.of_type(InsuranceFundDrawn)
    social = result.records.of_type(BadDebtSocialized)
    assert realized, "the WBTC gap should leave some accounts under water"
    # the gap takes WBTC accounts below their debt: health < 0.77 / 0.65 = 1.185 before it
    assert {r.account.split("-")[0] for r in realized} == {"btc"}
    assert sum(r.amount for r in realized) == sum(r.amount for r in drawn) + sum(r.amount for r in social)
    absorbed = {r.account: r for r in result.records.of_type(PositionAbsorbed)}
    assert all(absorbed[r.account].shortfall == r.amount for r in realized)
    summary = result.summary["protocols"]["comet"]
    # 6M of reserves (plus the absorbed collateral) cover every shortfall here
    assert summary["bad_debt_usd"] == summary["insurance_fund_drawn_usd"] > 0
    assert summary["socialized_usd"] == 0


def test_reserves_dip_below_zero_and_the_store_front_refills_them(result: defisim.Result) -> None:
    absorbed = result.records.of_type(PositionAbsorbed)
    bought = result.records.of_type(CollateralBought)
    assert absorbed[0].reserves_before == pytest.approx(6_000_000 * USDC, rel=1e-3)
    assert min(r.reserves_after for r in absorbed) < 0  # the debt taken over exceeds the reserves
    assert len(bought) > 50
    assert all(b.reserves_before < TARGET for b in bought)  # sold only below targetReserves
    assert all(b.reserves_after == b.reserves_before + b.base_amount for b in bought)
    assert all(b.proceeds > b.base_amount for b in bought)  # buyers only buy at a profit
    assert {b.buyer for b in bought} == {"buyer-x", "buyer-y"}
    comet = comet_of(result)
    now = result.world.now()  # type: ignore[union-attr]
    # the reserves are back above the target: the sale closed and the rest is hodled
    assert comet.get_reserves(now) >= TARGET
    assert comet.get_collateral_reserves("WBTC") > 0
    last = bought[-1]
    assert last.reserves_after >= TARGET or comet.get_collateral_reserves(last.asset) < 10**4


def test_purchases_are_at_the_store_front_discount(result: defisim.Result) -> None:
    # discount = 0.5 * (1 - 0.95) = 2.5 %: collateral = base * 1e8 * scale / (price * 0.975) / 1e6
    prices = {"WETH": [], "WBTC": []}  # type: dict[str, list[tuple[int, int]]]
    for r in result.records.of_type(PriceUpdated):
        if r.oracle in ("eth-usd", "btc-usd"):
            prices[r.asset].append((r.block, r.price))
    for b in result.records.of_type(CollateralBought):
        price = [p for blk, p in prices[b.asset] if blk <= b.block][-1]
        scale = 10**18 if b.asset == "WETH" else 10**8
        assert b.collateral_amount == 10**8 * b.base_amount * scale // (price * 975 // 1000) // USDC


def test_keepers_compete_for_the_same_accounts(result: defisim.Result) -> None:
    liqs = result.records.of_type(PositionLiquidated)
    assert sum(r.liquidator == "keeper-a" for r in liqs) > len(liqs) // 2  # the higher tip goes first
    reverted = [r for r in result.records.of_type(LiquidationRefused) if r.liquidator == "keeper-b"]
    assert reverted and all(r.reason.startswith("REVERTED: NotLiquidatable") for r in reverted)
    assert result.summary["agents"]["keeper-b"]["profit_usd"] < 0  # it paid for the reverts
    points = result.records.of_type(AbsorberPointsAccrued)
    assert sum(p.accounts for p in points) == len(liqs)
    comet = comet_of(result)
    for name in ("keeper-a", "keeper-b"):
        mine = [p for p in points if p.absorber == name]
        final = comet.liquidator_points(f"absorber:{name}")
        assert final.num_absorbs == len(mine)
        assert final.num_absorbed == sum(p.accounts for p in mine)
        assert final.approx_spend == sum(p.gas_used * p.base_fee for p in mine)


def test_books_and_ledger_balance_at_the_end(result: defisim.Result) -> None:
    world = result.world
    assert world is not None
    assert world.invariant_errors() == []
    comet = comet_of(result)
    for asset in ("WETH", "WBTC"):
        held = world.ledger.balance_of(asset, "comet")
        assert held == comet.totals_collateral(asset) + comet.get_collateral_reserves(asset)


def test_same_seed_same_records() -> None:
    scenario = defisim.load_scenario(SCENARIO)
    a = defisim.simulate(scenario, blocks=250)
    b = defisim.simulate(scenario, blocks=250)
    assert [r.as_dict() for r in a.records] == [r.as_dict() for r in b.records]
    assert a.records.of_type(PositionAbsorbed)
