"""PricePaths object, determinism and speed of generate."""

from __future__ import annotations


import numpy as np
import pytest

from defisim.errors import ScenarioError
from defisim.pricepaths import PricePaths, generate, parse_price_model

MODELS = {
    "scripted": {"model": "scripted", "assets": {"ETH": [[0, 3000], ["1h", 2000]], "USDC": 1.0}},
    "gbm": {
        "model": "gbm",
        "assets": {"ETH": {"start": 3000, "mu": 0.0, "sigma": 0.8}, "BTC": {"start": 60000, "sigma": 0.6}},
        "correlation": [[1, 0.7], [0.7, 1]],
        "stress": {"at": "10m", "depth": 0.3, "over": "20m", "vol_multiplier": 2, "correlation_to": 0.95},
    },
    "jump-common": {
        "model": "jump-diffusion",
        "assets": {
            "ETH": {"start": 3000, "sigma": 0.6, "jump_intensity": 400, "jump_mean": -0.1, "jump_std": 0.05},
            "BTC": {"start": 60000, "sigma": 0.5, "jump_intensity": 200, "jump_mean": -0.08, "jump_std": 0.04},
        },
    },
    "jump-indep": {
        "model": "jump-diffusion",
        "common_jumps": False,
        "assets": {"ETH": {"start": 3000, "sigma": 0.6, "jump_intensity": 400, "jump_mean": -0.1, "jump_std": 0.05}},
    },
}


@pytest.mark.parametrize("name", list(MODELS))
def test_same_seed_same_bytes(name: str) -> None:
    model = parse_price_model(MODELS[name])
    a = generate(model, 5000, 12, np.random.default_rng(2024))
    b = generate(model, 5000, 12, np.random.default_rng(np.random.SeedSequence(2024)))
    assert a.prices.tobytes() == b.prices.tobytes()
    assert a.digest() == b.digest()


@pytest.mark.parametrize("name", [n for n in MODELS if n != "scripted"])
def test_different_seed_different_path(name: str) -> None:
    model = parse_price_model(MODELS[name])
    a = generate(model, 5000, 12, np.random.default_rng(1))
    b = generate(model, 5000, 12, np.random.default_rng(2))
    assert a.digest() != b.digest()
    assert not np.array_equal(a.prices, b.prices)
    rng = np.random.default_rng(1)
    first, second = generate(model, 5000, 12, rng), generate(model, 5000, 12, rng)
    assert first.digest() == a.digest() and second.digest() != first.digest()  # the state advances


def test_price_paths_accessors() -> None:
    p = generate(parse_price_model(MODELS["gbm"]), 100, 12, np.random.default_rng(0))
    assert p.assets == ("ETH", "BTC") and p.block_time_s == 12 and p.n_blocks == 100
    assert p.prices.shape == (2, 101) and p.prices.dtype == np.float64
    assert p.at("ETH", 0) == 3000.0 and p.at("BTC", 0) == 60000.0
    assert isinstance(p.at("ETH", 100), float)
    assert p.of("BTC").shape == (101,) and p.of("BTC")[7] == p.at("BTC", 7)
    with pytest.raises(KeyError, match="known assets"):
        p.of("SOL")
    with pytest.raises(IndexError):
        p.at("ETH", 101)
    with pytest.raises(IndexError):
        p.at("ETH", -1)
    with pytest.raises(ValueError):
        p.of("ETH")[0] = 1.0  # read-only
    with pytest.raises(AttributeError):
        p.block_time_s = 2  # type: ignore[misc]


def test_price_paths_checks_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        PricePaths(assets=("A", "B"), prices=np.ones((1, 5)), block_time_s=12)
    with pytest.raises(ValueError, match="unique"):
        PricePaths(assets=("A", "A"), prices=np.ones((2, 5)), block_time_s=12)


def test_zero_blocks_is_the_start() -> None:
    p = generate(parse_price_model(MODELS["jump-common"]), 0, 12, np.random.default_rng(0))
    assert p.prices.tolist() == [[3000.0], [60000.0]]


@pytest.mark.parametrize(("n_blocks", "block_time_s", "field"), [(-1, 12, "n_blocks"), (10, 0, "block_time_s"), (1.5, 12, "n_blocks")])
def test_bad_horizon(n_blocks, block_time_s, field) -> None:
    with pytest.raises(ScenarioError) as info:
        generate(parse_price_model(MODELS["gbm"]), n_blocks, block_time_s, np.random.default_rng(0))
    assert info.value.problems[0][0] == field
