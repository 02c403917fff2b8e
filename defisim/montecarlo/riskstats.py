"""Empirical risk statistics of a Monte Carlo loss sample (fast layer, numpy float64).

The input is a 1-D sample of *losses*, one value per path, larger = worse (e.g. bad debt in
USD per path, or insurance-fund drawdown in USD). Units pass through unchanged: VaR, ES,
quantiles, mean, std, min and max are in the sample's unit; probabilities are fractions.

Conventions (chosen for risk management, stated once here):

- **VaR** at ``level`` α is the empirical *inverted-CDF* quantile, the higher order
  statistic: with the sample sorted ``x(1) <= ... <= x(n)``, ``VaR_α = x(k)`` with
  ``k = ceil(n·α)``, i.e. the smallest observed loss ``v`` with ``F_n(v) >= α``. This is
  ``numpy.quantile(x, α, method="inverted_cdf")``, except that ``n·α`` is snapped to the
  nearest integer when it is within ``n·1e-12`` of it, so ``level=0.07`` on 100 values gives
  ``x(7)`` and not ``x(8)`` through float rounding. No interpolation: a VaR is always a loss
  that occurred on some path.
- **ES** (expected shortfall, CVaR) at α is the mean of the worst ``(1-α)`` share of the
  empirical distribution (Acerbi & Tasche 2002): ``ES_α = 1/(1-α) ∫_α^1 VaR_u du``
  ``= 1/(1-α) · [ (k/n - α)·x(k) + (1/n)·Σ_{i>k} x(i) ]``. It always satisfies
  ``ES_α >= VaR_α``, is coherent, and converges to ``E[X | X >= VaR_α]`` for continuous
  losses (so ES of an exponential = VaR + mean). It differs from the plain "mean of losses at
  or beyond VaR" (``x[x >= var(x, α)].mean()``) when losses have an atom at the VaR, which
  is the usual case for bad debt: with 97 zero-loss paths out of 100, ``VaR_0.95 = 0`` and
  "at or beyond VaR" would average all 100 paths, while ``ES_0.95`` averages the worst 5.
- **Exceedance probability** ``prob_exceed(x, t) = #{x_i > t} / n`` (strict), so
  ``prob_exceed(bad_debt, 0)`` is the probability of insolvency. :func:`describe` adds the
  Wilson score interval for it, which stays informative at 0 of n.
- **Bootstrap CIs** (optional, :func:`describe`) are percentile intervals of ``n_boot``
  nonparametric resamples of the paths. They are deterministic given the
  ``numpy.random.Generator`` (which they advance). Empirical VaR/ES at a level with fewer
  than ~10 observations beyond it are unreliable with or without a bootstrap; use the
  peaks-over-threshold model in :mod:`defisim.montecarlo.evt` there (:func:`describe` says so
  in ``warnings``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from defisim.errors import DefisimError

__all__ = [
    "DegenerateSampleError",
    "LevelRisk",
    "RiskSummary",
    "StatsError",
    "describe",
    "expected_shortfall",
    "prob_exceed",
    "var",
]

#: Relative tolerance used to snap ``n·level`` to an integer (see the module docstring).
_SNAP = 1e-12
#: A level with fewer expected observations beyond it than this gets a warning in describe().
_MIN_TAIL_OBS = 10
#: Upper bound on the number of resampled values held in memory at once by the bootstrap.
_BOOT_CHUNK_VALUES = 4_000_000


class StatsError(DefisimError, ValueError):
    """An input to a Monte Carlo statistic is invalid.

    ``parameter`` names the argument, ``expected`` says what was needed and ``actual``
    describes what was given.
    """

    def __init__(self, parameter: str, expected: str, actual: object) -> None:
        self.parameter, self.expected, self.actual = parameter, expected, actual
        super().__init__(f"{parameter}: expected {expected}; got {actual}")


class DegenerateSampleError(StatsError):
    """The sample cannot support the statistic at all (e.g. all values equal, or too few
    values above a threshold to fit a tail model)."""


# --- input checks ---------------------------------------------------------------------------

def _sample(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a 1-D float64 array; :class:`StatsError` if empty, not 1-D or not finite."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise StatsError(name, "a 1-D array of numbers", f"{type(x).__name__} ({err})") from err
    if arr.ndim != 1:
        raise StatsError(name, "a 1-D array (one loss per path)", f"shape {arr.shape}")
    if arr.size == 0:
        raise StatsError(name, "at least one value", "an empty sample")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise StatsError(
            name, "finite values only", f"{int(bad.sum())} NaN/inf value(s), first at index "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    return arr


def _level(level: float, name: str = "level") -> float:
    try:
        a = float(level)
    except (TypeError, ValueError) as err:
        raise StatsError(name, "a number in (0, 1)", repr(level)) from err
    if not 0.0 < a < 1.0:
        raise StatsError(name, "a number strictly between 0 and 1", repr(level))
    return a


def _rank(n: int, level: float) -> int:
    """1-based rank ``k = ceil(n·level)`` of the inverted-CDF quantile, snapped, in [1, n]."""
    t = n * level
    r = round(t)
    k = r if abs(t - r) <= _SNAP * max(n, 1) else math.ceil(t)
    return min(max(int(k), 1), n)


# --- point statistics ----------------------------------------------------------------------

def _var_es_sorted(xs: np.ndarray, level: float) -> tuple[float, float]:
    """VaR and ES of an ascending-sorted sample (the formulas of the module docstring)."""
    n = xs.size
    k = _rank(n, level)
    v = float(xs[k - 1])
    # weight of x(k) inside the top (1-level) mass, clipped to [0, 1/n] (snap-safe)
    w_k = min(max(k - n * level, 0.0), 1.0)
    tail = float(xs[k:].sum()) + w_k * v
    mass = n * (1.0 - level)
    es = tail / mass
    # guard float noise: ES is a mean of values between VaR and the maximum
    return v, min(max(es, v), float(xs[-1]))


def var(x: Any, level: float) -> float:
    """Value at risk: the ``level`` quantile of the losses ``x``, inverted-CDF convention.

    ``VaR = x(ceil(n·level))`` of the sorted sample (1-based), so it is always an observed
    loss, in the unit of ``x``. ``level`` must lie in (0, 1).

    >>> var([3, 1, 2, 5, 4, 6, 8, 7, 10, 9], 0.9)
    9.0
    """
    xs = _sample(x)
    a = _level(level)
    k = _rank(xs.size, a)
    return float(np.partition(xs, k - 1)[k - 1])


def expected_shortfall(x: Any, level: float) -> float:
    """Expected shortfall: mean of the worst ``1 - level`` share of the losses ``x``.

    ``ES = 1/(1-α) · [ (k/n - α)·x(k) + (1/n)·Σ_{i>k} x(i) ]`` with ``k = ceil(n·α)``
    (the integral of the empirical quantile function above ``α``; see the module docstring
    for why this and not "mean of losses >= VaR"). Same unit as ``x``; ``ES >= VaR``.

    >>> expected_shortfall([3, 1, 2, 5, 4, 6, 8, 7, 10, 9], 0.85)  # (10 + 0.5*9) / 1.5
    9.666666666666666
    """
    xs = np.sort(_sample(x))
    return _var_es_sorted(xs, _level(level))[1]


def prob_exceed(x: Any, threshold: float = 0.0) -> float:
    """Fraction of the sample strictly above ``threshold`` (same unit as ``x``).

    ``prob_exceed(bad_debt_usd, 0.0)`` is the estimated probability of insolvency.
    """
    xs = _sample(x)
    t = float(threshold)
    if math.isnan(t):
        raise StatsError("threshold", "a number", "NaN")
    return float(np.count_nonzero(xs > t) / xs.size)


def _wilson(k: int, n: int, ci: float) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` at confidence ``ci``."""
    z = float(stats.norm.ppf(0.5 + ci / 2.0))
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return lower, upper


# --- bootstrap ------------------------------------------------------------------------------

def _bootstrap_var_es(
    xs: np.ndarray, levels: Sequence[float], rng: np.random.Generator, n_boot: int
) -> tuple[np.ndarray, np.ndarray]:
    """VaR and ES of ``n_boot`` resamples of the sorted sample ``xs``: two ``(n_boot, L)``
    arrays.

    A resample is represented by its counts on the sorted values (no re-sort): its VaR is
    the first sorted value ``x[j]`` whose cumulative count reaches ``k``, and its ES adds the
    values above ``x[j]`` (a suffix sum) and the part of ``x[j]``'s mass lying above
    ``n·α``. Draws ``rng.integers(0, n, (b, n))`` in chunks of ``b`` rows, in order, so the
    result depends only on the generator state.
    """
    n = xs.size
    vars_ = np.empty((n_boot, len(levels)))
    ess = np.empty((n_boot, len(levels)))
    ranks = [_rank(n, a) for a in levels]
    chunk = max(1, _BOOT_CHUNK_VALUES // n)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        rows = np.arange(b)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.bincount((idx + (rows * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        del idx
        cum = np.cumsum(counts, axis=1)
        # suffix sums of the resampled values strictly above each position (accumulated from
        # the top, so tail sums do not cancel against the bulk)
        above = np.zeros((b, n + 1))  # above[:, t] = sum of resampled values at positions >= t
        above[:, :n] = np.cumsum((counts * xs)[:, ::-1], axis=1)[:, ::-1]
        flat = (cum + (rows * (n + 1))[:, None]).ravel()  # globally non-decreasing
        for j, (a, k) in enumerate(zip(levels, ranks)):
            pos = np.searchsorted(flat, rows * (n + 1) + k, side="left") - rows * n
            v = xs[pos]
            w = np.clip(cum[rows, pos] - n * a, 0.0, counts[rows, pos])
            es = (above[rows, pos + 1] + w * v) / (n * (1.0 - a))
            vars_[done : done + b, j] = v
            ess[done : done + b, j] = np.clip(es, v, xs[-1])
        done += b
    return vars_, ess


# --- summary --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LevelRisk:
    """VaR and ES at one level (unit of the sample); CIs are ``(lower, upper)`` percentile
    bootstrap intervals, or ``None`` when no generator was given.

    ``n_beyond`` is ``n·(1-level)``, the (fractional) number of observations the ES averages.
    """

    level: float
    var: float
    es: float
    n_beyond: float
    var_ci: tuple[float, float] | None = None
    es_ci: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict; CIs become 2-lists or ``None``."""
        return {
            "level": self.level,
            "var": self.var,
            "es": self.es,
            "n_beyond": self.n_beyond,
            "var_ci": None if self.var_ci is None else list(self.var_ci),
            "es_ci": None if self.es_ci is None else list(self.es_ci),
        }


@dataclass(frozen=True, slots=True)
class RiskSummary:
    """Summary of a loss sample, see :func:`describe`. All amounts in the sample's unit.

    ``std`` is the sample standard deviation (``ddof=1``; 0.0 when ``n == 1``).
    ``quantiles`` holds ``(p, value)`` pairs under the VaR convention. ``p_positive`` is
    ``P(x > 0)`` with its Wilson interval ``p_positive_ci`` at confidence ``ci``.
    ``n_boot`` is ``None`` when no bootstrap was run. ``warnings`` are plain sentences.
    """

    n: int
    mean: float
    std: float
    min: float
    max: float
    quantiles: tuple[tuple[float, float], ...]
    levels: tuple[LevelRisk, ...]
    p_positive: float
    p_positive_ci: tuple[float, float]
    ci: float
    n_boot: int | None = None
    warnings: tuple[str, ...] = ()

    def at(self, level: float) -> LevelRisk:
        """The :class:`LevelRisk` for ``level``; ``KeyError`` listing the levels computed."""
        for lr in self.levels:
            if math.isclose(lr.level, level, rel_tol=0.0, abs_tol=1e-12):
                return lr
        raise KeyError(f"level {level} not summarised; have {[lr.level for lr in self.levels]}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict (plain floats, ints, strings, lists, ``None``)."""
        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "quantiles": [{"p": p, "value": v} for p, v in self.quantiles],
            "levels": [lr.as_dict() for lr in self.levels],
            "p_positive": self.p_positive,
            "p_positive_ci": list(self.p_positive_ci),
            "ci": self.ci,
            "n_boot": self.n_boot,
            "warnings": list(self.warnings),
        }


def describe(
    x: Any,
    levels: Sequence[float] = (0.95, 0.99, 0.999),
    *,
    quantiles: Sequence[float] = (0.5, 0.75, 0.9, 0.95, 0.99),
    rng: np.random.Generator | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
) -> RiskSummary:
    """Summarise a loss sample: moments, range, quantiles, VaR/ES per level, ``P(x > 0)``.

    With ``rng`` (a ``numpy.random.Generator``), VaR and ES get ``ci`` percentile bootstrap
    intervals from ``n_boot`` resamples; the same generator state gives the same intervals.
    Without it, no random numbers are drawn. ``ci`` also sets the Wilson interval of
    ``p_positive``. Memory is bounded (resamples are processed in chunks); time is
    ``O(n_boot · n · len(levels))``.
    """
    xs = np.sort(_sample(x))
    lv = tuple(_level(a, "levels") for a in levels)
    qs = tuple(_level(p, "quantiles") for p in quantiles)
    conf = _level(ci, "ci")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise StatsError("rng", "a numpy.random.Generator or None", type(rng).__name__)
        if int(n_boot) < 2:
            raise StatsError("n_boot", "at least 2 resamples", repr(n_boot))
    n = int(xs.size)
    points = [_var_es_sorted(xs, a) for a in lv]
    var_cis: list[tuple[float, float] | None] = [None] * len(lv)
    es_cis: list[tuple[float, float] | None] = [None] * len(lv)
    if rng is not None and lv:
        bv, be = _bootstrap_var_es(xs, lv, rng, int(n_boot))
        lo_q, hi_q = (1.0 - conf) / 2.0, 1.0 - (1.0 - conf) / 2.0
        for j in range(len(lv)):
            vl, vh = np.quantile(bv[:, j], [lo_q, hi_q])
            el, eh = np.quantile(be[:, j], [lo_q, hi_q])
            var_cis[j] = (float(vl), float(vh))
            es_cis[j] = (float(el), float(eh))
    warnings: list[str] = []
    level_stats = []
    for j, a in enumerate(lv):
        beyond = n * (1.0 - a)
        if beyond < _MIN_TAIL_OBS:
            warnings.append(
                f"few tail observations: level {a} leaves {beyond:.3g} of {n} paths beyond the "
                f"VaR (< {_MIN_TAIL_OBS}); the empirical VaR/ES are unreliable there, use the "
                "peaks-over-threshold tail model (defisim.montecarlo.evt)"
            )
        level_stats.append(
            LevelRisk(level=a, var=points[j][0], es=points[j][1], n_beyond=float(beyond),
                      var_ci=var_cis[j], es_ci=es_cis[j])
        )
    k_pos = int(np.count_nonzero(xs > 0.0))
    return RiskSummary(
        n=n,
        mean=float(xs.mean()),
        std=float(xs.std(ddof=1)) if n > 1 else 0.0,
        min=float(xs[0]),
        max=float(xs[-1]),
        quantiles=tuple((p, float(xs[_rank(n, p) - 1])) for p in qs),
        levels=tuple(level_stats),
        p_positive=k_pos / n,
        p_positive_ci=_wilson(k_pos, n, conf),
        ci=conf,
        n_boot=int(n_boot) if rng is not None else None,
        warnings=tuple(warnings),
    )
