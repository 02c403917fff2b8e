"""Scripted price paths: interpolation, holding before/after, durations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.errors import ScenarioError
from defisim.pricepaths import ScriptedModel, generate, parse_price_model

EPS = np.finfo(np.float64).eps


def _gen(assets: dict, n_blocks: int = 400, block_time_s: int = 12, interpolation: str = "log"):
    model = parse_price_model({"model": "scripted", "interpolation": interpolation, "assets": assets})
    return generate(model, n_blocks, block_time_s, np.random.default_rng(0))


@pytest.mark.parametrize("interpolation", ["linear", "log"])
def test_exact_at_points_and_flat_outside(interpolation: str) -> None:
    pts = [[10, 3000.0], [110, 1234.5], [210, 2999.9], [300, 17.25]]
    p = _gen({"ETH": pts}, n_blocks=400, interpolation=interpolation).of("ETH")
    for t, price in pts:
        assert p[t] == price  # bit-exact
    assert np.all(p[:10] == 3000.0)  # before the first point: the first price
    assert np.all(p[300:] == 17.25)  # after the last: the last price


def test_linear_midpoint() -> None:
    p = _gen({"ETH": [[0, 3000.0], [100, 1000.0], [300, 2000.0]]}, interpolation="linear").of("ETH")
    assert p[50] == pytest.approx(2000.0, rel=2 * EPS)
    assert p[200] == pytest.approx(1500.0, rel=2 * EPS)
    assert p[25] == pytest.approx(2500.0, rel=2 * EPS)


def test_log_midpoint_is_geometric() -> None:
    p = _gen({"ETH": [[0, 3000.0], [100, 1000.0], [300, 2000.0]]}, interpolation="log").of("ETH")
    assert p[50] == pytest.approx(math.sqrt(3000.0 * 1000.0), rel=4 * EPS)
    assert p[200] == pytest.approx(math.sqrt(1000.0 * 2000.0), rel=4 * EPS)
    # a quarter of the way: 3000 * (1/3) ** 0.25
    assert p[25] == pytest.approx(3000.0 * (1 / 3) ** 0.25, rel=4 * EPS)
    # log-linear: equal ratios per block within a segment
    r = p[1:100] / p[:99]
    assert np.allclose(r, r[0], rtol=1e-12, atol=0)


def test_per_asset_interpolation_override_and_constant() -> None:
    paths = _gen(
        {"A": {"points": [[0, 1.0], [100, 3.0]], "interpolation": "linear"}, "B": [[0, 1.0], [100, 4.0]], "U": 1.0},
        interpolation="log",
    )
    assert paths.at("A", 50) == pytest.approx(2.0, rel=2 * EPS)
    assert paths.at("B", 50) == pytest.approx(2.0, rel=4 * EPS)  # geometric mean of 1 and 4
    assert np.all(paths.of("U") == 1.0)
    assert paths.assets == ("A", "B", "U")


def test_durations_convert_with_block_time() -> None:
    assets = {"ETH": [[0, 3000.0], ["1h", 1500.0], ["90s", 2000.0]]}
    # "90s" comes before "1h" only in wall time; order here is invalid with any block time.
    with pytest.raises(ScenarioError):
        _gen(assets)
    p12 = _gen({"ETH": [[0, 3000.0], ["30m", 2000.0], ["1h", 1500.0]]}, n_blocks=400).of("ETH")
    assert p12[150] == 2000.0 and p12[300] == 1500.0
    p2 = _gen({"ETH": [[0, 3000.0], ["30m", 2000.0], ["1h", 1500.0]]}, n_blocks=2000, block_time_s=2).of("ETH")
    assert p2[900] == 2000.0 and p2[1800] == 1500.0
    p_round = _gen({"ETH": [["90s", 5.0], [20, 6.0]]}).of("ETH")  # 7.5 blocks -> block 8
    assert p_round[8] == 5.0 and p_round[9] != 5.0


def test_collision_after_rounding_is_scenario_error() -> None:
    model = parse_price_model({"model": "scripted", "assets": {"ETH": [[0, 1.0], ["10s", 2.0], ["15s", 3.0]]}})
    with pytest.raises(ScenarioError) as info:
        generate(model, 10, 12, np.random.default_rng(0))
    (path, msg), = info.value.problems
    assert path == "assets.ETH.points" and "strictly increasing" in msg
    generate(model, 10, 1, np.random.default_rng(0))  # fine with 1 s blocks


def test_single_point_and_points_beyond_horizon() -> None:
    p = _gen({"A": [["2h", 7.0]], "B": [[0, 1.0], [10_000, 2.0]]}, n_blocks=100)
    assert np.all(p.of("A") == 7.0)
    assert p.at("B", 100) == pytest.approx(2.0 ** (100 / 10_000), rel=4 * EPS)


def test_scripted_draws_nothing() -> None:
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    generate(ScriptedModel(assets={"A": 1.0}), 10, 12, rng)
    assert rng.bit_generator.state == before


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 50), st.floats(1e-6, 1e9, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["linear", "log"]),
)
def test_paths_stay_within_point_range(gaps: list[tuple[int, float]], interpolation: str) -> None:
    t, points = 0, []
    for gap, price in gaps:
        points.append([t, price])
        t += gap
    p = _gen({"X": points}, n_blocks=t + 5, interpolation=interpolation).of("X")
    prices = [pr for _, pr in points]
    lo, hi = min(prices), max(prices)
    assert np.all(p > 0)
    assert np.all(p >= lo * (1 - 8 * EPS)) and np.all(p <= hi * (1 + 8 * EPS))
    for tt, pr in points:
        assert p[tt] == pr
