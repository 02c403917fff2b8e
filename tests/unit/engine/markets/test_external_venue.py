"""ExternalVenue: impact curves, decay, stress depth, ledger conservation."""

from __future__ import annotations

import math

import pytest

from defisim.engine.ledger import Ledger
from defisim.engine.markets import external_venue
from defisim.engine.markets.external_venue import ExternalVenue, VenueError
from defisim.errors import InsufficientBalanceError

E18 = 10**18
E6 = 10**6


def make_venue(curve: str = "linear", reference=lambda b: 2000.0, **kw: float) -> ExternalVenue:  # noqa: ANN001
    ledger = Ledger({"WETH": 18, "USDC": 6})
    venue = ExternalVenue("cex", "WETH", "USDC", ledger, reference, depth_usd=1_000_000.0, curve=curve, **kw)
    ledger.mint("WETH", venue.address, 10_000 * E18)
    ledger.mint("USDC", venue.address, 100_000_000 * E6)
    ledger.mint("WETH", "seller", 1_000 * E18)
    ledger.mint("USDC", "buyer", 10_000_000 * E6)
    return venue


def test_module_is_fast_layer() -> None:
    assert external_venue.LAYER == "fast"


def test_linear_sell_hand_computed() -> None:
    venue = make_venue("linear")
    assert venue.price(0) == 2000.0
    # sell 100 WETH at $2000: q = $200,000, D = $1M -> u = 0.2
    # proceeds = D (1 - e^-u) = 181,269.2469...; price after = 2000 e^-0.2
    quote = venue.quote_sell(0, 100 * E18)
    assert quote.quote_amount == math.floor(1_000_000.0 * (1.0 - math.exp(-0.2)) * E6)
    assert 181_269_246_900 <= quote.quote_amount <= 181_269_247_000
    assert venue.price(0) == 2000.0  # quoting changes nothing
    paid = venue.sell(0, "seller", 100 * E18)
    assert paid == quote.quote_amount
    assert venue.price(0) == pytest.approx(2000.0 * math.exp(-0.2), rel=1e-12)
    assert venue.price(0) < 2000.0
    led = venue.ledger
    assert led.balance_of("WETH", "seller") == 900 * E18
    assert led.balance_of("USDC", "seller") == paid
    assert led.balance_of("WETH", venue.address) == 10_100 * E18
    assert led.conservation_errors() == []


def test_sqrt_sell_hand_computed() -> None:
    venue = make_venue("sqrt")
    # sell 5 WETH: q = $10,000, U = sqrt(0.01) = 0.1 (k = 1)
    # proceeds = 2 D (1 - e^-U (1 + U)) = 2e6 * 0.0046788401604444 = 9,357.68...
    paid = venue.sell(0, "seller", 5 * E18)
    expected = 2_000_000.0 * (1.0 - math.exp(-0.1) * 1.1)
    assert paid == math.floor(expected * E6)
    assert 9_357_680_000 < paid < 9_357_681_000
    assert venue.price(0) == pytest.approx(2000.0 * math.exp(-0.1), rel=1e-12)
    assert paid < 5 * 2000 * E6  # worse than the pre-trade price


def test_small_sqrt_trade_is_near_mid() -> None:
    venue = make_venue("sqrt")
    # $2 of notional: the series branch; average price within sqrt(2e-6) of mid
    q = venue.quote_sell(0, E18 // 1000)
    assert q.average_price * E18 / E6 == pytest.approx(2000.0, rel=2e-3)
    assert q.quote_amount < 2 * E6


def test_buy_raises_price_and_costs_more() -> None:
    venue = make_venue("linear")
    cost = venue.buy(0, "buyer", 100 * E18)
    # cost = D (e^u - 1), u = 0.2
    assert cost == math.ceil(1_000_000.0 * math.expm1(0.2) * E6)
    assert cost > 200_000 * E6
    assert venue.price(0) == pytest.approx(2000.0 * math.exp(0.2), rel=1e-12)
    assert venue.ledger.conservation_errors() == []


def test_impact_decays_with_half_life() -> None:
    venue = make_venue("linear", half_life_blocks=10)
    venue.sell(100, "seller", 100 * E18)  # log impact -0.2
    assert venue.impact_multiplier(100) == pytest.approx(math.exp(-0.2), rel=1e-12)
    assert venue.impact_multiplier(110) == pytest.approx(math.exp(-0.1), rel=1e-12)
    assert venue.impact_multiplier(120) == pytest.approx(math.exp(-0.05), rel=1e-12)
    assert venue.price(130) == pytest.approx(2000.0 * math.exp(-0.025), rel=1e-12)
    # a second trade stacks on the decayed impact
    venue.sell(130, "seller", 100 * E18)
    pre = 2000.0 * math.exp(-0.025)
    assert venue.impact_multiplier(130) == pytest.approx(math.exp(-0.025 - 100 * pre / 1e6), rel=1e-12)


def test_permanent_impact_with_infinite_half_life() -> None:
    venue = make_venue("linear", half_life_blocks=math.inf)
    venue.sell(0, "seller", 100 * E18)
    assert venue.impact_multiplier(10_000) == pytest.approx(math.exp(-0.2), rel=1e-12)


def test_depth_shrinks_with_drawdown() -> None:
    path = {0: 100.0, 1: 120.0, 2: 60.0, 3: 90.0}
    venue = make_venue("linear", reference=lambda b: path[b], stress_depth_cut=1.0)
    assert venue.depth(0) == 1_000_000.0
    assert venue.drawdown(1) == 0.0
    assert venue.drawdown(3) == pytest.approx(0.25)  # running max 120 includes block 1
    assert venue.depth(3) == pytest.approx(750_000.0)


def test_drawdown_running_max_scans_every_block() -> None:
    path = {0: 100.0, 1: 200.0, 2: 100.0}
    venue = make_venue("linear", reference=lambda b: path[b], stress_depth_cut=0.5)
    # first asked at block 0, next at 2: the peak at block 1 still counts
    assert venue.depth(0) == 1_000_000.0
    assert venue.drawdown(2) == pytest.approx(0.5)
    assert venue.depth(2) == pytest.approx(750_000.0)


def test_depth_floor() -> None:
    path = {0: 100.0, 1: 1.0}
    venue = make_venue("linear", reference=lambda b: path[b], stress_depth_cut=5.0)
    venue.depth(0)
    assert venue.depth(1) == pytest.approx(10_000.0)  # min_depth_fraction 1 %


def test_inventory_and_balance_errors_move_nothing() -> None:
    venue = make_venue("linear")
    led = venue.ledger
    with pytest.raises(InsufficientBalanceError):
        venue.sell(0, "nobody", E18)
    with pytest.raises(VenueError):
        venue.buy(0, "buyer", 20_000 * E18)  # venue holds 10,000 WETH
    assert led.balance_of("USDC", "buyer") == 10_000_000 * E6
    assert venue.impact_multiplier(0) == 1.0
    assert led.conservation_errors() == []


def test_time_cannot_run_backwards_and_params_checked() -> None:
    venue = make_venue("linear")
    venue.price(5)
    with pytest.raises(VenueError):
        venue.price(4)
    ledger = Ledger({"WETH": 18, "USDC": 6})
    with pytest.raises(VenueError):
        ExternalVenue("x", "WETH", "USDC", ledger, lambda b: 1.0, depth_usd=0.0)
    with pytest.raises(VenueError):
        ExternalVenue("x", "WETH", "USDC", ledger, lambda b: 1.0, depth_usd=1.0, curve="cubic")
    with pytest.raises(VenueError):
        ExternalVenue("x", "WETH", "DAI", ledger, lambda b: 1.0, depth_usd=1.0)
