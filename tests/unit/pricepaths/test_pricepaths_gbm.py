"""Geometric Brownian motion: exact drift, and log-return moments on a large seeded sample.

Tolerances are ~5 standard errors of the estimator, so the tests are not flaky yet fail for
wrong formulas (variance for volatility, missing -sigma^2/2, wrong dt, wrong correlation).
"""

from __future__ import annotations

import numpy as np
import pytest

from defisim.errors import ScenarioError
from defisim.pricepaths import SECONDS_PER_YEAR, generate, parse_price_model

EPS = np.finfo(np.float64).eps

SIGMA = np.array([0.8, 0.5, 0.05])
# drift of the log price: +0.05, -0.10 and 0 per year, so a 2740-year daily sample stays in range
MU = np.array([0.32 + 0.05, 0.125 - 0.10, 0.00125])
CORR = np.array([[1.0, 0.7, -0.3], [0.7, 1.0, 0.2], [-0.3, 0.2, 1.0]])


def _model(**over):
    data = {
        "model": "gbm",
        "assets": {
            name: {"start": s0, "mu": float(m), "sigma": float(s)}
            for name, s0, m, s in zip(("ETH", "BTC", "USDC"), (3000.0, 60000.0, 1.0), MU, SIGMA)
        },
        "correlation": CORR.tolist(),
    }
    data.update(over)
    return parse_price_model(data)


@pytest.mark.parametrize("block_time_s", [12, 86_400])
def test_zero_vol_is_exact_exponential(block_time_s: int) -> None:
    model = parse_price_model(
        {"model": "gbm", "assets": {"A": {"start": 2500.0, "mu": 0.37, "sigma": 0.0},
                                    "B": {"start": 1.0, "mu": -1.5, "sigma": 0.0}}}
    )
    n = 100_000
    p = generate(model, n, block_time_s, np.random.default_rng(3))
    t = np.arange(n + 1) * (block_time_s / SECONDS_PER_YEAR)
    np.testing.assert_allclose(p.of("A"), 2500.0 * np.exp(0.37 * t), rtol=4 * EPS, atol=0)
    np.testing.assert_allclose(p.of("B"), 1.0 * np.exp(-1.5 * t), rtol=4 * EPS, atol=0)
    assert p.at("A", 0) == 2500.0


@pytest.fixture(scope="module")
def daily_returns() -> np.ndarray:
    n = 1_000_000
    p = generate(_model(), n, 86_400, np.random.default_rng(20240601))
    assert p.prices.shape == (3, n + 1)
    return np.diff(np.log(p.prices), axis=1)


def test_log_return_mean(daily_returns: np.ndarray) -> None:
    dt = 86_400 / SECONDS_PER_YEAR
    n = daily_returns.shape[1]
    expected = (MU - 0.5 * SIGMA**2) * dt
    se = SIGMA * np.sqrt(dt) / np.sqrt(n)
    assert np.all(np.abs(daily_returns.mean(axis=1) - expected) < 5 * se)
    # sanity: forgetting the -sigma^2/2 term would be caught for the volatile asset
    assert abs(MU[0] * dt - expected[0]) > 10 * se[0]


def test_log_return_std(daily_returns: np.ndarray) -> None:
    dt = 86_400 / SECONDS_PER_YEAR
    n = daily_returns.shape[1]
    ratio = daily_returns.std(axis=1, ddof=1) / (SIGMA * np.sqrt(dt))
    assert np.all(np.abs(ratio - 1) < 5 / np.sqrt(2 * n))


def test_log_return_correlation(daily_returns: np.ndarray) -> None:
    n = daily_returns.shape[1]
    est = np.corrcoef(daily_returns)
    se = (1 - CORR**2) / np.sqrt(n) + 1e-12
    assert np.all(np.abs(est - CORR) < 5 * se + 1e-9)


def test_independent_without_correlation() -> None:
    model = _model(correlation=None)
    r = np.diff(np.log(generate(model, 200_000, 3600, np.random.default_rng(1)).prices), axis=1)
    off = np.corrcoef(r)[np.triu_indices(3, 1)]
    assert np.all(np.abs(off) < 5 / np.sqrt(200_000))


def test_perfectly_correlated_semidefinite() -> None:
    model = parse_price_model(
        {"model": "gbm", "assets": {"A": {"start": 1, "sigma": 0.5}, "B": {"start": 2, "sigma": 0.5}},
         "correlation": [[1, 1], [1, 1]]}
    )
    p = generate(model, 1000, 12, np.random.default_rng(0))
    np.testing.assert_allclose(p.of("B") / p.of("A"), 2.0, rtol=1e-12)


def test_overflowing_path_is_scenario_error() -> None:
    model = parse_price_model({"model": "gbm", "assets": {"ETH": {"start": 1, "mu": 1e6, "sigma": 0.1},
                                                          "OK": {"start": 1, "sigma": 0.1}}})
    with pytest.raises(ScenarioError) as info:
        generate(model, 1000, 86_400, np.random.default_rng(0))
    (path, msg), = info.value.problems
    assert path == "prices" and msg.startswith("ETH:") and "strictly positive and finite" in msg
    down = parse_price_model({"model": "gbm", "assets": {"ETH": {"start": 1, "mu": -1e6, "sigma": 0.1}}})
    with pytest.raises(ScenarioError, match="strictly positive"):
        generate(down, 1000, 86_400, np.random.default_rng(0))
