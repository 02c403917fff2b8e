"""Sensitivity of an output statistic to parameters: tornado (one at a time) and Sobol indices.

Pure functions on numbers already computed (fast layer, numpy float64); the sweep
(:mod:`defisim.montecarlo.sweep`) runs the simulations.

**Tornado.** For each parameter, the output at its lowest and highest value with every other
parameter at its baseline; bars sorted by swing ``|y(high) - y(low)|``.

**Sobol indices from a full grid** (:func:`sobol_grid`). On a full factorial grid with the
parameters independent and each uniform on its grid values, the variance decomposition is
exact (no sampling error in the indices themselves): with ``Y`` reshaped to one axis per
parameter,

- first order ``S_i = Var(E[Y | X_i]) / Var(Y)``: average over every axis but ``i``, take
  the variance along ``i``;
- total ``S_Ti = E[Var(Y | X_~i)] / Var(Y)``: the variance along axis ``i``, averaged over
  the other axes.

``S_i <= S_Ti``; ``sum S_i <= 1`` with equality when ``Y`` is additive. These are indices of
the *discrete* uniform distribution on the grid; a finer grid approaches the continuous ones
(tested on the Ishigami function).

**Sobol indices by sampling** (:func:`saltelli_design`, :func:`sobol_sampled`), for more
parameters than a full grid can afford: scrambled Sobol' points for two matrices ``A`` and
``B`` over the parameters' ranges and the ``d`` matrices ``AB_i`` (``A`` with column ``i``
from ``B``): ``n·(d+2)`` evaluations. First order by Saltelli et al. (2010),
``S_i = mean(f(B)·(f(AB_i) - f(A))) / V``; total by Jansen (1999),
``S_Ti = mean((f(A) - f(AB_i))²) / (2V)``, ``V`` the variance of ``f(A)`` and ``f(B)``
together; bootstrap intervals over the ``n`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.errors import DefisimError

__all__ = [
    "SensitivityError",
    "SobolIndices",
    "TornadoBar",
    "saltelli_design",
    "sobol_grid",
    "sobol_sampled",
    "tornado",
]


class SensitivityError(DefisimError, ValueError):
    """Inputs that cannot give sensitivity indices (shape mismatch, constant output...)."""


@dataclass(frozen=True, slots=True)
class TornadoBar:
    """One parameter's bar: output at its ``low``/``high`` value (others at baseline)."""

    param: str
    low: float
    high: float
    y_low: float
    y_high: float
    y_base: float

    @property
    def swing(self) -> float:
        return abs(self.y_high - self.y_low)

    def as_dict(self) -> dict[str, Any]:
        return {"param": self.param, "low": self.low, "high": self.high, "y_low": self.y_low,
                "y_high": self.y_high, "y_base": self.y_base, "swing": self.swing}


def tornado(bars: Sequence[TornadoBar]) -> list[TornadoBar]:
    """``bars`` sorted by swing, largest first (ties keep their order)."""
    return sorted(bars, key=lambda b: -b.swing)


@dataclass(frozen=True, slots=True)
class SobolIndices:
    """First-order and total indices per parameter, with intervals when sampled.

    ``first_ci``/``total_ci`` hold ``(lower, upper)`` per parameter (95 % bootstrap) or are
    ``None`` (grid method: exact for the grid). ``variance`` is ``Var(Y)``.
    """

    params: tuple[str, ...]
    first: tuple[float, ...]
    total: tuple[float, ...]
    variance: float
    method: str
    evaluations: int
    first_ci: tuple[tuple[float, float], ...] | None = None
    total_ci: tuple[tuple[float, float], ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "evaluations": self.evaluations,
                               "variance": self.variance, "indices": []}
        for i, p in enumerate(self.params):
            out["indices"].append({
                "param": p, "first": self.first[i], "total": self.total[i],
                "first_ci": None if self.first_ci is None else list(self.first_ci[i]),
                "total_ci": None if self.total_ci is None else list(self.total_ci[i])})
        return out


def sobol_grid(y: np.ndarray, params: Sequence[str]) -> SobolIndices:
    """Exact Sobol indices of ``y`` on a full grid: ``y.shape`` has one axis per parameter
    (at least 2 values each); see the module docstring."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != len(params):
        raise SensitivityError(f"the output has {y.ndim} axes for {len(params)} parameters")
    if any(n < 2 for n in y.shape):
        raise SensitivityError("every parameter needs at least two values for Sobol indices")
    if not np.all(np.isfinite(y)):
        raise SensitivityError("the output has non-finite values")
    v = float(y.var())
    if v <= 0.0:
        raise SensitivityError("the output is the same at every grid point: no variance to "
                               "attribute (all indices undefined)")
    first, total = [], []
    for i in range(y.ndim):
        others = tuple(j for j in range(y.ndim) if j != i)
        first.append(float(y.mean(axis=others).var()) / v if others else 1.0)
        total.append(float(y.var(axis=i).mean()) / v)
    return SobolIndices(tuple(params), tuple(first), tuple(total), v, "grid", int(y.size))


def saltelli_design(bounds: Sequence[tuple[float, float]], n: int, seed: int) -> np.ndarray:
    """The ``n·(d+2)`` points of a Saltelli design over ``bounds`` (rows: ``A``, ``B``, then
    ``AB_1 .. AB_d``, each ``n`` rows); ``n`` a power of two (scrambled Sobol' balance)."""
    from scipy.stats import qmc

    d = len(bounds)
    if d < 1:
        raise SensitivityError("no parameters")
    if n < 2 or n & (n - 1):
        raise SensitivityError(f"the Sobol sample size must be a power of two >= 2, got {n}")
    lo = np.array([b[0] for b in bounds], dtype=np.float64)
    hi = np.array([b[1] for b in bounds], dtype=np.float64)
    if np.any(hi <= lo):
        raise SensitivityError("every range needs low < high")
    base = qmc.Sobol(d=2 * d, scramble=True, seed=np.random.default_rng(seed)).random(n)
    a, b = lo + base[:, :d] * (hi - lo), lo + base[:, d:] * (hi - lo)
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def sobol_sampled(y: np.ndarray, params: Sequence[str], *, seed: int = 0,
                  n_boot: int = 500) -> SobolIndices:
    """Sobol indices from outputs ``y`` at the rows of :func:`saltelli_design` (same order)."""
    y = np.asarray(y, dtype=np.float64)
    d = len(params)
    if y.ndim != 1 or y.size % (d + 2):
        raise SensitivityError(f"expected n·(d+2) outputs for d={d}, got shape {y.shape}")
    n = y.size // (d + 2)
    fa, fb = y[:n], y[n:2 * n]
    fab = y[2 * n:].reshape(d, n)

    def indices(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, ab = fa[rows], fb[rows], fab[:, rows]
        v = np.var(np.concatenate([a, b]))
        if v <= 0:
            return np.full(d, np.nan), np.full(d, np.nan)
        return (np.mean(b * (ab - a), axis=1) / v, 0.5 * np.mean((a - ab) ** 2, axis=1) / v)

    s1, st = indices(np.arange(n))
    if not np.all(np.isfinite(s1)):
        raise SensitivityError("the output is the same at every sample: no variance to attribute")
    rng = np.random.default_rng(seed)
    boot1, boott = np.empty((n_boot, d)), np.empty((n_boot, d))
    for k in range(n_boot):
        boot1[k], boott[k] = indices(rng.integers(0, n, n))
    ci1 = tuple((float(lo), float(hi)) for lo, hi in np.nanquantile(boot1, [0.025, 0.975], axis=0).T)
    cit = tuple((float(lo), float(hi)) for lo, hi in np.nanquantile(boott, [0.025, 0.975], axis=0).T)
    v = float(np.var(np.concatenate([fa, fb])))
    return SobolIndices(tuple(params), tuple(float(s) for s in s1), tuple(float(s) for s in st), v,
                        "saltelli-jansen", int(y.size), ci1, cit)
