"""AdaptiveCurveIrm inside Morpho Blue: interest accrues as on chain, and its storage
(``rateAtTarget``) changes exactly when the contract's would.

The expected rates are Morpho's own numbers: ``AdaptiveCurveIrmLib.getBorrowRate`` of
``@morpho-org/blue-sdk`` 6.4.0 for the utilisation, start rate at target and elapsed time of each
step (``test_adaptive_curve_irm_blue_sdk.py`` checks the mirror against it on thousands more).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from morpho_env import MARKET, T0, MorphoEnv  # type: ignore[import-not-found]
from test_morpho_scenario_kind import SMALL  # type: ignore[import-not-found]

import defisim
from defisim.engine.protocols.morpho_blue import (
    AdaptiveCurveIrm,
    FixedPriceOracle,
    Market,
    MarketParams,
    MorphoError,
)
from defisim.engine.protocols.morpho_blue.adaptive_curve_irm import (
    INITIAL_RATE_AT_TARGET,
    MAX_RATE_AT_TARGET,
    MIN_RATE_AT_TARGET,
    adaptive_borrow_rate,
    utilization,
)
from defisim.engine.protocols.morpho_blue.mathlib import w_mul_down, w_taylor_compounded
from defisim.engine.protocols.morpho_blue.restore import morpho_from_snapshot
from defisim.errors import ScenarioError
from defisim.scenario.assemble import build_world

USDC = 10**6
WETH = 10**18
DAYS_30 = 30 * 86400
YEAR = 365 * 86400
# blue-sdk AdaptiveCurveIrmLib.getBorrowRate(util, INITIAL_RATE_AT_TARGET, 30 days):
# (avgBorrowRate, endRateAtTarget)
AT_95 = (11_388_334_187, 9_900_118_888)  # utilisation 95 %: the rate at target rises
AT_50 = (415_344_356, 203_727_688)  # utilisation 50 %: it falls


def _env(borrow_usdc: int, irm: AdaptiveCurveIrm | None = None) -> tuple[MorphoEnv, AdaptiveCurveIrm]:
    irm = irm or AdaptiveCurveIrm()
    env = MorphoEnv(irm=irm)
    env.lend("lp", 1_000_000 * USDC)
    env.collateral("bob", 500 * WETH)
    env.borrow("bob", borrow_usdc * USDC)
    return env, irm


def test_create_market_is_the_first_interaction() -> None:
    irm = AdaptiveCurveIrm()
    assert irm.rate_at_target(MARKET) == 0
    MorphoEnv(irm=irm)
    assert irm.rate_at_target(MARKET) == INITIAL_RATE_AT_TARGET == 1_268_391_679


@pytest.mark.parametrize(("borrow", "expected"), [(950_000, AT_95), (500_000, AT_50)])
def test_interest_and_rate_at_target_after_30_days(borrow: int, expected: tuple[int, int]) -> None:
    env, irm = _env(borrow)
    before = env.morpho.market(MARKET)
    assert utilization(before) == borrow * 10**18 // 1_000_000
    assert irm.rate_at_target(MARKET) == INITIAL_RATE_AT_TARGET  # same-second actions: no IRM call
    now = T0 + DAYS_30
    avg, end = expected
    interest = w_mul_down(before.total_borrow_assets, w_taylor_compounded(avg, DAYS_30))
    preview = env.morpho.accrued_market(now, MARKET)
    assert preview.total_borrow_assets == before.total_borrow_assets + interest
    env.morpho.accrue_interest(now, MARKET)
    after = env.morpho.market(MARKET)
    assert after == preview and after.last_update == now
    assert irm.rate_at_target(MARKET) == end
    # the direction: up above the 90 % target, down below it
    assert (end > INITIAL_RATE_AT_TARGET) == (borrow > 900_000)
    env.check()


def test_views_and_quotes_leave_the_irm_storage_alone() -> None:
    env, irm = _env(950_000)
    later = T0 + YEAR
    env.usd["WETH"] = 2000 * 10**8  # bob becomes liquidatable
    m = env.morpho
    m.accrued_market(later, MARKET)
    m.health_factor(later, MARKET, "bob")
    m.is_healthy(later, MARKET, "bob")
    m.borrow_assets(later, MARKET, "bob")
    m.supply_assets(later, MARKET, "lp")
    m.liquidation_candidates(later)
    m.health_factors_estimate(later)
    quote = m.quote_liquidation(later, "WETH", "USDC", f"{MARKET}/bob", 10**12)
    assert quote.debt_repaid > 0  # type: ignore[union-attr]
    seized, shares = m.liquidation_args(later, MARKET, "bob", 10**11)
    assert irm.rate_at_target(MARKET) == INITIAL_RATE_AT_TARGET
    assert irm.borrow_rate_view(m.market_params(MARKET), m.market(MARKET), later) > 0
    assert irm.rate_at_target(MARKET) == INITIAL_RATE_AT_TARGET
    # a liquidation is a transaction: it accrues, and the IRM stores
    env.ledger.mint("USDC", "liq", 10**13)
    m.liquidate(later, "liq", MARKET, "bob", seized, shares)
    assert irm.rate_at_target(MARKET) == adaptive_borrow_rate(95 * 10**16, INITIAL_RATE_AT_TARGET, YEAR)[1]
    assert irm.rate_at_target(MARKET) == MAX_RATE_AT_TARGET  # a year at 95 %: clamped at 200 %/year


def test_storage_changes_only_on_committed_accruals_with_elapsed_time() -> None:
    env, irm = _env(950_000)
    m = env.morpho
    t1, t2 = T0 + DAYS_30, T0 + 2 * DAYS_30
    m.accrue_interest(t1, MARKET)
    r1 = irm.rate_at_target(MARKET)
    assert r1 == AT_95[1]
    # same second: elapsed 0, Morpho does not call the IRM, whatever the utilisation does
    env.borrow("bob", 40_000 * USDC, now=t1)
    m.accrue_interest(t1, MARKET)
    assert irm.rate_at_target(MARKET) == r1
    stored = m.market(MARKET)
    # a call that reverts at t2 after accruing (too little collateral) leaves market and IRM as they were
    with pytest.raises(MorphoError, match="insufficient collateral"):
        m.borrow(t2, "bob", MARKET, 10**12, 0)
    assert irm.rate_at_target(MARKET) == r1 and m.market(MARKET) == stored
    # so does a view at t2; the next committed action at t2 stores from the t1 state
    m.accrued_market(t2, MARKET)
    assert irm.rate_at_target(MARKET) == r1
    avg, end = adaptive_borrow_rate(utilization(stored), r1, t2 - t1)
    env.lend("lp", USDC, now=t2)
    assert irm.rate_at_target(MARKET) == end != r1
    assert m.market(MARKET).total_borrow_assets == stored.total_borrow_assets + w_mul_down(
        stored.total_borrow_assets, w_taylor_compounded(avg, t2 - t1))


def test_one_irm_keeps_one_rate_at_target_per_market() -> None:
    env, irm = _env(950_000)
    m = env.morpho
    m.create_market(T0, MarketParams("other", "USDC", "WETH", env.oracle, irm, 86 * 10**16))
    m.accrue_interest(T0 + DAYS_30, MARKET)
    assert irm.rate_at_target(MARKET) == AT_95[1]
    assert irm.rate_at_target("other") == INITIAL_RATE_AT_TARGET
    m.accrue_interest(T0 + DAYS_30, "other")  # empty market: utilisation 0, the rate falls
    assert irm.rate_at_target("other") == adaptive_borrow_rate(0, INITIAL_RATE_AT_TARGET, DAYS_30)[1]
    assert irm.rate_at_target("other") < INITIAL_RATE_AT_TARGET
    assert irm.rates_at_target() == {MARKET: AT_95[1], "other": irm.rate_at_target("other")}


def test_restored_model_keeps_the_stored_rate_at_target() -> None:
    """A model rebuilt from a snapshot (as the fork does) starts from the IRM's stored value:
    createMarket's IRM call at the market's own lastUpdate changes nothing."""
    env, _ = _env(950_000)
    env.morpho.accrue_interest(T0 + DAYS_30, MARKET)
    snap = env.morpho.snapshot(T0 + DAYS_30)
    stored = 2 * INITIAL_RATE_AT_TARGET + 7
    irm = AdaptiveCurveIrm(rate_at_target={MARKET: stored})
    params = MarketParams(MARKET, "USDC", "WETH", FixedPriceOracle(10**24), irm, 86 * 10**16)
    model = morpho_from_snapshot(snap, {MARKET: params}, {"USDC": 6, "WETH": 18}, lambda t: 10**8)
    assert irm.rate_at_target(MARKET) == stored
    model.accrue_interest(T0 + 2 * DAYS_30, MARKET)
    assert irm.rate_at_target(MARKET) == adaptive_borrow_rate(utilization(snap_market(snap)), stored, DAYS_30)[1]


def snap_market(snap: Any) -> Market:
    s = snap.markets[0]
    return Market(s.total_supply_assets, s.total_supply_shares, s.total_borrow_assets, s.total_borrow_shares,
                  s.last_update, s.fee)


def test_elapsed_is_checked_like_the_contract() -> None:
    irm = AdaptiveCurveIrm(rate_at_target={"m": INITIAL_RATE_AT_TARGET})
    params = MarketParams("m", "L", "C", FixedPriceOracle(), irm, 86 * 10**16)
    future = Market(10, 10, 9, 9, T0 + 1, 0)
    with pytest.raises(MorphoError, match="0x11"):  # block.timestamp - lastUpdate underflows
        irm.borrow_rate_view(params, future, T0)
    first = AdaptiveCurveIrm()  # first interaction: the subtraction is never reached
    assert first.borrow_rate_view(params, future, T0) == adaptive_borrow_rate(9 * 10**17, 0, 0)[0]


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="initial_rate_at_target"):
        AdaptiveCurveIrm(MIN_RATE_AT_TARGET - 1)
    with pytest.raises(ValueError, match="initial_rate_at_target"):
        AdaptiveCurveIrm(MAX_RATE_AT_TARGET + 1)
    with pytest.raises(ValueError, match=r"rate_at_target\['m'\]"):
        AdaptiveCurveIrm(rate_at_target={"m": -1})
    assert AdaptiveCurveIrm() != AdaptiveCurveIrm()  # two deployments


def test_a_chosen_initial_rate_at_target() -> None:
    irm = AdaptiveCurveIrm(10 * INITIAL_RATE_AT_TARGET)
    env = MorphoEnv(irm=irm)
    assert irm.rate_at_target(MARKET) == 10 * INITIAL_RATE_AT_TARGET
    env.lend("lp", 1000 * USDC)
    env.morpho.accrue_interest(T0 + DAYS_30, MARKET)
    assert irm.rate_at_target(MARKET) == adaptive_borrow_rate(0, 10 * INITIAL_RATE_AT_TARGET, DAYS_30)[1]


# --- the scenario kind ----------------------------------------------------------------------------

def _scenario(irm: dict[str, Any]) -> dict[str, Any]:
    """The scenario-kind tests' small Morpho scenario with ``irm``, no fee, and one borrower
    holding the market at 95 % utilisation."""
    data = copy.deepcopy(SMALL)
    market = data["protocols"][0]["markets"][0]
    market.pop("fee", None)
    market.update(irm=irm, borrowers=[],
                  accounts=[{"name": "bob", "collateral": "10 WETH", "borrow": "9500 USDC"}])
    return data


@pytest.mark.parametrize(("irm", "rate"), [
    ({"kind": "adaptive-curve"}, INITIAL_RATE_AT_TARGET),
    ({"kind": "adaptive-curve", "initial_rate_at_target": 0.1}, 10**17 // YEAR),
    ({"kind": "adaptive-curve", "initial_rate_at_target": 2.0}, MAX_RATE_AT_TARGET),
    ({"kind": "adaptive-curve", "initial_rate_at_target_per_second": 5_000_000_000}, 5_000_000_000),
])
def test_scenario_builds_the_adaptive_irm(irm: dict[str, Any], rate: int) -> None:
    world = build_world(defisim.scenario_from_dict(_scenario(irm)))
    morpho = world.protocols["morpho"]
    model = morpho.market_params("weth-usdc").irm
    assert isinstance(model, AdaptiveCurveIrm)
    assert model.rate_at_target("weth-usdc") == rate
    assert utilization(morpho.market("weth-usdc")) == 95 * 10**16


@pytest.mark.parametrize(("irm", "words"), [
    ({"kind": "adaptive-curve", "initial_rate_at_target": 3.0}, ("initial rate at target", "3.0", "bounds")),
    ({"kind": "adaptive-curve", "initial_rate_at_target": 0.0005}, ("0.0005", "0.001", "2.0")),
    ({"kind": "adaptive-curve", "initial_rate_at_target": 0.04, "initial_rate_at_target_per_second": 1},
     ("at most one",)),
    ({"kind": "adaptive-curve", "initial_rate_at_target": -0.01}, ("greater than 0",)),
    ({"kind": "adaptive-curve", "speed": 50}, ("unknown key",)),
])
def test_scenario_refuses_bad_adaptive_params(irm: dict[str, Any], words: tuple[str, ...]) -> None:
    with pytest.raises(ScenarioError) as info:
        defisim.scenario_from_dict(_scenario(irm))
    problems = info.value.problems
    assert any(p.startswith("protocols.0.markets.0.irm") and all(w.lower() in m.lower() for w in words)
               for p, m in problems), problems
