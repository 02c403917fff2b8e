"""Peaks-over-threshold tail model: the generalised Pareto distribution (fast layer, float64).

For a loss sample ``x`` (one value per Monte Carlo path, larger = worse, e.g. bad debt in USD)
and a threshold ``u``, the excesses ``y = x - u`` of the ``N_u`` values ``x > u`` are modelled
as GPD with shape ``ξ`` and scale ``σ`` (unit of ``x``), location 0::

    P(Y > y) = (1 + ξ·y/σ)^(-1/ξ)        (ξ ≠ 0),      exp(-y/σ)        (ξ = 0)

``ξ > 0`` is a heavy (Pareto-like, power-law) tail: a Pareto tail ``P(X > x) ~ x^-α`` has
``ξ = 1/α``; ``ξ = 0`` an exponential-like tail; ``ξ < 0`` a bounded tail with endpoint
``u + σ/|ξ|``. Above ``u`` the tail of ``x`` is ``P(X > x) = ζ·P(Y > x - u)`` with the
exceedance rate ``ζ = N_u / N``, which gives the POT quantile (:func:`tail_quantile`)::

    x_p = u + σ/ξ · ( ((N/N_u)·(1-p))^(-ξ) - 1 )          (ξ → 0:  u - σ·log((N/N_u)·(1-p)))

Workflow: :func:`mean_excess` (data for a mean-excess plot; linear with slope ``ξ/(1-ξ)``
above a good threshold), :func:`choose_threshold` (automatic, documented rule),
:func:`fit_gpd`, then :func:`tail_quantiles` and :func:`tail_diagnostics` (data for a tail /
QQ plot). Every result is a frozen dataclass with ``as_dict()`` (JSON-safe); nothing is
printed and problems are reported in a result's ``warnings`` tuple, not the ``warnings``
module. Each warning starts with a stable key phrase (``"sample too small"``,
``"poor fit"``, ``"infinite-variance tail"``, ``"infinite-mean tail"``, ``"non-regular"``,
``"shape at lower bound"``, ``"standard errors unavailable"``) followed by details.

Estimation (:func:`fit_gpd`): maximum likelihood on the excesses with the location fixed at
0, computed by the one-dimensional profile likelihood in ``θ = ξ/σ`` (Grimshaw 1993): for a
given ``θ`` the likelihood is maximised by ``ξ(θ) = mean(log(1 + θ·y))``, ``σ = ξ/θ``. The
profile is searched on a grid spanning bounded to very heavy tails and refined with Brent's
method, so the fit does not depend on a starting value and handles ``ξ < 0`` and ``ξ > 0``
alike. ``ξ`` is restricted to ``ξ >= -1`` (below, the likelihood is unbounded); at
``ξ = -1`` the maximum is the uniform ``σ = max(y)``. Standard errors come from the observed
information (analytic Hessian at the MLE; Smith 1985: valid for ``ξ > -0.5``).

Goodness of fit: Kolmogorov–Smirnov statistic and p-value of the excesses against the fitted
GPD, plus the Anderson–Darling statistic ``A²`` (no p-value). Because ``ξ, σ`` are estimated
from the same excesses, the KS p-value is conservative (biased upwards): ``p < 0.05`` is
strong evidence of misfit, ``p >= 0.05`` is weak evidence of fit. With very many excesses
KS detects even practically irrelevant misfit.

Confidence intervals for tail quantiles (:func:`tail_quantile`): **profile likelihood** by
default (Coles 2001, §4.3.3–4.4): the GPD is re-parametrised by ``(ξ, x_p)`` and the interval
is ``{x_p : 2·(ℓ_max - ℓ_profile(x_p)) <= χ²₁(ci)}``; it is asymmetric, never extends below
``u``, and is more accurate than the delta method for extreme levels. It treats ``ζ`` as
known. ``method="delta"`` gives the symmetric delta-method interval, which also includes the
binomial uncertainty of ``ζ`` (``Var ζ = ζ(1-ζ)/N``); its standard error is always reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize, stats

from defisim.montecarlo.riskstats import (
    DegenerateSampleError,
    StatsError,
    _level,
    _rank,
    _sample,
)

__all__ = [
    "DEFAULT_THRESHOLD_LEVELS",
    "MIN_EXCEEDANCES",
    "POOR_FIT_PVALUE",
    "SMALL_SAMPLE_EXCEEDANCES",
    "GPDFit",
    "MeanExcess",
    "TailDiagnostics",
    "TailQuantile",
    "ThresholdCandidate",
    "ThresholdChoice",
    "choose_threshold",
    "fit_gpd",
    "mean_excess",
    "tail_diagnostics",
    "tail_quantile",
    "tail_quantiles",
]

#: Fewest exceedances :func:`fit_gpd` attempts a fit with (fewer raise DegenerateSampleError).
MIN_EXCEEDANCES: int = 10
#: Below this many exceedances a fit carries the "sample too small" warning.
SMALL_SAMPLE_EXCEEDANCES: int = 30
#: A KS p-value below this gives the "poor fit" warning.
POOR_FIT_PVALUE: float = 0.05
#: Quantile levels whose sample quantiles are the candidate thresholds of choose_threshold().
DEFAULT_THRESHOLD_LEVELS: tuple[float, ...] = tuple(round(0.80 + 0.01 * i, 2) for i in range(19))

#: |ξ| below this is treated with the ξ → 0 (exponential) limit / series.
_XI_ZERO = 1e-12
#: |ξ| below this uses the ξ = 0 series for the Hessian (the exact formula cancels there).
_XI_HESS_ZERO = 1e-5


# --- likelihood -----------------------------------------------------------------------------

def _loglik(xi: float, sigma: float, y: np.ndarray) -> float:
    """GPD log-likelihood of excesses ``y`` (location 0); ``-inf`` outside the support."""
    if not (sigma > 0.0 and math.isfinite(sigma) and math.isfinite(xi)):
        return -math.inf
    n = y.size
    if abs(xi) < _XI_ZERO:
        return -n * math.log(sigma) - float(y.sum()) / sigma
    t = (xi / sigma) * y
    if float(t.min()) <= -1.0:
        # only ξ = -1 allows the endpoint itself (density 1/σ, uniform)
        if xi == -1.0 and float(y.max()) <= sigma:
            return -n * math.log(sigma)
        return -math.inf
    return -n * math.log(sigma) - (1.0 + 1.0 / xi) * float(np.log1p(t).sum())


def _hessian(xi: float, sigma: float, y: np.ndarray) -> np.ndarray:
    """Analytic Hessian of :func:`_loglik` in ``(ξ, σ)``; the ξ = 0 series when |ξ| is tiny."""
    n = y.size
    z = y / sigma
    if abs(xi) < _XI_HESS_ZERO:
        h_xx = float(np.sum(z**2 - 2.0 * z**3 / 3.0))
        h_xs = float(np.sum(z - z**2)) / sigma
        h_ss = (n - 2.0 * float(z.sum())) / sigma**2
    else:
        d = sigma + xi * y
        if float(d.min()) <= 0.0:  # outside the support (only reachable at ξ = -1)
            return np.full((2, 2), np.nan)
        q = y / d
        a = np.log1p(xi * z)
        yd2 = float(np.sum(y / d**2))
        sq, sa, sq2 = float(q.sum()), float(a.sum()), float(np.sum(q**2))
        h_xx = -2.0 * sa / xi**3 + 2.0 * sq / xi**2 + (1.0 + 1.0 / xi) * sq2
        h_xs = -sq / (xi * sigma) + (1.0 + 1.0 / xi) * yd2
        h_ss = n / sigma**2 - (1.0 + xi) * sq / sigma**2 - (1.0 + xi) * yd2 / sigma
    return np.array([[h_xx, h_xs], [h_xs, h_ss]])


def _covariance(xi: float, sigma: float, y: np.ndarray) -> np.ndarray | None:
    """Inverse observed information at ``(ξ, σ)``; ``None`` if it is not positive definite."""
    info = -_hessian(xi, sigma, y)
    if not np.all(np.isfinite(info)):
        return None
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return None
    cov = np.linalg.inv(info)
    if not (cov[0, 0] > 0.0 and cov[1, 1] > 0.0):
        return None
    return cov


def _finite(value: float) -> float:
    """An objective value for scipy's bounded Brent search: +inf (outside the support)
    becomes a huge finite number, so the parabolic steps never meet ``inf - inf``."""
    return value if math.isfinite(value) else 1e300


def _profile_theta(theta: float, y: np.ndarray, ybar: float) -> tuple[float, float, float]:
    """``(loglik, ξ, σ)`` maximised over ξ for fixed ``θ = ξ/σ`` (Grimshaw's profile)."""
    if theta == 0.0:
        return _loglik(0.0, ybar, y), 0.0, ybar
    xi = float(np.mean(np.log1p(theta * y)))
    if xi == 0.0:
        return _loglik(0.0, ybar, y), 0.0, ybar
    sigma = xi / theta
    return _loglik(xi, sigma, y), xi, sigma


def _mle(y: np.ndarray) -> tuple[float, float, float, bool]:
    """MLE ``(ξ, σ, loglik, at_lower_bound)`` of GPD excesses ``y`` with ``ξ >= -1``."""
    ybar = float(y.mean())
    ymax = float(y.max())
    theta_min = -(1.0 - 1e-10) / ymax

    def xi_plus_one(t: float) -> float:
        return float(np.mean(np.log1p(t * y))) + 1.0

    # ξ(θ) increases with θ: restrict θ to ξ(θ) >= -1 (the profile is unbounded below that)
    if xi_plus_one(theta_min) < 0.0:
        theta_lo = optimize.brentq(xi_plus_one, theta_min, 0.0, xtol=1e-14 / ymax, rtol=1e-14)
    else:
        theta_lo = theta_min
    s = np.unique(np.concatenate([np.linspace(0.025, 1.0, 40), 1.0 - np.logspace(-8, -1, 8)]))
    grid = np.unique(np.concatenate([theta_lo * s, [0.0], np.logspace(-4, 7, 90) / ybar]))
    values = np.array([_profile_theta(float(t), y, ybar)[0] for t in grid])
    i = int(np.argmax(values))
    best = (float(values[i]), float(grid[i]))
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)])
    if hi > lo:
        res = optimize.minimize_scalar(
            lambda t: _finite(-_profile_theta(t, y, ybar)[0]),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10 * (hi - lo)},
        )
        if float(res.fun) < 1e300 and -float(res.fun) > best[0]:
            best = (-float(res.fun), float(res.x))
    ll, xi, sigma = _profile_theta(best[1], y, ybar)
    edge = -y.size * math.log(ymax)  # ξ = -1, σ = max(y): the best point of the lower edge
    if edge > ll:
        return -1.0, ymax, edge, True
    return xi, sigma, ll, False


def _gpd_cdf(y: np.ndarray, xi: float, sigma: float) -> np.ndarray:
    return stats.genpareto.cdf(y, xi, loc=0.0, scale=sigma)


def _anderson_darling(y_sorted: np.ndarray, xi: float, sigma: float) -> float:
    k = y_sorted.size
    f = np.clip(_gpd_cdf(y_sorted, xi, sigma), 1e-300, 1.0 - 1e-16)
    i = np.arange(1, k + 1)
    return float(-k - np.sum((2 * i - 1) * (np.log(f) + np.log1p(-f[::-1]))) / k)


# --- fit ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GPDFit:
    """A GPD fitted to the excesses over ``threshold`` of a sample of ``n`` losses.

    ``threshold`` and ``scale`` are in the unit of the sample; ``shape`` (ξ) is unitless.
    ``shape_se``, ``scale_se`` and ``cov_shape_scale`` come from the observed information
    (``None`` when it is not positive definite, e.g. at ``ξ = -1``). ``loglik`` is the
    maximised log-likelihood of the excesses. ``ks_statistic``/``ks_pvalue`` and
    ``ad_statistic`` measure the fit on the excesses (see the module docstring).
    ``excesses`` holds the sorted excesses ``x - threshold`` (read-only; not part of
    ``==`` or :meth:`as_dict`); the profile-likelihood CIs and the diagnostics use it.
    """

    threshold: float
    n: int
    n_exceed: int
    shape: float
    scale: float
    shape_se: float | None
    scale_se: float | None
    cov_shape_scale: float | None
    loglik: float
    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    warnings: tuple[str, ...]
    excesses: np.ndarray = field(repr=False, compare=False)

    @property
    def rate(self) -> float:
        """Exceedance rate ``ζ = n_exceed / n``."""
        return self.n_exceed / self.n

    @property
    def endpoint(self) -> float | None:
        """Upper end of the fitted tail ``u + σ/|ξ|`` for ``ξ < 0``; ``None`` otherwise."""
        return self.threshold + self.scale / -self.shape if self.shape < 0.0 else None

    def shape_ci(self, ci: float = 0.95) -> tuple[float, float] | None:
        """Wald interval ``ξ ± z·se`` at confidence ``ci``; ``None`` without a standard error."""
        if self.shape_se is None:
            return None
        z = float(stats.norm.ppf(0.5 + _level(ci, "ci") / 2.0))
        return self.shape - z * self.shape_se, self.shape + z * self.shape_se

    def as_dict(self, *, include_excesses: bool = False) -> dict[str, Any]:
        """JSON-safe dict of every field (``excesses`` as a list only if asked)."""
        out: dict[str, Any] = {
            "threshold": self.threshold,
            "n": self.n,
            "n_exceed": self.n_exceed,
            "rate": self.rate,
            "shape": self.shape,
            "scale": self.scale,
            "shape_se": self.shape_se,
            "scale_se": self.scale_se,
            "cov_shape_scale": self.cov_shape_scale,
            "loglik": self.loglik,
            "ks_statistic": self.ks_statistic,
            "ks_pvalue": self.ks_pvalue,
            "ad_statistic": self.ad_statistic,
            "warnings": list(self.warnings),
        }
        if include_excesses:
            out["excesses"] = [float(v) for v in self.excesses]
        return out


def _excesses(xs: np.ndarray, u: float) -> np.ndarray:
    """Sorted excesses over ``u``; DegenerateSampleError if a GPD cannot be fitted to them."""
    y = np.sort(xs[xs > u] - u)
    if y.size < MIN_EXCEEDANCES:
        raise DegenerateSampleError(
            "threshold",
            f"at least {MIN_EXCEEDANCES} sample values above the threshold to fit a GPD",
            f"{y.size} of {xs.size} values above {u!r}",
        )
    if y[0] == y[-1]:
        raise DegenerateSampleError(
            "x", "distinct values above the threshold", f"all {y.size} exceedances equal {u + y[0]!r}"
        )
    return y


def _not_constant(xs: np.ndarray) -> None:
    if float(xs.min()) == float(xs.max()):
        raise DegenerateSampleError(
            "x", "a sample whose values are not all equal (a tail needs spread)",
            f"all {xs.size} values equal {float(xs[0])!r}",
        )


def _threshold(threshold: float) -> float:
    try:
        u = float(threshold)
    except (TypeError, ValueError) as err:
        raise StatsError("threshold", "a finite number", repr(threshold)) from err
    if not math.isfinite(u):
        raise StatsError("threshold", "a finite number", repr(threshold))
    return u


def _fit_excesses(
    y: np.ndarray,
) -> tuple[float, float, float, bool, np.ndarray | None]:
    """``(ξ, σ, loglik, at_bound, cov)`` for sorted excesses ``y``."""
    xi, sigma, ll, at_bound = _mle(y)
    cov = None if at_bound else _covariance(xi, sigma, y)
    return xi, sigma, ll, at_bound, cov


def fit_gpd(x: Any, threshold: float) -> GPDFit:
    """Fit a GPD by maximum likelihood to the excesses of ``x`` over ``threshold``.

    ``x`` is a 1-D loss sample (unit: e.g. USD); values ``> threshold`` are exceedances.
    Raises :class:`~defisim.montecarlo.riskstats.DegenerateSampleError` when all values of
    ``x`` are equal, when fewer than :data:`MIN_EXCEEDANCES` values exceed the threshold, or
    when all exceedances are equal. Warnings (in the result): fewer than
    :data:`SMALL_SAMPLE_EXCEEDANCES` exceedances, KS p-value below :data:`POOR_FIT_PVALUE`,
    ``ξ > 0.5`` (infinite variance), ``ξ >= 1`` (infinite mean), ``ξ < -0.5`` (non-regular
    MLE), ``ξ`` at its bound -1, no standard errors.
    """
    xs = _sample(x)
    _not_constant(xs)
    u = _threshold(threshold)
    y = _excesses(xs, u)
    k = int(y.size)
    xi, sigma, ll, at_bound, cov = _fit_excesses(y)
    ks = stats.kstest(y, lambda v: _gpd_cdf(np.asarray(v), xi, sigma))
    ad = _anderson_darling(y, xi, sigma)
    warns: list[str] = []
    if k < SMALL_SAMPLE_EXCEEDANCES:
        warns.append(
            f"sample too small: only {k} exceedances over {u:.6g} (< {SMALL_SAMPLE_EXCEEDANCES}); "
            "shape and scale are very uncertain, lower the threshold or run more paths"
        )
    if at_bound:
        warns.append(
            "shape at lower bound: ξ = -1 (uniform excesses, endpoint = largest observation); "
            "the MLE is non-regular and has no standard errors"
        )
    elif xi < -0.5:
        warns.append(
            f"non-regular: ξ = {xi:.3g} < -0.5, the MLE is not asymptotically normal (Smith 1985); "
            "standard errors and intervals are unreliable"
        )
    if xi >= 1.0:
        warns.append(f"infinite-mean tail: ξ = {xi:.3g} >= 1, the fitted tail has no finite mean")
    if xi > 0.5:
        warns.append(
            f"infinite-variance tail: ξ = {xi:.3g} > 0.5, the fitted tail has infinite variance; "
            "sample means and standard deviations of these losses do not settle"
        )
    if cov is None and not at_bound:
        warns.append("standard errors unavailable: the observed information is not positive definite")
    if float(ks.pvalue) < POOR_FIT_PVALUE:
        warns.append(
            f"poor fit: KS p-value {float(ks.pvalue):.3g} < {POOR_FIT_PVALUE} for the GPD on the "
            f"{k} exceedances over {u:.6g}; try another threshold (see mean_excess) or distrust "
            "the tail estimates"
        )
    y_ro = y.view()
    y_ro.flags.writeable = False
    return GPDFit(
        threshold=u,
        n=int(xs.size),
        n_exceed=k,
        shape=float(xi),
        scale=float(sigma),
        shape_se=None if cov is None else math.sqrt(float(cov[0, 0])),
        scale_se=None if cov is None else math.sqrt(float(cov[1, 1])),
        cov_shape_scale=None if cov is None else float(cov[0, 1]),
        loglik=float(ll),
        ks_statistic=float(ks.statistic),
        ks_pvalue=float(ks.pvalue),
        ad_statistic=ad,
        warnings=tuple(warns),
        excesses=y_ro,
    )


# --- mean excess ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MeanExcess:
    """Mean-excess (mean residual life) plot data: one entry per threshold, ascending.

    ``mean_excess[i] = mean(x - thresholds[i] | x > thresholds[i])`` (unit of the sample),
    ``n_exceed[i]`` the number of values above the threshold, ``lower``/``upper`` the normal
    ``ci`` band ``mean ± z·sd/√n_exceed``. Above a threshold where the tail is GPD the curve
    is linear with slope ``ξ/(1-ξ)``: rising = heavy tail, flat = exponential, falling =
    bounded.
    """

    thresholds: tuple[float, ...]
    mean_excess: tuple[float, ...]
    n_exceed: tuple[int, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    ci: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict of lists."""
        return {
            "thresholds": list(self.thresholds),
            "mean_excess": list(self.mean_excess),
            "n_exceed": list(self.n_exceed),
            "lower": list(self.lower),
            "upper": list(self.upper),
            "ci": self.ci,
        }


def mean_excess(
    x: Any,
    thresholds: Sequence[float] | None = None,
    *,
    n_thresholds: int = 100,
    min_exceedances: int = 5,
    ci: float = 0.95,
) -> MeanExcess:
    """Empirical mean excess of ``x`` over each threshold (data for a mean-excess plot).

    Default thresholds: up to ``n_thresholds`` distinct order statistics of ``x``, evenly
    spaced in rank from the minimum to the value leaving ``min_exceedances`` above it.
    Explicit ``thresholds`` are sorted. Thresholds with fewer than ``min_exceedances``
    (at least 2) values above them are dropped; the result lists those kept.
    """
    xs = np.sort(_sample(x))
    _not_constant(xs)
    n = xs.size
    m = int(min_exceedances)
    if m < 2:
        raise StatsError("min_exceedances", "at least 2", repr(min_exceedances))
    conf = _level(ci, "ci")
    if thresholds is None:
        if int(n_thresholds) < 1:
            raise StatsError("n_thresholds", "at least 1", repr(n_thresholds))
        last = n - m - 1
        if last < 0:
            cand = np.empty(0)
        else:
            ranks = np.unique(np.round(np.linspace(0, last, int(n_thresholds))).astype(np.int64))
            cand = np.unique(xs[ranks])
    else:
        cand = np.sort(_sample(thresholds, "thresholds"))
    z = float(stats.norm.ppf(0.5 + conf / 2.0))
    us: list[float] = []
    me: list[float] = []
    ks: list[int] = []
    lo: list[float] = []
    hi: list[float] = []
    for u in cand:
        start = int(np.searchsorted(xs, u, side="right"))
        k = n - start
        if k < m:
            continue
        e = xs[start:] - u
        mean = float(e.mean())
        half = z * float(e.std(ddof=1)) / math.sqrt(k)
        us.append(float(u))
        me.append(mean)
        ks.append(int(k))
        lo.append(mean - half)
        hi.append(mean + half)
    return MeanExcess(tuple(us), tuple(me), tuple(ks), tuple(lo), tuple(hi), conf)


# --- threshold choice -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ThresholdCandidate:
    """One candidate threshold of :func:`choose_threshold` (parameter-stability plot data)."""

    level: float
    threshold: float
    n_exceed: int
    shape: float
    scale: float
    shape_se: float | None
    stable: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "threshold": self.threshold,
            "n_exceed": self.n_exceed,
            "shape": self.shape,
            "scale": self.scale,
            "shape_se": self.shape_se,
            "stable": self.stable,
        }


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The threshold :func:`choose_threshold` picked, the reason, and every candidate."""

    threshold: float
    level: float
    n_exceed: int
    reason: str
    ci: float
    candidates: tuple[ThresholdCandidate, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "level": self.level,
            "n_exceed": self.n_exceed,
            "reason": self.reason,
            "ci": self.ci,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def choose_threshold(
    x: Any,
    *,
    levels: Sequence[float] = DEFAULT_THRESHOLD_LEVELS,
    min_exceedances: int = 50,
    ci: float = 0.95,
) -> ThresholdChoice:
    """Pick a POT threshold by the stability of the GPD shape estimate.

    Rule: the candidates are the sample quantiles of ``x`` at ``levels`` (default 0.80,
    0.81, …, 0.98; inverted-CDF convention as in :func:`~defisim.montecarlo.riskstats.var`),
    keeping distinct values with at least ``min_exceedances`` values above them. A GPD is
    fitted above each. The chosen threshold is the **lowest candidate whose shape estimate
    lies inside the ``ci`` Wald interval of the shape estimate at every higher candidate**
    (candidates without a standard error are not used as comparators), i.e. the start of
    the region where the parameter-stability plot is flat within its uncertainty. The
    highest candidate always qualifies, so a choice is always made; ``reason`` says which
    case applied. Raises :class:`~defisim.montecarlo.riskstats.DegenerateSampleError` when
    no candidate has enough exceedances (or all values are equal).
    """
    xs = np.sort(_sample(x))
    _not_constant(xs)
    n = xs.size
    m = int(min_exceedances)
    if m < MIN_EXCEEDANCES:
        raise StatsError("min_exceedances", f"at least {MIN_EXCEEDANCES}", repr(min_exceedances))
    conf = _level(ci, "ci")
    z = float(stats.norm.ppf(0.5 + conf / 2.0))
    lv = sorted({_level(a, "levels") for a in levels})
    if not lv:
        raise StatsError("levels", "at least one quantile level", "none")
    fits: list[tuple[float, float, int, float, float, float | None]] = []
    seen: set[float] = set()
    for a in lv:
        u = float(xs[_rank(n, a) - 1])
        if u in seen:
            continue
        seen.add(u)
        start = int(np.searchsorted(xs, u, side="right"))
        if n - start < m or xs[start] == xs[-1]:
            continue
        y = xs[start:] - u
        xi, sigma, _, _, cov = _fit_excesses(y)
        se = None if cov is None else math.sqrt(float(cov[0, 0]))
        fits.append((a, u, n - start, xi, sigma, se))
    if not fits:
        raise DegenerateSampleError(
            "x",
            f"at least {m} values (min_exceedances) above the {lv[-1]:g} quantile or a lower "
            "candidate level",
            f"n = {n}, {int(np.count_nonzero(xs > xs[_rank(n, lv[0]) - 1]))} values above the "
            f"{lv[0]:g} quantile",
        )
    stable = []
    for j, (_, _, _, xi_j, _, _) in enumerate(fits):
        stable.append(
            all(
                abs(xi_j - xi_k) <= z * se_k
                for (_, _, _, xi_k, _, se_k) in fits[j + 1 :]
                if se_k is not None
            )
        )
    j = stable.index(True)
    a, u, k, xi, _, _ = fits[j]
    pct = f"{conf * 100:g}%"
    if len(fits) == 1:
        reason = (
            f"only one candidate threshold (the {a:g} quantile, {k} exceedances) has at least "
            f"{m} exceedances; no stability check was possible"
        )
    elif j == len(fits) - 1:
        reason = (
            f"no lower candidate's shape estimate lies within the {pct} intervals of all higher "
            f"ones; using the highest candidate, the {a:g} quantile ({k} exceedances, ξ = {xi:.3g})"
        )
    else:
        reason = (
            f"lowest candidate whose shape estimate ξ = {xi:.3g} lies within the {pct} interval of "
            f"the estimate at every higher candidate ({fits[j + 1][0]:g}..{fits[-1][0]:g} quantiles): "
            f"the {a:g} quantile, {k} exceedances"
        )
    cands = tuple(
        ThresholdCandidate(level=c[0], threshold=c[1], n_exceed=c[2], shape=c[3], scale=c[4],
                           shape_se=c[5], stable=s)
        for c, s in zip(fits, stable)
    )
    return ThresholdChoice(threshold=u, level=a, n_exceed=k, reason=reason, ci=conf,
                           candidates=cands)


# --- tail quantiles -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TailQuantile:
    """A POT estimate of the ``level`` quantile of the losses (unit of the sample).

    ``lower``/``upper`` bound the ``ci`` interval by ``method`` (``"profile"`` or
    ``"delta"``); ``upper`` is ``None`` when the profile likelihood does not fall below the
    cut-off within a factor 10¹² of the estimate (unbounded), and both are ``None`` when the
    delta method has no standard error. ``se`` is the delta-method standard error (including
    the uncertainty of the exceedance rate), ``None`` without the fit's covariance.
    ``rate`` is the exceedance rate ``N_u/N`` used.
    """

    level: float
    value: float
    lower: float | None
    upper: float | None
    se: float | None
    ci: float
    method: str
    threshold: float
    rate: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "se": self.se,
            "ci": self.ci,
            "method": self.method,
            "threshold": self.threshold,
            "rate": self.rate,
        }


def _growth(xi: float, big_l: float) -> float:
    """``g(ξ) = (e^{ξL} - 1)/ξ``, so that ``x_p = u + σ·g(ξ)`` with ``L = log(ζ/(1-p))``."""
    if abs(xi) < _XI_ZERO:
        return big_l * (1.0 + xi * big_l / 2.0)
    return math.expm1(xi * big_l) / xi


def _growth_dxi(xi: float, big_l: float) -> float:
    if abs(xi) < 1e-6:
        return big_l**2 / 2.0 + xi * big_l**3 / 3.0
    return (big_l * math.exp(xi * big_l) * xi - math.expm1(xi * big_l)) / xi**2


def _profile_quantile_loglik(q: float, y: np.ndarray, big_l: float, xi_hi: float) -> float:
    """max over ξ in [-1, xi_hi] of the log-likelihood with ``σ = q / g(ξ)``."""
    grid = np.linspace(-1.0, xi_hi, 33)
    vals = np.array([_loglik(float(t), q / _growth(float(t), big_l), y) for t in grid])
    i = int(np.argmax(vals))
    best = float(vals[i])
    if not math.isfinite(best):
        return -math.inf
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)])
    res = optimize.minimize_scalar(
        lambda t: _finite(-_loglik(t, q / _growth(t, big_l), y)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-8},
    )
    if float(res.fun) < 1e300:
        best = max(best, -float(res.fun))
    return best


def _profile_interval(
    fit: GPDFit, big_l: float, q_hat: float, conf: float
) -> tuple[float, float | None]:
    """Profile-likelihood ``conf`` interval of the quantile (absolute, unit of the sample)."""
    y = np.asarray(fit.excesses)
    spread = 4.0 * fit.shape_se if fit.shape_se is not None else 0.0
    xi_hi = max(2.0, fit.shape + 2.0 + spread)
    ll_hat = max(fit.loglik, _profile_quantile_loglik(q_hat, y, big_l, xi_hi))
    crit = float(stats.chi2.ppf(conf, 1))
    big = 1e6 * (1.0 + crit)

    def excess_dev(q: float) -> float:
        ll = _profile_quantile_loglik(q, y, big_l, xi_hi)
        return (2.0 * (ll_hat - ll) if math.isfinite(ll) else big) - crit

    # lower end: shrink q until the deviance exceeds the cut-off
    # lower end: halve q until the deviance exceeds the cut-off, then solve in that bracket;
    # if it never does (down to q_hat/2^60), the interval reaches the threshold itself
    lower = 0.0
    inside = q_hat
    for _ in range(60):
        a = inside / 2.0
        if excess_dev(a) > 0.0:
            lower = optimize.brentq(excess_dev, a, inside, rtol=1e-7)
            break
        inside = a
    # upper end: double q up to a factor 2^40 (~10^12); beyond that report it as unbounded
    upper: float | None = None
    inside = q_hat
    for _ in range(40):
        b = inside * 2.0
        if excess_dev(b) > 0.0:
            upper = optimize.brentq(excess_dev, inside, b, rtol=1e-7)
            break
        inside = b
    return fit.threshold + lower, None if upper is None else fit.threshold + upper


def tail_quantile(
    fit: GPDFit,
    p: float,
    n_total: int | None = None,
    *,
    ci: float = 0.95,
    method: Literal["profile", "delta"] = "profile",
) -> TailQuantile:
    """POT estimate of the ``p`` quantile of the losses with a ``ci`` confidence interval.

    ``x_p = u + σ/ξ·(((N/N_u)·(1-p))^(-ξ) - 1)`` (``ξ → 0``: ``u - σ·log((N/N_u)(1-p))``),
    ``N = n_total`` (default ``fit.n``; pass the full path count if the fit used a
    subsample), ``N_u = fit.n_exceed``. ``p`` must lie in the fitted tail:
    ``1 - N_u/N < p < 1``. ``method="profile"`` (default) gives the profile-likelihood
    interval, ``"delta"`` the delta-method one (see the module docstring). The fit's own
    warnings apply to the estimate.
    """
    a = _level(p, "p")
    conf = _level(ci, "ci")
    if method not in ("profile", "delta"):
        raise StatsError("method", "'profile' or 'delta'", repr(method))
    big_n = fit.n if n_total is None else int(n_total)
    if big_n < fit.n_exceed:
        raise StatsError("n_total", f"at least n_exceed = {fit.n_exceed}", repr(n_total))
    zeta = fit.n_exceed / big_n
    if not a > 1.0 - zeta:
        raise StatsError(
            "p",
            f"a level above 1 - N_u/N = {1.0 - zeta:.6g}, so the quantile lies above the "
            f"threshold {fit.threshold:.6g}",
            repr(p),
        )
    big_l = math.log(zeta / (1.0 - a))
    xi, sigma = fit.shape, fit.scale
    q_hat = sigma * _growth(xi, big_l)
    value = fit.threshold + q_hat
    se: float | None = None
    if fit.shape_se is not None and fit.scale_se is not None and fit.cov_shape_scale is not None:
        cov = np.array([[fit.shape_se**2, fit.cov_shape_scale], [fit.cov_shape_scale, fit.scale_se**2]])
        grad = np.array([sigma * _growth_dxi(xi, big_l), _growth(xi, big_l)])
        d_zeta = sigma * math.exp(xi * big_l) / zeta
        var_q = float(grad @ cov @ grad) + d_zeta**2 * zeta * (1.0 - zeta) / big_n
        se = math.sqrt(max(var_q, 0.0))
    lower: float | None
    upper: float | None
    if method == "delta":
        if se is None:
            lower = upper = None
        else:
            z = float(stats.norm.ppf(0.5 + conf / 2.0))
            lower, upper = value - z * se, value + z * se
    else:
        lower, upper = _profile_interval(fit, big_l, q_hat, conf)
        lower = min(lower, value)
        upper = None if upper is None else max(upper, value)
    return TailQuantile(level=a, value=float(value), lower=lower, upper=upper, se=se, ci=conf,
                        method=method, threshold=fit.threshold, rate=zeta)


def tail_quantiles(
    fit: GPDFit,
    levels: Sequence[float],
    n_total: int | None = None,
    ci: float = 0.95,
    *,
    method: Literal["profile", "delta"] = "profile",
) -> tuple[TailQuantile, ...]:
    """:func:`tail_quantile` at each of ``levels``, in the order given."""
    return tuple(tail_quantile(fit, a, n_total, ci=ci, method=method) for a in levels)


# --- diagnostics ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TailDiagnostics:
    """Tail-plot and QQ-plot data of a fit, one entry per exceedance, ascending.

    ``values`` are the exceedances ``x > u`` (unit of the sample); ``empirical_sf`` their
    plotting-position tail probabilities ``ζ·(k - i + 0.5)/k`` (i = 1..k, Hazen), never 0 so
    they fit a log axis; ``model_sf`` the fitted ``P(X > value) = ζ·(1 + ξ(value-u)/σ)^(-1/ξ)``;
    ``model_quantiles`` the fitted quantiles at the same tail probabilities (QQ pairs with
    ``values``).
    """

    threshold: float
    rate: float
    values: tuple[float, ...]
    empirical_sf: tuple[float, ...]
    model_sf: tuple[float, ...]
    model_quantiles: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "rate": self.rate,
            "values": list(self.values),
            "empirical_sf": list(self.empirical_sf),
            "model_sf": list(self.model_sf),
            "model_quantiles": list(self.model_quantiles),
        }


def tail_diagnostics(fit: GPDFit, n_total: int | None = None) -> TailDiagnostics:
    """Data for a log-survival tail plot and a GPD QQ plot of ``fit`` (see
    :class:`TailDiagnostics`); ``n_total`` as in :func:`tail_quantile`."""
    big_n = fit.n if n_total is None else int(n_total)
    if big_n < fit.n_exceed:
        raise StatsError("n_total", f"at least n_exceed = {fit.n_exceed}", repr(n_total))
    zeta = fit.n_exceed / big_n
    y = np.asarray(fit.excesses)
    k = y.size
    pos = (k - np.arange(1, k + 1) + 0.5) / k  # conditional tail probability of each excess
    model_sf = zeta * stats.genpareto.sf(y, fit.shape, loc=0.0, scale=fit.scale)
    model_q = fit.threshold + stats.genpareto.isf(pos, fit.shape, loc=0.0, scale=fit.scale)
    return TailDiagnostics(
        threshold=fit.threshold,
        rate=zeta,
        values=tuple(float(v) for v in fit.threshold + y),
        empirical_sf=tuple(float(v) for v in zeta * pos),
        model_sf=tuple(float(v) for v in model_sf),
        model_quantiles=tuple(float(v) for v in model_q),
    )
