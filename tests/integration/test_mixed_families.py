"""The mixed-family scenario: one crash cascades through Aave, Morpho Blue, Compound III, Maker
and a perp exchange.

The bundled file has 50,000 positions over a day (its speed is a benchmark, see README); the
test runs the same market with a tenth of the positions for the crash's first three hours.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import defisim
from defisim.engine.records import PositionLiquidated, PriceUpdated

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "mixed_families.yaml"
PROTOCOLS = ("aave", "morpho", "comet", "maker", "perpdex")


SMALLER = {
    "protocols.aave.borrowers.0.count": 2000,
    "protocols.morpho.markets.0.borrowers.0.count": 1500,
    "protocols.comet.borrowers.0.count": 1500,
    "protocols.maker.ilks.ETH-A.vaults.0.count": 500,
    "protocols.perpdex.traders.0.count": 500,
}


@pytest.fixture(scope="module")
def result() -> defisim.Result:
    scn = defisim.with_overrides(defisim.load_scenario(SCENARIO), SMALLER)
    return defisim.simulate(scn, blocks=1500)


@pytest.fixture(scope="module")
def calm() -> defisim.Result:
    """The same market and crash with every position far from liquidation."""
    safe = {"protocols.aave.borrowers.0.health": {"min": 4.0, "max": 5.0},
            "protocols.morpho.markets.0.borrowers.0.health": {"min": 4.0, "max": 5.0},
            "protocols.comet.borrowers.0.health": {"min": 4.0, "max": 5.0},
            "protocols.maker.ilks.ETH-A.vaults.0.health": {"min": 4.0, "max": 5.0},
            "protocols.perpdex.traders.0.leverage": {"min": 1, "max": 1.5}}
    scn = defisim.with_overrides(defisim.load_scenario(SCENARIO), {**SMALLER, **safe})
    return defisim.simulate(scn, blocks=1500)


def test_every_family_liquidates_in_the_same_crash(result: defisim.Result) -> None:
    liqs = result.records.of_type(PositionLiquidated)
    by_protocol = {p: [r for r in liqs if r.protocol == p] for p in PROTOCOLS}
    assert all(by_protocol[p] for p in PROTOCOLS), {p: len(v) for p, v in by_protocol.items()}
    summary = result.summary["protocols"]
    assert set(PROTOCOLS) <= set(summary)
    for p in PROTOCOLS:
        assert summary[p]["liquidations"] == len(by_protocol[p])
        assert summary[p]["debt_repaid_usd"] > 0


def test_liquidation_selling_drags_the_shared_oracle_below_the_reference(
        result: defisim.Result, calm: defisim.Result) -> None:
    """The cascade: sales into the shared AMM, carried to the venue the oracle reads, push the
    oracle below the exogenous reference while liquidations run; without liquidations the
    oracle tracks the reference."""
    def lowest(r: defisim.Result) -> float:
        rounds = [x for x in r.records.of_type(PriceUpdated) if x.oracle == "eth-usd"]
        return min(x.price for x in rounds) / 1e8

    assert not calm.records.of_type(PositionLiquidated)
    floor = 1800.0  # the reference's lowest point
    assert lowest(calm) > floor * 0.995
    assert lowest(result) < floor * 0.99
    assert lowest(result) < lowest(calm) - 10


def test_books_balance_after_the_cascade(result: defisim.Result) -> None:
    assert result.world.invariant_errors() == []
