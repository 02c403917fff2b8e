"""The bundled perp scenario end to end: liquidations into the AMM, a draining insurance fund,
auto-deleveraging, funding, conservation (checked every block), and ``defisim run``.

``scenarios/perp.yaml``: ETH-PERP and BTC-PERP (IMF 5 %, MMF 3 %), 1.5 % liquidation fee to a
1.5M USDC insurance fund, staged liquidation above 100k USDC; ETH falls 35 % in an hour with a
6 % one-block gap at minute 40, BTC 12 %.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

import defisim
from defisim.cli.main import app
from defisim.engine.protocols.perp import (
    DeleveragingFill,
    FundingPaid,
    LiquidationFilled,
    PerpExchange,
    PositionsDeleveraged,
)
from defisim.engine.records import (
    BadDebtRealized,
    BadDebtSocialized,
    InsuranceFundDrawn,
    InsuranceFundFunded,
    PositionLiquidated,
    SwapExecuted,
)
from defisim.scenario.assemble import build_world

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "perp.yaml"
WAD = 10**18
USDC = 10**6


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    scenario = defisim.load_scenario(SCENARIO)
    scenario = defisim.with_overrides(scenario, {"run.check_invariants_every_blocks": 1})
    return defisim.simulate(scenario)


def exchange(result: defisim.Result) -> PerpExchange:
    assert result.world is not None
    ex = result.world.protocols["perpdex"]
    assert isinstance(ex, PerpExchange)
    return ex


def test_liquidations_close_into_the_amm_in_both_markets(result: defisim.Result) -> None:
    liqs = result.records.of_type(PositionLiquidated)
    assert len(liqs) > 500
    assert all(r.protocol == "perpdex" and r.liquidator == "engine" for r in liqs)
    assert all(r.health_before < WAD for r in liqs)        # only below maintenance
    assert all(r.collateral_asset == r.debt_asset == "USDC" for r in liqs)
    fills = result.records.of_type(LiquidationFilled)
    assert {f.market for f in fills if f.route == "venue"} == {"ETH-PERP", "BTC-PERP"}
    # the vault's hedges are real swaps: the pools moved
    vault_swaps = [s for s in result.records.of_type(SwapExecuted) if s.trader == "vault:perpdex"]
    assert {s.pool for s in vault_swaps} == {"weth-usdc", "wbtc-usdc"}
    assert result.summary["pools"]["weth-usdc"]["min_price"] < result.summary["oracles"]["eth-usd"]["min_price"]
    summary = result.summary["protocols"]["perpdex"]
    assert summary["liquidations"] == len(liqs)
    assert summary["debt_repaid_usd"] > 10_000_000


def test_large_positions_step_down_20_percent_at_least_30_seconds_apart(result: defisim.Result) -> None:
    steps: dict[str, list[int]] = defaultdict(list)
    for f in result.records.of_type(LiquidationFilled):
        if f.staged:
            steps[f.account].append(f.block)
            assert f.cooldown_until == result.world.now(f.block) + 30  # type: ignore[union-attr]
    assert steps
    for blocks in steps.values():
        assert all(b - a >= 3 for a, b in pairwise(blocks))  # 3 blocks = 36 s >= 30 s


def test_the_fund_drains_then_adl_takes_over(result: defisim.Result) -> None:
    ex = exchange(result)
    draws = result.records.of_type(InsuranceFundDrawn)
    funded = sum(r.amount for r in result.records.of_type(InsuranceFundFunded))
    drawn = sum(r.amount for r in draws)
    # 1.5M to start, plus every liquidation fee; what is left at the end is the last fees
    assert ex.fund_balance() == 1_500_000 * USDC + funded - drawn
    assert drawn > 1_500_000 * USDC
    assert ex.fund_balance() < 100_000 * USDC
    adl = result.records.of_type(PositionsDeleveraged)
    assert adl and any(r.haircut for r in adl)
    assert min(r.block for r in adl) > min(r.block for r in draws)


def test_every_loss_lands_in_exactly_one_place(result: defisim.Result) -> None:
    bad = sum(r.amount for r in result.records.of_type(BadDebtRealized))
    drawn = sum(r.amount for r in result.records.of_type(InsuranceFundDrawn))
    adl = sum(r.haircut for r in result.records.of_type(PositionsDeleveraged))
    social = sum(r.amount for r in result.records.of_type(BadDebtSocialized))
    assert bad == drawn + adl + social > 0
    summary = result.summary["protocols"]["perpdex"]
    assert summary["bad_debt_usd"] == pytest.approx(
        summary["insurance_fund_drawn_usd"] + adl / USDC + summary["socialized_usd"], abs=0.02)


def test_adl_closes_opposite_positions_only(result: defisim.Result) -> None:
    adl = {(r.block, r.market, r.account): r for r in result.records.of_type(PositionsDeleveraged)}
    fills = result.records.of_type(DeleveragingFill)
    assert fills
    for f in fills:
        liquidated = adl[(f.block, f.market, f.against)]
        assert f.size * liquidated.size < 0
        assert f.account != f.against
    assert sum(f.haircut for f in fills) == sum(r.haircut for r in adl.values())


def test_funding_is_paid_hourly_from_the_amm_premium(result: defisim.Result) -> None:
    paid = result.records.of_type(FundingPaid)
    assert [(r.block, r.market) for r in paid] == [
        (b, m) for b in (300, 600, 900) for m in ("ETH-PERP", "BTC-PERP")]
    assert all(r.samples == 60 for r in paid)
    # liquidation selling keeps the pools under the oracle in the crash hour: shorts pay longs
    first = [r for r in paid if r.block == 300]
    assert all(r.premium < 0 and r.rate < 0 for r in first)
    assert all(0 <= r.paid - r.received <= r.positions for r in paid)


def test_conservation_at_the_end(result: defisim.Result) -> None:
    world = result.world
    assert world is not None
    assert world.invariant_errors() == []
    ex = exchange(result)
    start = build_world(defisim.load_scenario(SCENARIO))
    # nothing was deposited or withdrawn after block 0: what the exchange and its fund hold is
    # what they held at the start, redistributed
    before = (start.ledger.balance_of("USDC", "perpdex") + start.ledger.balance_of("USDC", "insurance:perpdex"))
    after = world.ledger.balance_of("USDC", "perpdex") + ex.fund_balance()
    assert before == after
    books = sum(ex.collateral(k) - sum(e for _, e in ex.positions(k).values()) for k in ex.accounts())
    assert books + ex.fund_balance() + ex.dust == after
    for market in ex.markets():
        long, short = ex.open_interest(market)
        assert long == short


def test_same_seed_same_records(result: defisim.Result) -> None:
    again = defisim.simulate(defisim.load_scenario(SCENARIO), blocks=150)
    first = [r for r in result.records if r.block <= 150 and r.kind != "HealthSampled"]
    second = [r for r in again.records if r.kind != "HealthSampled"]
    assert first == second


def test_defisim_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "pp"
    run = CliRunner().invoke(app, ["run", str(SCENARIO), "--out", str(out), "--blocks", "200", "--quiet"])
    assert run.exit_code == 0, run.output
    assert "perpdex" in run.output
    for name in ("records.parquet", "records.csv", "summary.json", "plots/prices.png",
                 "plots/health.png", "plots/solvency.png"):
        assert (out / name).is_file(), name
