"""Peaks-over-threshold with the GPD: fits of known tails, tail quantiles, threshold choice.

Synthetic samples have exactly GPD excesses above any threshold: Pareto(α) with x_m = 1
(ξ = 1/α, σ = u/α), exponential (ξ = 0, σ = mean), Beta(1, b) (ξ = -1/b, σ = (1-u)/b) and
uniform (ξ = -1). Seeds are fixed; assertions use the estimators' own standard errors.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

from defisim.montecarlo import (
    DEFAULT_THRESHOLD_LEVELS,
    MIN_EXCEEDANCES,
    DegenerateSampleError,
    GPDFit,
    StatsError,
    choose_threshold,
    fit_gpd,
    mean_excess,
    tail_diagnostics,
    tail_quantile,
    tail_quantiles,
    var,
)
from defisim.montecarlo.evt import _hessian, _loglik

N = 20_000


@pytest.fixture(scope="module")
def pareto3() -> np.ndarray:
    return np.random.default_rng(20240601).pareto(3.0, N) + 1.0


@pytest.fixture(scope="module")
def expo() -> np.ndarray:
    return np.random.default_rng(20240602).exponential(2.0, N)


@pytest.fixture(scope="module")
def beta13() -> np.ndarray:
    return np.random.default_rng(20240603).beta(1.0, 3.0, N)


@pytest.fixture(scope="module")
def fits(pareto3, expo, beta13) -> dict[str, GPDFit]:
    return {
        name: fit_gpd(x, var(x, 0.9))
        for name, x in (("pareto", pareto3), ("exp", expo), ("beta", beta13))
    }


TRUE_QUANTILE = {
    "pareto": lambda p: (1.0 - p) ** (-1.0 / 3.0),
    "exp": lambda p: -2.0 * math.log(1.0 - p),
    "beta": lambda p: 1.0 - (1.0 - p) ** (1.0 / 3.0),
}


# --- fits of known tails -------------------------------------------------------------------

def test_fit_recovers_pareto_shape(fits):
    f = fits["pareto"]
    assert f.n == N and f.n_exceed == N // 10
    lo, hi = f.shape_ci()
    assert lo < 1.0 / 3.0 < hi
    assert 0.0 < f.shape_se < 0.05
    assert abs(f.scale - f.threshold / 3.0) < 3.0 * f.scale_se  # σ = u/α
    assert f.warnings == ()
    assert f.ks_pvalue > 0.05


def test_fit_recovers_exponential_shape_zero(fits):
    f = fits["exp"]
    lo, hi = f.shape_ci()
    assert lo < 0.0 < hi and hi - lo < 0.1
    assert abs(f.scale - 2.0) < 3.0 * f.scale_se
    assert f.endpoint is None or f.endpoint > 20.0
    assert f.warnings == ()


def test_fit_recovers_bounded_beta_shape(fits):
    f = fits["beta"]
    lo, hi = f.shape_ci()
    assert lo < -1.0 / 3.0 < hi < 0.0
    assert f.endpoint == pytest.approx(1.0, abs=0.05)
    assert f.warnings == ()


def test_uniform_data_give_shape_near_minus_one_with_a_warning():
    x = np.random.default_rng(4).uniform(0.0, 1.0, 5000)
    f = fit_gpd(x, 0.8)
    assert -1.0 <= f.shape < -0.8
    assert any(w.startswith(("non-regular", "shape at lower bound")) for w in f.warnings)


def test_mle_is_at_least_as_good_as_scipy(fits):
    for f in fits.values():
        y = np.asarray(f.excesses)
        c, loc, scale = stats.genpareto.fit(y, floc=0.0)
        assert loc == 0.0
        assert f.loglik >= _loglik(c, scale, y) - 1e-9 * abs(f.loglik)
        assert f.shape == pytest.approx(c, abs=2e-3)
        assert f.loglik == pytest.approx(stats.genpareto.logpdf(y, f.shape, 0.0, f.scale).sum())


def test_bad_debt_like_sample_with_an_atom_at_zero():
    rng = np.random.default_rng(12)
    x = np.where(rng.uniform(size=10_000) < 0.9, 0.0, rng.exponential(5e6, 10_000))
    f = fit_gpd(x, 0.0)  # exceedances = the insolvent paths
    assert f.n_exceed == np.count_nonzero(x > 0)
    lo, hi = f.shape_ci()
    assert lo < 0.0 < hi
    assert f.scale == pytest.approx(5e6, rel=0.1)


@pytest.mark.parametrize(("xi", "sigma"), [(0.3, 1.1), (-0.2, 3.0), (1e-7, 1.1), (0.0, 0.9), (2e-4, 1.0)])
def test_observed_information_matches_finite_differences(xi, sigma):
    y = np.random.default_rng(0).exponential(0.5, 300)
    h = _hessian(xi, sigma, y)
    f = lambda a, b: _loglik(a, b, y)
    dx, ds = 1e-4, 1e-4 * sigma
    num = np.empty((2, 2))
    num[0, 0] = (f(xi + dx, sigma) - 2 * f(xi, sigma) + f(xi - dx, sigma)) / dx**2
    num[1, 1] = (f(xi, sigma + ds) - 2 * f(xi, sigma) + f(xi, sigma - ds)) / ds**2
    num[0, 1] = num[1, 0] = (
        f(xi + dx, sigma + ds) - f(xi + dx, sigma - ds) - f(xi - dx, sigma + ds) + f(xi - dx, sigma - ds)
    ) / (4 * dx * ds)
    np.testing.assert_allclose(h, num, rtol=2e-4)


# --- warnings and errors -------------------------------------------------------------------

def test_small_sample_warning():
    x = np.random.default_rng(1).pareto(3.0, 200) + 1.0
    f = fit_gpd(x, var(x, 0.9))
    assert f.n_exceed == 20
    assert any(w.startswith("sample too small") for w in f.warnings)


def test_poor_fit_warning_for_bimodal_excesses():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(5.0, 0.2, 500), rng.normal(10.0, 0.2, 500)])
    f = fit_gpd(x, 0.0)
    assert f.ks_pvalue < 1e-6
    assert any(w.startswith("poor fit") for w in f.warnings)
    # above the upper mode's centre the excesses are a normal tail, which a GPD fits
    assert not any(w.startswith("poor fit") for w in fit_gpd(x, 10.0).warnings)


def test_heavy_tail_warnings():
    rng = np.random.default_rng(3)
    x15 = rng.pareto(1.5, 5000) + 1.0  # ξ = 2/3: infinite variance, finite mean
    w15 = fit_gpd(x15, var(x15, 0.9)).warnings
    assert any(w.startswith("infinite-variance tail") for w in w15)
    assert not any(w.startswith("infinite-mean tail") for w in w15)
    x05 = rng.pareto(0.5, 5000) + 1.0  # ξ = 2
    f = fit_gpd(x05, var(x05, 0.9))
    assert f.shape == pytest.approx(2.0, abs=3 * f.shape_se)
    assert any(w.startswith("infinite-mean tail") for w in f.warnings)


def test_all_equal_data_raise_a_clear_error():
    with pytest.raises(DegenerateSampleError, match="all 100 values equal 3.0"):
        fit_gpd(np.full(100, 3.0), 1.0)
    with pytest.raises(DegenerateSampleError):
        choose_threshold(np.full(1000, 2.5))
    with pytest.raises(DegenerateSampleError):
        mean_excess(np.zeros(50))


def test_too_few_or_equal_exceedances_raise():
    with pytest.raises(DegenerateSampleError, match=f"at least {MIN_EXCEEDANCES}"):
        fit_gpd(np.arange(100.0), 95.0)
    with pytest.raises(DegenerateSampleError, match="exceedances equal"):
        fit_gpd(np.r_[np.arange(50.0), np.full(20, 99.0)], 60.0)
    with pytest.raises(StatsError, match="threshold"):
        fit_gpd(np.arange(100.0), float("nan"))


def test_fit_is_pure_frozen_and_json_safe(pareto3, fits):
    f = fits["pareto"]
    assert fit_gpd(pareto3, f.threshold) == f
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.shape = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        f.excesses[0] = 1.0
    d = json.loads(json.dumps(f.as_dict(), allow_nan=False))
    assert d["shape"] == f.shape and d["n_exceed"] == f.n_exceed and "excesses" not in d
    assert len(f.as_dict(include_excesses=True)["excesses"]) == f.n_exceed


# --- tail quantiles ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["pareto", "exp", "beta"])
@pytest.mark.parametrize("method", ["profile", "delta"])
def test_tail_quantile_intervals_cover_the_true_quantiles(fits, name, method):
    f = fits[name]
    for q in tail_quantiles(f, (0.999, 0.9999), N, 0.95, method=method):
        truth = TRUE_QUANTILE[name](q.level)
        assert q.lower < truth < q.upper, (q, truth)
        assert q.lower < q.value < q.upper
        assert 1 / 1.5 < q.value / truth < 1.5
        assert q.method == method and q.rate == pytest.approx(0.1)
        json.dumps(q.as_dict(), allow_nan=False)


def test_tail_quantile_is_the_pot_formula(fits):
    f = fits["pareto"]
    p, u, xi, s = 0.9995, f.threshold, f.shape, f.scale
    expected = u + s / xi * (((N / f.n_exceed) * (1 - p)) ** (-xi) - 1)
    assert tail_quantile(f, p, N).value == pytest.approx(expected, rel=1e-12)
    assert tail_quantile(f, p).value == pytest.approx(expected, rel=1e-12)  # n_total = fit.n


def test_tail_quantile_exponential_limit_is_continuous(fits):
    f = fits["exp"]
    r = (f.n / f.n_exceed) * (1 - 0.999)
    limit = f.threshold - f.scale * math.log(r)
    at_zero = dataclasses.replace(f, shape=0.0, shape_se=None)
    assert tail_quantile(at_zero, 0.999, method="delta").value == pytest.approx(limit, rel=1e-14)
    for xi in (1e-13, -1e-13, 1e-9, -1e-9):
        near = dataclasses.replace(f, shape=xi, shape_se=None)
        assert tail_quantile(near, 0.999, method="delta").value == pytest.approx(limit, rel=1e-7)


def test_n_total_sets_the_exceedance_rate(fits):
    f = fits["pareto"]
    # ten times the paths at a ten times smaller tail probability is the same POT quantile
    a = tail_quantile(f, 0.999, N, method="delta").value
    b = tail_quantile(f, 0.9999, 10 * N, method="delta").value
    assert b == pytest.approx(a, rel=1e-12)
    with pytest.raises(StatsError, match="n_total"):
        tail_quantile(f, 0.999, f.n_exceed - 1)


def test_profile_interval_is_asymmetric_for_a_heavy_tail(fits):
    q = tail_quantile(fits["pareto"], 0.9999)
    assert q.upper - q.value > 1.2 * (q.value - q.lower)
    assert q.se is not None and q.se > 0


def test_levels_inside_the_body_are_rejected(fits):
    with pytest.raises(StatsError, match="above the threshold"):
        tail_quantile(fits["exp"], 0.85)
    with pytest.raises(StatsError):
        tail_quantile(fits["exp"], 0.999, method="wald")  # type: ignore[arg-type]


# --- threshold choice ----------------------------------------------------------------------

def test_choose_threshold_rule_on_a_body_plus_pareto_tail_mixture():
    rng = np.random.default_rng(1)
    # 85 % uniform body on [0, 1], 15 % Pareto(3) tail above 1: low candidates sit in the body
    x = np.concatenate([rng.uniform(0.0, 1.0, 17_000), 1.0 + rng.pareto(3.0, 3000)])
    ch = choose_threshold(x)
    assert len(ch.candidates) == len(DEFAULT_THRESHOLD_LEVELS) == 19
    assert [c.level for c in ch.candidates] == list(DEFAULT_THRESHOLD_LEVELS)
    assert ch.level >= 0.84 and ch.threshold > 0.95
    assert not ch.candidates[0].stable and not ch.candidates[3].stable
    # the documented rule, recomputed from the candidates
    z = stats.norm.ppf(0.975)
    cands = ch.candidates
    j = [c.level for c in cands].index(ch.level)
    assert all(abs(cands[j].shape - c.shape) <= z * c.shape_se for c in cands[j + 1 :])
    for i in range(j):
        assert any(abs(cands[i].shape - c.shape) > z * c.shape_se for c in cands[i + 1 :])
    assert ch.n_exceed == np.count_nonzero(x > ch.threshold)
    assert "lowest candidate" in ch.reason
    fit = fit_gpd(x, ch.threshold)
    lo, hi = fit.shape_ci()
    assert lo < 1 / 3 < hi
    json.dumps(ch.as_dict(), allow_nan=False)


def test_choose_threshold_keeps_the_lowest_level_on_an_exact_gpd_tail(beta13):
    ch = choose_threshold(beta13)
    assert ch.level == 0.8
    assert all(c.stable for c in ch.candidates)


def test_choose_threshold_fallbacks_and_errors():
    x = np.random.default_rng(6).exponential(1.0, 1000)
    one = choose_threshold(x, levels=(0.9,))
    assert one.level == 0.9 and one.n_exceed == 100 and "only one candidate" in one.reason
    # candidates with fewer than min_exceedances exceedances are skipped
    ch = choose_threshold(x, min_exceedances=100)
    assert max(c.level for c in ch.candidates) == 0.9
    with pytest.raises(DegenerateSampleError, match="min_exceedances"):
        choose_threshold(x[:200], min_exceedances=50)
    with pytest.raises(StatsError):
        choose_threshold(x, min_exceedances=3)


# --- mean excess ---------------------------------------------------------------------------

def test_mean_excess_hand_example():
    me = mean_excess([4.0, 1.0, 3.0, 2.0], thresholds=[3.5, 0.0, 2.0], min_exceedances=2)
    assert me.thresholds == (0.0, 2.0)  # sorted; 3.5 has a single exceedance and is dropped
    assert me.mean_excess == (2.5, 1.5)
    assert me.n_exceed == (4, 2)
    assert me.lower[0] < 2.5 < me.upper[0]
    half = stats.norm.ppf(0.975) * np.std([3.0, 2.0, 1.0, 0.0], ddof=1) / 2.0
    assert me.upper[0] - 2.5 == pytest.approx(half)


def test_mean_excess_shapes_for_known_tails(expo, pareto3):
    me = mean_excess(expo)
    assert len(me.thresholds) <= 100 and me.thresholds[0] == expo.min()
    assert list(me.thresholds) == sorted(set(me.thresholds))
    assert min(me.n_exceed) >= 5
    bulk = np.array(me.n_exceed) >= 1000
    # exponential: flat at the mean
    np.testing.assert_allclose(np.array(me.mean_excess)[bulk], 2.0, rtol=0.08)
    # Pareto(3) above 1: e(u) = u / (α - 1), slope ξ/(1-ξ) = 1/2
    mp = mean_excess(pareto3, n_thresholds=50)
    keep = np.array(mp.n_exceed) >= 1000
    slope = np.polyfit(np.array(mp.thresholds)[keep], np.array(mp.mean_excess)[keep], 1)[0]
    assert slope == pytest.approx(0.5, abs=0.1)
    json.dumps(mp.as_dict(), allow_nan=False)


# --- diagnostics ---------------------------------------------------------------------------

def test_tail_diagnostics_track_the_fitted_tail(fits):
    f = fits["pareto"]
    d = tail_diagnostics(f)
    k = f.n_exceed
    assert len(d.values) == len(d.empirical_sf) == len(d.model_sf) == len(d.model_quantiles) == k
    assert np.all(np.diff(d.values) >= 0) and np.all(np.diff(d.empirical_sf) < 0)
    assert d.empirical_sf[0] == pytest.approx(0.1 * (k - 0.5) / k)
    assert 0 < d.empirical_sf[-1] and d.model_sf[0] <= 0.1
    # away from the last few points the model tracks the empirical tail closely
    ratio = np.log(np.array(d.model_sf[: k - 20]) / np.array(d.empirical_sf[: k - 20]))
    assert np.max(np.abs(ratio)) < 0.2
    assert np.corrcoef(d.values, d.model_quantiles)[0, 1] > 0.99
    assert tail_diagnostics(f, 2 * N).rate == pytest.approx(0.05)
    json.dumps(d.as_dict(), allow_nan=False)
