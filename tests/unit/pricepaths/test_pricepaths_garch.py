"""GARCH(1,1)-CCC: the QMLE recovers known parameters, agrees with the arch package on the
shipped data, and generated paths have the model's variance, correlation and determinism.

Tolerances are stated per test; sampling errors of GARCH moments are larger than i.i.d.
ones (volatility clustering), so the tolerances are several times the i.i.d. standard error.
"""

from __future__ import annotations

import numpy as np
import pytest

from defisim.errors import ScenarioError
from defisim.pricepaths import (
    fit_garch11,
    garch_parameters,
    generate,
    load_returns_data,
    parse_price_model,
)
from defisim.pricepaths.garch import (
    conditional_variance,
    garch_loglik,
    simulate_garch11,
)

DATA = "builtin:binance-eth-btc-1h-2020-2022"


def test_conditional_variance_matches_the_loop() -> None:
    e = np.random.default_rng(0).standard_normal(500) * 0.01
    h = conditional_variance(e, 2e-6, 0.1, 0.85, 1e-4)
    ref = [1e-4]
    for t in range(1, 500):
        ref.append(2e-6 + 0.1 * e[t - 1] ** 2 + 0.85 * ref[-1])
    np.testing.assert_allclose(h, ref, rtol=1e-12)


@pytest.mark.parametrize("targeting", [False, True])
def test_fit_recovers_known_parameters(targeting: bool) -> None:
    """100,000 simulated steps; tolerances about 4 standard errors of the QMLE."""
    mu, omega, alpha, beta = 1e-4, 2e-6, 0.08, 0.90
    r = simulate_garch11(mu, omega, alpha, beta, np.random.default_rng(7).standard_normal(100_000))
    fit = fit_garch11(r, variance_targeting=targeting)
    assert fit.converged
    assert abs(fit.alpha - alpha) < 0.01
    assert abs(fit.beta - beta) < 0.015
    assert abs(fit.unconditional_variance / (omega / (1 - alpha - beta)) - 1) < 0.15
    assert abs(fit.mu - mu) < 4 * np.sqrt(omega / (1 - alpha - beta) / 100_000)
    assert fit.alpha + fit.beta < 1
    # the optimum is at least as good as the true parameters
    assert fit.loglik >= garch_loglik(r, mu, omega, alpha, beta, fit.backcast) - 1e-6


@pytest.mark.parametrize("column", ["ETH", "BTC"])
@pytest.mark.parametrize("name", ["binance-eth-btc-1h-2020-2022", "binance-eth-btc-1h-2024"])
def test_fit_agrees_with_arch_package(name: str, column: str) -> None:
    """Same data, same backcast: parameters within 1% (alpha, beta within 0.002), and the
    log-likelihoods within 0.1 (ours is never worse by more than 1e-3)."""
    arch = pytest.importorskip("arch", reason="arch (dev extra) cross-checks the GARCH fit")
    r = load_returns_data(f"builtin:{name}").log_returns((column,))[:, 0]
    ours = fit_garch11(r)
    res = arch.arch_model(100 * r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal",
                          rescale=False).fit(disp="off", backcast=ours.backcast * 1e4)
    p = res.params
    theirs_ll = res.loglikelihood + r.size * np.log(100.0)  # arch saw returns in percent
    assert abs(ours.alpha - p["alpha[1]"]) < 0.002
    assert abs(ours.beta - p["beta[1]"]) < 0.002
    assert abs(ours.omega / (p["omega"] / 1e4) - 1) < 0.01
    assert abs(ours.mu - p["mu"] / 100) < 0.01 * np.std(r) / np.sqrt(r.size) * 10
    assert -1e-3 < ours.loglik - theirs_ll < 0.1


def test_fitted_model_is_stationary_and_cached() -> None:
    model = parse_price_model({"model": "garch", "fit": DATA,
                               "assets": {"WETH": {"column": "ETH", "start": 3000}, "BTC": {"start": 60000}}})
    p1, p2 = garch_parameters(model), garch_parameters(model)
    assert p1.fit is p2.fit  # fitted once per process and data digest
    assert np.all(p1.alpha + p1.beta < 1) and p1.step_s == 3600
    assert 0.8 < p1.correlation[0, 1] < 0.9
    last = garch_parameters(model.model_copy(update={"initial_variance": "last"}))
    np.testing.assert_array_equal(last.h0, [f.next_variance for f in p1.fit.fits])
    np.testing.assert_allclose(p1.h0, p1.omega / (1 - p1.alpha - p1.beta))


def _explicit(**over):
    data = {
        "model": "garch", "step": "1h",
        "assets": {"A": {"start": 100.0, "mu": 2e-5, "omega": 4e-6, "alpha": 0.05, "beta": 0.85},
                   "B": {"start": 10.0, "mu": 0.0, "omega": 1e-6, "alpha": 0.10, "beta": 0.80}},
        "correlation": [[1, 0.6], [0.6, 1]],
    }
    data.update(over)
    return parse_price_model(data)


UNCOND = np.array([4e-6 / 0.10, 1e-6 / 0.10])


def test_step_returns_have_the_model_variance_and_correlation() -> None:
    """One block per step, log-linear: 200,000 steps; variance within 6%, correlation 0.02."""
    n = 200_000
    p = generate(_explicit(interpolation="log-linear"), n, 3600, np.random.default_rng(11))
    r = np.diff(np.log(p.prices), axis=1)
    assert np.all(np.abs(r.var(axis=1) / UNCOND - 1) < 0.06)
    assert abs(np.corrcoef(r)[0, 1] - 0.6) < 0.02
    np.testing.assert_allclose(r.mean(axis=1), [2e-5, 0.0], atol=4 * np.sqrt(UNCOND.max() / n))
    # the generated series carries the model's clustering: fit recovers alpha and beta
    fit = fit_garch11(r[0])
    assert abs(fit.alpha - 0.05) < 0.015 and abs(fit.beta - 0.85) < 0.05


def test_bridge_keeps_step_returns_and_spreads_variance_over_blocks() -> None:
    """600 s blocks (6 per step), 40,000 steps: per-block variance = h * 600 / 3600."""
    n_steps, per = 40_000, 6
    p = generate(_explicit(), n_steps * per, 600, np.random.default_rng(3))
    x = np.log(p.prices)
    step_r = np.diff(x[:, ::per], axis=1)
    assert np.all(np.abs(step_r.var(axis=1) / UNCOND - 1) < 0.08)
    block_r = np.diff(x, axis=1)
    assert np.all(np.abs(block_r.var(axis=1) / (UNCOND / per) - 1) < 0.06)
    assert abs(np.corrcoef(block_r)[0, 1] - 0.6) < 0.02
    # inside a step the moves are not a straight line (log-linear would give equal steps)
    assert np.std(np.diff(block_r[0, :per])) > 0


def test_fitted_paths_have_the_fitted_correlation() -> None:
    """The conditional correlation is the fitted one: the standardised residuals of 100,000
    generated steps (one block per step) correlate as fitted, within 0.01 (about 10 standard
    errors). (The unconditional correlation of raw returns is lower under CCC whenever the
    two variances do not move together: about 0.79 here against 0.85.)"""
    model = parse_price_model({"model": "garch", "fit": DATA, "interpolation": "log-linear",
                               "assets": {"WETH": {"column": "ETH", "start": 3000}, "WBTC": {"column": "BTC", "start": 6e4}}})
    p = garch_parameters(model)
    r = np.diff(np.log(generate(model, 100_000, 3600, np.random.default_rng(5)).prices), axis=1)
    z = np.empty_like(r)
    for i in range(2):
        e = r[i] - p.mu[i]
        z[i] = e / np.sqrt(conditional_variance(e, p.omega[i], p.alpha[i], p.beta[i], p.h0[i]))
    assert abs(np.corrcoef(z)[0, 1] - p.correlation[0, 1]) < 0.01
    assert np.all(np.abs(z.var(axis=1) - 1) < 0.03)


def test_determinism_and_block_time_independence_of_steps() -> None:
    model = _explicit()
    a = generate(model, 3000, 12, np.random.default_rng(42))
    b = generate(model, 3000, 12, np.random.default_rng(42))
    c = generate(model, 3000, 12, np.random.default_rng(43))
    assert a.digest() == b.digest() != c.digest()
    assert a.at("A", 0) == 100.0 and a.at("B", 0) == 10.0
    # log-linear draws only the step shocks: the step end points do not depend on block time
    ll = _explicit(interpolation="log-linear")
    fine = generate(ll, 300 * 10, 12, np.random.default_rng(1)).prices[:, ::300]
    coarse = generate(ll, 10, 3600, np.random.default_rng(1)).prices
    np.testing.assert_allclose(fine, coarse, rtol=1e-13)


def test_block_time_not_dividing_the_step() -> None:
    p = generate(_explicit(step="25s"), 1000, 12, np.random.default_rng(0))
    assert p.prices.shape == (2, 1001) and np.all(np.isfinite(p.prices))


def test_stress_crash_and_volatility() -> None:
    base = generate(_explicit(), 7200, 12, np.random.default_rng(9)).prices
    hit = generate(_explicit(stress={"at": "2h", "depth": 0.3, "over": "1h"}), 7200, 12,
                   np.random.default_rng(9)).prices
    np.testing.assert_array_equal(hit[:, :601], base[:, :601])
    np.testing.assert_allclose(hit[:, 900:], base[:, 900:] * 0.7, rtol=1e-14)
    vol = generate(_explicit(stress={"at": 3600, "depth": 0.0, "vol_multiplier": 3}), 7200, 12,
                   np.random.default_rng(9)).prices
    np.testing.assert_array_equal(vol[:, :3601], base[:, :3601])
    d0, d1 = np.diff(np.log(base[:, 3600:]), axis=1), np.diff(np.log(vol[:, 3600:]), axis=1)
    mean = np.array([[2e-5 * 12 / 3600], [0.0]])
    np.testing.assert_allclose(d1 - mean, 3 * (d0 - mean), rtol=1e-6, atol=1e-15)


def test_stress_correlation_rises() -> None:
    model = _explicit(stress={"at": 0, "depth": 0.0, "correlation_to": 0.95}, interpolation="log-linear")
    r = np.diff(np.log(generate(model, 100_000, 3600, np.random.default_rng(2)).prices), axis=1)
    assert abs(np.corrcoef(r)[0, 1] - 0.95) < 0.01


@pytest.mark.parametrize(
    ("over", "path", "words"),
    [
        ({"assets": {"A": {"start": 1, "omega": 1e-6, "alpha": 0.2, "beta": 0.8}}}, "garch.assets.A", "alpha + beta = 1"),
        ({"assets": {"A": {"start": 1, "omega": 1e-6, "alpha": 0.2}}}, "garch.assets.A", "missing beta"),
        ({"step": None}, "garch", "`step`"),
        ({"step": "1h", "fit": DATA, "assets": {"ETH": {"start": 1, "omega": 1e-6, "alpha": 0.1, "beta": 0.8}}},
         "garch.assets", "fitted from `fit`"),
        ({"step": "2h", "fit": DATA, "assets": {"ETH": {"start": 1}}}, "garch.step", "data's step"),
        ({"initial_variance": "last"}, "garch", "needs a fit"),
    ],
)
def test_validation_errors(over: dict, path: str, words: str) -> None:
    data = {"model": "garch", "step": "1h",
            "assets": {"A": {"start": 1, "omega": 1e-6, "alpha": 0.1, "beta": 0.8}}}
    data.update(over)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ScenarioError) as info:
        parse_price_model(data)
    (p, msg), = info.value.problems
    assert p == path and words in msg, (p, msg)
