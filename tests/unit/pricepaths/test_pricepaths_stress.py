"""Stress overlay: a crash of exact depth, volatility and correlation that rise in it."""

from __future__ import annotations

import numpy as np
import pytest

from defisim.pricepaths import SECONDS_PER_YEAR, generate, parse_price_model

EPS = np.finfo(np.float64).eps


def _gbm(stress: dict | None = None, correlation: list | None = None, **assets_over):
    assets = {"ETH": {"start": 3000.0, "mu": 0.05, "sigma": 0.8}, "BTC": {"start": 60000.0, "mu": 0.0, "sigma": 0.6}}
    assets.update(assets_over)
    data = {"model": "gbm", "assets": assets, "correlation": correlation}
    if stress is not None:
        data["stress"] = stress
    return parse_price_model(data)


def _pair(stress: dict, n: int = 1000, seed: int = 42, **kw):
    base = generate(_gbm(**kw), n, 12, np.random.default_rng(seed)).prices
    hit = generate(_gbm(stress, **kw), n, 12, np.random.default_rng(seed)).prices
    return base, hit


@pytest.mark.parametrize("depth", [0.4, 0.1, 0.95, 0.3333])
def test_crash_reaches_exact_depth_at_window_end(depth: float) -> None:
    base, hit = _pair({"at": "1h", "depth": depth, "over": "1h"}, correlation=[[1, 0.5], [0.5, 1]])
    at, end = 300, 600
    np.testing.assert_array_equal(hit[:, : at + 1], base[:, : at + 1])  # untouched up to `at`
    assert np.array_equal(hit[:, end], base[:, end] * (1 - depth))  # exact at the end
    assert np.array_equal(hit[:, end:], base[:, end:] * (1 - depth))  # and held after
    ratio = hit[:, at : end + 1] / base[:, at : end + 1]
    mid = (at + end) // 2
    np.testing.assert_allclose(ratio[:, mid - at], np.sqrt(1 - depth), rtol=1e-13)
    # log-linear: equal log steps through the window
    steps = np.diff(np.log(ratio), axis=1)
    np.testing.assert_allclose(steps, np.log1p(-depth) / 300, rtol=1e-9)


def test_instant_crash_and_block_numbers() -> None:
    base, hit = _pair({"at": 250, "depth": 0.5})
    np.testing.assert_array_equal(hit[:, :250], base[:, :250])
    assert np.array_equal(hit[:, 250:], base[:, 250:] * 0.5)


def test_crash_hits_only_listed_assets() -> None:
    base, hit = _pair({"at": 10, "depth": 0.3, "over": 20, "assets": ["BTC"]})
    np.testing.assert_array_equal(hit[0], base[0])  # ETH untouched
    assert hit[1, 30] == base[1, 30] * (1 - 0.3)


def test_crash_beyond_horizon_changes_nothing() -> None:
    base, hit = _pair({"at": "1d", "depth": 0.4, "vol_multiplier": 3, "correlation_to": 0.9}, n=100)
    np.testing.assert_array_equal(hit, base)


def test_vol_and_correlation_rise_after_crash() -> None:
    n, at, over = 400_000, 100_000, 1000
    model = parse_price_model({
        "model": "gbm",
        "assets": {"A": {"start": 1.0, "mu": 0.0, "sigma": 0.5}, "B": {"start": 1.0, "mu": 0.0, "sigma": 0.3}},
        "correlation": [[1, 0.2], [0.2, 1]],
        "stress": {"at": at, "depth": 0.2, "over": over, "vol_multiplier": 2.5, "correlation_to": 0.9},
    })
    p = generate(model, n, 3600, np.random.default_rng(77))
    r = np.diff(np.log(p.prices), axis=1)
    before, after = r[:, :at], r[:, at + over :]
    sd = np.array([0.5, 0.3]) * np.sqrt(3600 / SECONDS_PER_YEAR)
    assert np.all(np.abs(before.std(axis=1) / sd - 1) < 5 / np.sqrt(2 * at))
    assert np.all(np.abs(after.std(axis=1) / (2.5 * sd) - 1) < 5 / np.sqrt(2 * after.shape[1]))
    assert abs(np.corrcoef(before)[0, 1] - 0.2) < 5 * (1 - 0.2**2) / np.sqrt(at)
    assert abs(np.corrcoef(after)[0, 1] - 0.9) < 5 * (1 - 0.9**2) / np.sqrt(after.shape[1])


def test_vol_multiplier_keeps_expected_price() -> None:
    """E[S_T] = S_0 e^{mu T} with a 3x volatility after the crash (compensated drift)."""
    n_assets, bt = 20_000, SECONDS_PER_YEAR // 50
    model = parse_price_model({
        "model": "gbm",
        "assets": {f"X{i}": {"start": 1.0, "mu": 0.1, "sigma": 0.5} for i in range(n_assets)},
        "stress": {"at": 10, "depth": 0.0, "vol_multiplier": 3.0},
    })
    st = generate(model, 50, bt, np.random.default_rng(5)).prices[:, -1]
    se = st.std(ddof=1) / np.sqrt(n_assets)
    assert abs(st.mean() - np.exp(0.1)) < 5 * se


def test_stress_on_jump_diffusion() -> None:
    data = {
        "model": "jump-diffusion",
        "assets": {"A": {"start": 10.0, "sigma": 0.4, "jump_intensity": 20, "jump_mean": -0.1, "jump_std": 0.05}},
    }
    base = generate(parse_price_model(data), 2000, 12, np.random.default_rng(3)).prices
    hit = generate(parse_price_model({**data, "stress": {"at": "2h", "depth": 0.25, "over": "30m"}}), 2000, 12,
                   np.random.default_rng(3)).prices
    assert hit[0, 750] == base[0, 750] * (1 - 0.25)


def test_correlation_blend_inside_the_window_keeps_volatility() -> None:
    """Halfway through the window the covariance is the average of the two, vol unchanged."""
    n = 200_000
    model = parse_price_model({
        "model": "gbm",
        "assets": {"A": {"start": 1.0, "mu": 0.0, "sigma": 0.5}, "B": {"start": 1.0, "mu": 0.0, "sigma": 0.3}},
        "correlation": [[1, 0.2], [0.2, 1]],
        "stress": {"at": 0, "depth": 0.0, "over": n, "correlation_to": 0.9},
    })
    p = generate(model, n, 3600, np.random.default_rng(12))
    r = np.diff(np.log(p.prices), axis=1)[:, int(0.45 * n) : int(0.55 * n)]
    m = r.shape[1]
    sd = np.array([0.5, 0.3]) * np.sqrt(3600 / SECONDS_PER_YEAR)
    assert np.all(np.abs(r.std(axis=1) / sd - 1) < 5 / np.sqrt(2 * m))
    assert abs(np.corrcoef(r)[0, 1] - 0.55) < 5 * (1 - 0.55**2) / np.sqrt(m)
