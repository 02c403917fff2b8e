"""Generated borrowers: exact amounts, sizes and health factors within what Aave allows."""

from __future__ import annotations

import numpy as np

from defisim.scenario.populations import BorrowerPopulation, draw_population


def _draw(prices: dict[str, float], decimals: dict[str, int], pop: dict) -> object:
    return draw_population(
        BorrowerPopulation.model_validate(pop), index=0, prices=prices, decimals=decimals,
        liquidation_threshold={"PEPE": 0.5, "WETH": 0.825, "USDC": 0.78},
        ltv={"PEPE": 0.4, "WETH": 0.80, "USDC": 0.75}, rng=np.random.default_rng(1),
    )


def test_cheap_token_with_huge_holdings_does_not_overflow() -> None:
    drawn = _draw({"PEPE": 1e-6, "USDC": 1.0}, {"PEPE": 18, "USDC": 6},
                  {"count": 50, "collateral": {"PEPE": 1.0}, "debt": "USDC",
                   "size_usd": {"median": 20_000_000, "sigma": 0.5}})
    amounts = drawn.collateral["PEPE"]
    assert all(isinstance(a, int) and a > 2**63 for a in amounts)
    # 20M USD of a 1e-6 USD token is ~2e13 whole tokens = ~2e31 base units
    assert 10**30 < int(np.median([float(a) for a in amounts])) < 10**32


def test_health_factors_respect_the_ltv_floor_and_the_range() -> None:
    drawn = _draw({"WETH": 2000.0, "USDC": 1.0}, {"WETH": 18, "USDC": 6},
                  {"count": 2000, "collateral": {"WETH": 1.0}, "debt": "USDC",
                   "size_usd": {"median": 10_000, "sigma": 1.0}, "health": {"min": 1.01, "max": 2.0}})
    coll_usd = np.array([int(a) / 10**18 * 2000 for a in drawn.collateral["WETH"]])
    debt_usd = np.array([int(d) / 10**6 for d in drawn.debt])
    health = coll_usd * 0.825 / debt_usd
    assert health.min() >= 0.825 / 0.80 * (1 + 1e-3) * (1 - 1e-4)  # raised to what LTV allows (amounts floored)
    assert health.max() <= 2.0 + 1e-6
    assert (debt_usd <= coll_usd * 0.80).all()
    assert len(set(drawn.names)) == 2000
