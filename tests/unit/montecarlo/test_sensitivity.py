"""Sobol indices against the Ishigami function's analytic values, exactness on additive
functions, and tornado ordering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim.montecarlo.sensitivity import (
    SensitivityError,
    TornadoBar,
    saltelli_design,
    sobol_grid,
    sobol_sampled,
    tornado,
)

A, B = 7.0, 0.1


def ishigami(x1, x2, x3):
    return np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)


def ishigami_indices() -> tuple[list[float], list[float]]:
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * math.pi**8 / 225
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_grid_indices_of_ishigami_match_the_analytic_values() -> None:
    n = 48
    x = -math.pi + (np.arange(n) + 0.5) * 2 * math.pi / n  # cell centres of [-pi, pi]
    y = ishigami(*np.meshgrid(x, x, x, indexing="ij"))
    s = sobol_grid(y, ["x1", "x2", "x3"])
    first, total = ishigami_indices()
    assert s.first == pytest.approx(first, abs=0.01)
    assert s.total == pytest.approx(total, abs=0.01)
    assert all(f <= t + 1e-12 for f, t in zip(s.first, s.total))
    assert s.evaluations == n**3 and s.first_ci is None


def test_grid_indices_are_exact_for_an_additive_function() -> None:
    a, b = np.array([0.0, 1.0, 2.0]), np.array([0.0, 3.0])
    y = a[:, None] + b[None, :]  # Var(a) = 2/3, Var(b) = 9/4, no interaction
    s = sobol_grid(y, ["a", "b"])
    v = 2 / 3 + 9 / 4
    assert s.first == pytest.approx((2 / 3 / v, 9 / 4 / v), abs=1e-12)
    assert s.total == pytest.approx(s.first, abs=1e-12)
    assert sum(s.first) == pytest.approx(1.0)


def test_sampled_indices_of_ishigami_cover_the_analytic_values() -> None:
    bounds = [(-math.pi, math.pi)] * 3
    rows = saltelli_design(bounds, 4096, seed=1)
    assert rows.shape == (4096 * 5, 3)
    s = sobol_sampled(ishigami(*rows.T), ["x1", "x2", "x3"], seed=2)
    first, total = ishigami_indices()
    for i in range(3):
        assert s.first[i] == pytest.approx(first[i], abs=0.05)
        assert s.total[i] == pytest.approx(total[i], abs=0.05)
        lo, hi = s.total_ci[i]
        assert lo - 0.02 <= total[i] <= hi + 0.02


def test_design_blocks_share_columns_as_saltelli_requires() -> None:
    rows = saltelli_design([(0, 1), (10, 20)], 8, seed=0)
    a, b, ab0, ab1 = rows[:8], rows[8:16], rows[16:24], rows[24:]
    assert np.all((a[:, 1] >= 10) & (a[:, 1] <= 20))
    assert np.array_equal(ab0[:, 0], b[:, 0]) and np.array_equal(ab0[:, 1], a[:, 1])
    assert np.array_equal(ab1[:, 1], b[:, 1]) and np.array_equal(ab1[:, 0], a[:, 0])
    assert np.array_equal(rows, saltelli_design([(0, 1), (10, 20)], 8, seed=0))


@pytest.mark.parametrize(("y", "params", "problem"), [
    (np.ones((3, 3)), ["a", "b"], "same at every grid point"),
    (np.ones((3,)), ["a", "b"], "axes"),
    (np.arange(3.0)[None, :], ["a", "b"], "at least two values"),
])
def test_grid_refusals(y, params, problem) -> None:
    with pytest.raises(SensitivityError, match=problem):
        sobol_grid(y, params)


def test_design_refuses_bad_sizes() -> None:
    with pytest.raises(SensitivityError, match="power of two"):
        saltelli_design([(0, 1)], 6, seed=0)
    with pytest.raises(SensitivityError, match="low < high"):
        saltelli_design([(1, 1)], 8, seed=0)


def test_tornado_sorts_by_swing() -> None:
    bars = [TornadoBar("a", 0, 1, 5, 6, 5.5), TornadoBar("b", 0, 1, 9, 1, 5.5),
            TornadoBar("c", 0, 1, 5, 5, 5.5)]
    assert [b.param for b in tornado(bars)] == ["b", "a", "c"]
    assert tornado(bars)[0].swing == 8
