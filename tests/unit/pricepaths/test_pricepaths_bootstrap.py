"""Block bootstrap: every simulated step is a data row, blocks are consecutive rows, long
runs have the data's mean and variance, and the same seed gives the same path."""

from __future__ import annotations

import numpy as np
import pytest

from defisim.errors import ScenarioError
from defisim.pricepaths import generate, load_returns_data, parse_price_model
from defisim.pricepaths.bootstrap import bootstrap_indices

DATA = "builtin:binance-eth-btc-1h-2020-2022"
TABLE = load_returns_data(DATA).log_returns(("ETH", "BTC"))


def _model(**over):
    data = {"model": "bootstrap", "data": DATA,
            "assets": {"WETH": {"column": "ETH", "start": 3000.0}, "WBTC": {"column": "BTC", "start": 60000.0}}}
    data.update(over)
    return parse_price_model(data)


def _runs(idx: np.ndarray, n: int) -> np.ndarray:
    """Lengths of runs of consecutive rows (mod n)."""
    breaks = np.flatnonzero((idx[1:] - idx[:-1]) % n != 1) + 1
    return np.diff(np.concatenate([[0], breaks, [idx.size]]))


def test_circular_blocks_are_consecutive_rows() -> None:
    n, m, L = 1000, 10_000, 24
    idx = bootstrap_indices(n, m, L, "circular", np.random.default_rng(0))
    assert idx.shape == (m,) and idx.min() >= 0 and idx.max() < n
    blocks = idx[: (m // L) * L].reshape(-1, L)
    np.testing.assert_array_equal((blocks - blocks[:, :1]) % n, np.broadcast_to(np.arange(L), blocks.shape))


def test_stationary_block_lengths_are_geometric() -> None:
    n, m, L = 50_000, 400_000, 24
    rng = np.random.default_rng(1)
    idx = bootstrap_indices(n, m, L, "stationary", rng)
    runs = _runs(idx, n)
    # a new block may by chance continue where the last ended (prob 1/n): runs ~ blocks
    assert abs(runs.mean() - L) < 5 * np.sqrt(L * (L - 1) / runs.size)
    assert runs.min() >= 1 and (runs == 1).mean() == pytest.approx(1 / L, abs=0.01)


def test_block_length_one_is_iid() -> None:
    idx = bootstrap_indices(100, 1000, 1, "circular", np.random.default_rng(2))
    assert np.unique(idx).size > 90


@pytest.mark.parametrize("scheme", ["circular", "stationary"])
@pytest.mark.parametrize("interpolation", ["bridge", "log-linear"])
def test_every_step_return_is_a_data_row(scheme: str, interpolation: str) -> None:
    """12 s blocks, 300 per hour: the hourly returns of the path are the drawn data rows."""
    model = _model(scheme=scheme, interpolation=interpolation, block_length=6)
    n_steps = 200
    p = generate(model, 300 * n_steps, 12, np.random.default_rng(5))
    idx = bootstrap_indices(TABLE.shape[0], n_steps, 6, scheme, np.random.default_rng(5))
    hourly = np.diff(np.log(p.prices[:, ::300]), axis=1)
    np.testing.assert_allclose(hourly, TABLE[idx].T, rtol=0, atol=1e-12)
    assert p.at("WETH", 0) == 3000.0 and p.at("WBTC", 0) == 60000.0
    runs = _runs(idx, TABLE.shape[0])
    if scheme == "circular":
        assert np.all(runs[:-1] % 6 == 0)  # whole blocks (two blocks may join by chance)


def test_long_bootstrap_matches_data_moments() -> None:
    """500,000 resampled hours: mean within 5 (block-adjusted) standard errors, variance
    within 5%, correlation within 0.01."""
    m = 500_000
    p = generate(_model(interpolation="log-linear"), m, 3600, np.random.default_rng(8))
    r = np.diff(np.log(p.prices), axis=1)
    mean, sd = TABLE.mean(axis=0), TABLE.std(axis=0)
    se = sd * np.sqrt(24) / np.sqrt(m)  # blocks of 24 correlated draws
    assert np.all(np.abs(r.mean(axis=1) - mean) < 5 * se)
    assert np.all(np.abs(r.var(axis=1) / sd**2 - 1) < 0.05)
    assert abs(np.corrcoef(r)[0, 1] - np.corrcoef(TABLE.T)[0, 1]) < 0.01


def test_bridge_block_variance_and_demean() -> None:
    """600 s blocks: per-block variance is the hourly variance / 6 (within 6%)."""
    per, m = 6, 100_000
    p = generate(_model(demean=True), per * m, 600, np.random.default_rng(4))
    r = np.diff(np.log(p.prices), axis=1)
    sd2 = TABLE.var(axis=0)
    assert np.all(np.abs(r.var(axis=1) / (sd2 / per) - 1) < 0.06)
    hourly = np.diff(np.log(p.prices[:, ::per]), axis=1)
    assert np.all(np.abs(hourly.mean(axis=1)) < 5 * np.sqrt(sd2 * 24 / m))


def test_determinism() -> None:
    model = _model()
    a = generate(model, 5000, 12, np.random.default_rng(3))
    b = generate(model, 5000, 12, np.random.default_rng(3))
    c = generate(model, 5000, 12, np.random.default_rng(4))
    assert a.digest() == b.digest() != c.digest()


def test_stress_crash_and_vol_multiplier() -> None:
    base = generate(_model(), 3000, 12, np.random.default_rng(6)).prices
    hit = generate(_model(stress={"at": 1000, "depth": 0.25, "over": 500, "vol_multiplier": 2.0}), 3000, 12,
                   np.random.default_rng(6)).prices
    np.testing.assert_array_equal(hit[:, :1001], base[:, :1001])
    mean = (TABLE.mean(axis=0) * 12 / 3600)[:, None]
    d0, d1 = np.diff(np.log(base[:, 1500:]), axis=1), np.diff(np.log(hit[:, 1500:]), axis=1)
    np.testing.assert_allclose(d1 - mean, 2 * (d0 - mean), rtol=1e-6, atol=1e-14)


def test_correlation_to_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        _model(stress={"at": 0, "depth": 0.1, "correlation_to": 0.9})
    (path, msg), = info.value.problems
    assert path == "bootstrap.stress" and "use garch" in msg
