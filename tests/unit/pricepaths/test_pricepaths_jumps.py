"""Merton jump diffusion: jump counts are Poisson at the given intensity, E[S_T] = S_0 e^{mu T}.

Tolerances are ~5 standard errors on seeded samples.
"""

from __future__ import annotations

import numpy as np
import pytest

from defisim.pricepaths import SECONDS_PER_YEAR, generate, parse_price_model

EPS = np.finfo(np.float64).eps
HOUR = 3600
YEAR_IN_50_BLOCKS = SECONDS_PER_YEAR // 50  # 630720 s: 50 blocks make exactly one year


def _jd(assets: dict, common: bool, **extra):
    return parse_price_model({"model": "jump-diffusion", "common_jumps": common, "assets": assets, **extra})


def _jump_counts(paths, asset: str, mu: float, lam: float, jump_mean: float) -> np.ndarray:
    """Jumps per block recovered from a zero-vol, fixed-size-jump path."""
    dt = paths.block_time_s / SECONDS_PER_YEAR
    kappa = np.expm1(jump_mean)
    r = np.diff(np.log(paths.of(asset)))
    counts = (r - (mu - lam * kappa) * dt) / jump_mean
    rounded = np.rint(counts)
    assert np.max(np.abs(counts - rounded)) < 1e-6
    return rounded.astype(np.int64)


def test_independent_jump_counts_match_intensity() -> None:
    lams = {"A": 5.0, "B": 50.0, "C": 200.0, "Z": 0.0}
    assets = {
        k: {"start": 100.0, "mu": 0.02, "sigma": 0.0, "jump_intensity": lam, "jump_mean": -0.1, "jump_std": 0.0}
        for k, lam in lams.items()
    }
    years = 20
    n = years * SECONDS_PER_YEAR // HOUR
    paths = generate(_jd(assets, common=False), n, HOUR, np.random.default_rng(7))
    blocks_with = {}
    for k, lam in lams.items():
        counts = _jump_counts(paths, k, 0.02, lam, -0.1)
        assert counts.min() >= 0
        expected = lam * years
        assert abs(counts.sum() - expected) <= 5 * np.sqrt(max(expected, 1.0))
        blocks_with[k] = set(np.flatnonzero(counts))
    # independent: jump times of A and C coincide only by chance (~ |A| |C| / n blocks)
    chance = len(blocks_with["A"]) * len(blocks_with["C"]) / n
    assert len(blocks_with["A"] & blocks_with["C"]) <= chance + 5 * np.sqrt(chance) + 1
    assert len(blocks_with["A"]) > 50  # ... whereas common jumps would share all of A's
    t = np.arange(n + 1) * (HOUR / SECONDS_PER_YEAR)
    np.testing.assert_allclose(paths.of("Z"), 100.0 * np.exp(0.02 * t), rtol=4 * EPS)


def test_common_jumps_share_times_and_thin_lower_intensities() -> None:
    lams = {"A": 50.0, "B": 50.0, "C": 10.0}
    assets = {
        k: {"start": 1.0, "mu": 0.0, "sigma": 0.0, "jump_intensity": lam, "jump_mean": -0.05, "jump_std": 0.0}
        for k, lam in lams.items()
    }
    years = 40
    n = years * SECONDS_PER_YEAR // HOUR
    paths = generate(_jd(assets, common=True), n, HOUR, np.random.default_rng(11))
    counts = {k: _jump_counts(paths, k, 0.0, lam, -0.05) for k, lam in lams.items()}
    assert np.array_equal(counts["A"], counts["B"])
    assert np.all(counts["C"] <= counts["A"])  # C takes a subset of the market-wide events
    for k, lam in lams.items():
        assert abs(counts[k].sum() - lam * years) <= 5 * np.sqrt(lam * years)


def test_common_jump_sizes_share_one_shock() -> None:
    assets = {
        "A": {"start": 1.0, "sigma": 0.0, "jump_intensity": 30, "jump_mean": -0.1, "jump_std": 0.05},
        "B": {"start": 1.0, "sigma": 0.0, "jump_intensity": 30, "jump_mean": -0.2, "jump_std": 0.10},
    }
    paths = generate(_jd(assets, common=True), 20_000, HOUR, np.random.default_rng(2))
    ra, rb = (np.diff(np.log(paths.of(k))) for k in ("A", "B"))
    jumped = np.abs(ra - np.median(ra)) > 1e-9
    assert jumped.sum() > 30
    assert np.corrcoef(ra[jumped], rb[jumped])[0, 1] > 0.999


def _jd_params(lam: float) -> dict:
    return {"start": 1.0, "mu": 0.1, "sigma": 0.2, "jump_intensity": lam, "jump_mean": -0.1, "jump_std": 0.2}


def test_expected_terminal_price_independent_jumps() -> None:
    n_assets = 20_000
    model = _jd({f"X{i}": _jd_params(5.0) for i in range(n_assets)}, common=False)
    paths = generate(model, 50, YEAR_IN_50_BLOCKS, np.random.default_rng(123))
    st = paths.prices[:, -1]  # S_T / S_0, T = 1 year
    se = st.std(ddof=1) / np.sqrt(n_assets)
    assert abs(st.mean() - np.exp(0.1)) < 5 * se
    # uncompensated drift would be off by a factor exp(lambda kappa) ~ 0.61: far outside
    assert 5 * se < 0.05


def test_expected_terminal_price_common_jumps_with_thinning() -> None:
    model = _jd({"A": _jd_params(5.0), "B": _jd_params(2.0)}, common=True)
    seeds = np.random.SeedSequence(99).spawn(2000)
    finals = np.array([generate(model, 50, YEAR_IN_50_BLOCKS, np.random.default_rng(s)).prices[:, -1] for s in seeds])
    for j in range(2):
        se = finals[:, j].std(ddof=1) / np.sqrt(len(seeds))
        assert abs(finals[:, j].mean() - np.exp(0.1)) < 5 * se


def test_zero_intensity_equals_gbm_draws() -> None:
    jd = _jd({"A": {"start": 5.0, "mu": 0.1, "sigma": 0.4, "jump_intensity": 0, "jump_mean": -0.1, "jump_std": 0.1}}, common=True)
    gbm = parse_price_model({"model": "gbm", "assets": {"A": {"start": 5.0, "mu": 0.1, "sigma": 0.4}}})
    a = generate(jd, 1000, 12, np.random.default_rng(4)).prices
    b = generate(gbm, 1000, 12, np.random.default_rng(4)).prices
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("common", [True, False])
def test_jump_path_positive_and_deterministic(common: bool) -> None:
    model = _jd({"A": _jd_params(50.0), "B": _jd_params(20.0)}, common=common)
    a = generate(model, 5000, HOUR, np.random.default_rng(8))
    b = generate(model, 5000, HOUR, np.random.default_rng(8))
    assert a.digest() == b.digest()
    assert np.all(a.prices > 0)


@pytest.mark.parametrize("common", [True, False])
def test_many_jumps_per_block_have_the_compound_poisson_variance(common: bool) -> None:
    """With lambda dt = 4 jumps per block, the summed jump has mean lambda dt m, variance lambda dt (m^2 + s^2)."""
    lam, m, s, n = 200.0, -0.01, 0.05, 40_000
    model = _jd({"A": {"start": 1.0, "mu": 0.0, "sigma": 0.0, "jump_intensity": lam, "jump_mean": m, "jump_std": s}},
                common=common)
    paths = generate(model, n, YEAR_IN_50_BLOCKS, np.random.default_rng(31))
    dt = 1 / 50
    r = np.diff(np.log(paths.of("A"))) - (0.0 - lam * np.expm1(m + 0.5 * s**2)) * dt  # remove the drift
    var = lam * dt * (m**2 + s**2)
    assert abs(r.mean() - lam * dt * m) < 5 * np.sqrt(var / n)
    # sample variance: SE = var * sqrt((kurtosis - 1) / n); kurtosis here is ~3.25
    assert abs(r.var(ddof=1) / var - 1) < 5 * np.sqrt(2.5 / n)
