"""GARCH(1,1) with constant conditional correlation: the recursion and its maximum-likelihood fit.

Per asset, with log returns ``r_t`` over one data step (e.g. one hour)::

    r_t = mu + e_t,   e_t = sqrt(h_t) z_t,   h_t = omega + alpha e_{t-1}**2 + beta h_{t-1},

``z_t`` standard normal, correlated across assets with a constant matrix ``R`` (CCC,
Bollerslev 1990). Units: ``mu`` is the mean log return per step, ``omega`` and ``h`` are
variances of the log return per step (squared log-return units), ``alpha`` and ``beta`` are
dimensionless with ``alpha + beta < 1`` (covariance stationarity; the unconditional variance
is ``omega / (1 - alpha - beta)``).

Fit (:func:`fit_garch11`): Gaussian quasi-maximum likelihood, one asset at a time, by
``scipy.optimize.minimize`` (SLSQP) on returns scaled to unit variance (the scale is undone
afterwards), from the best of a small grid of starting points, with ``alpha + beta <=
1 - 1e-6``. The recursion starts from the backcast ``h_0 = mean(e_t**2)`` (the sample variance
of the demeaned returns). With ``variance_targeting`` ``omega`` is not free but
``(1 - alpha - beta) * mean(e_t**2)``. The variance filter is ``scipy.signal.lfilter``
(vectorised, no Python loop over observations). ``R`` is the correlation matrix of the
standardised residuals ``e_t / sqrt(h_t)`` (:func:`fit_ccc`).

:func:`fit_ccc_cached` keys fits by the data file's SHA-256 digest, the columns and the
options, so a model is fitted once per process, never once per path.

>>> import numpy as np
>>> from defisim.pricepaths.garch import fit_garch11, simulate_garch11
>>> r = simulate_garch11(0.0, 2e-6, 0.08, 0.90, np.random.default_rng(1).standard_normal(20_000))
>>> fit = fit_garch11(r)
>>> abs(fit.alpha - 0.08) < 0.02 and abs(fit.beta - 0.90) < 0.03 and fit.alpha + fit.beta < 1
True
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.signal import lfilter

from defisim.errors import ScenarioError
from defisim.pricepaths._returns_data import ReturnsDataError, load_returns_data
from defisim.pricepaths._steps import (
    apply_crash,
    apply_vol_multiplier,
    blend_correlation,
    corr_factor,
    step_grid,
    steps_to_blocks,
    stress_plan,
)
from defisim.pricepaths._timeparse import duration_seconds
from defisim.pricepaths.models import GarchModel

__all__ = [
    "CCCFit",
    "Garch11Fit",
    "GarchParameters",
    "conditional_variance",
    "fit_ccc",
    "fit_ccc_cached",
    "fit_garch11",
    "garch_loglik",
    "garch_parameters",
    "garch_prices",
    "garch_step_returns",
    "simulate_garch11",
]

#: Largest ``alpha + beta`` the fit allows (strictly stationary, finite unconditional variance).
MAX_PERSISTENCE = 1.0 - 1e-6
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class Garch11Fit:
    """Fitted GARCH(1,1) of one asset (units per data step, see the module docstring).

    ``loglik``: Gaussian log-likelihood of the returns at the optimum (natural log, returns
    in log-return units, not percent). ``n_obs``: number of returns. ``backcast``: the
    ``h_0`` the recursion started from. ``next_variance``: ``h`` for the step after the last
    return (``omega + alpha e_T**2 + beta h_T``). ``converged``: the optimiser's verdict.
    """

    mu: float
    omega: float
    alpha: float
    beta: float
    loglik: float
    n_obs: int
    backcast: float
    next_variance: float
    converged: bool

    @property
    def persistence(self) -> float:
        """``alpha + beta``."""
        return self.alpha + self.beta

    @property
    def unconditional_variance(self) -> float:
        """``omega / (1 - alpha - beta)``, squared log return per step."""
        return self.omega / (1.0 - self.alpha - self.beta)


@dataclass(frozen=True, slots=True, eq=False)
class CCCFit:
    """Per-asset GARCH(1,1) fits plus the correlation of standardised residuals.

    ``assets`` are the data columns in order; ``correlation`` is ``(k, k)`` (read-only);
    ``step_s`` is the data step in seconds; ``digest`` the data file's SHA-256.
    """

    assets: tuple[str, ...]
    fits: tuple[Garch11Fit, ...]
    correlation: np.ndarray
    step_s: int
    digest: str


def conditional_variance(e: np.ndarray, omega: float, alpha: float, beta: float, h0: float) -> np.ndarray:
    """``h_t`` for innovations ``e`` (1-D), starting from ``h_0 = h0``; same length as ``e``.

    ``h_0 = h0`` and ``h_t = omega + alpha e_{t-1}**2 + beta h_{t-1}`` for ``t >= 1``, as a
    linear filter (``scipy.signal.lfilter``), exact to rounding.
    """
    n = e.shape[0]
    if n == 0:
        return np.empty(0)
    x = np.empty(n)
    x[0] = h0
    x[1:] = omega + alpha * e[:-1] ** 2
    return lfilter([1.0], [1.0, -beta], x)


def garch_loglik(
    r: np.ndarray, mu: float, omega: float, alpha: float, beta: float, h0: float | None = None
) -> float:
    """Gaussian log-likelihood of returns ``r`` (1-D) under the GARCH(1,1) above.

    ``h0`` defaults to the backcast ``mean((r - mu)**2)``.
    """
    e = r - mu
    if h0 is None:
        h0 = float(np.mean(e**2))
    h = conditional_variance(e, omega, alpha, beta, h0)
    return float(-0.5 * np.sum(_LOG_2PI + np.log(h) + e**2 / h))


def simulate_garch11(
    mu: float, omega: float, alpha: float, beta: float, z: np.ndarray, h0: float | None = None
) -> np.ndarray:
    """Returns ``r_t = mu + sqrt(h_t) z_t`` driven by the given shocks ``z`` (1-D).

    ``h0`` (the first step's variance) defaults to the unconditional variance. A Python
    loop over steps: for tests and examples; :mod:`defisim.pricepaths.generate` runs the
    same recursion vectorised over assets.
    """
    h = omega / (1.0 - alpha - beta) if h0 is None else h0
    out = np.empty(z.shape[0])
    for t in range(z.shape[0]):
        e = math.sqrt(h) * z[t]
        out[t] = mu + e
        h = omega + alpha * e * e + beta * h
    return out


def _neg_loglik(theta: np.ndarray, y: np.ndarray, targeting: bool, var_y: float) -> float:
    mu, omega, alpha, beta = theta
    e = y - mu
    backcast = float(np.mean(e**2))
    if targeting:
        omega = (1.0 - alpha - beta) * backcast
    h = conditional_variance(e, omega, alpha, beta, backcast)
    if not np.all(h > 0) or not np.all(np.isfinite(h)):
        return 1e300
    return float(0.5 * np.sum(_LOG_2PI + np.log(h) + e**2 / h))


def fit_garch11(r: np.ndarray, *, variance_targeting: bool = False) -> Garch11Fit:
    """Gaussian QMLE of a GARCH(1,1) with constant mean on log returns ``r`` (1-D).

    Raises ``ValueError`` with fewer than 50 returns or returns of zero variance.
    """
    r = np.asarray(r, dtype=np.float64)
    if r.ndim != 1 or r.shape[0] < 50:
        raise ValueError(f"GARCH fit needs at least 50 returns, got {r.shape}")
    scale = float(np.std(r))
    if not scale > 0:
        raise ValueError("GARCH fit needs returns that vary (the sample variance is 0)")
    y = r / scale
    var_y = float(np.var(y))
    mean_y = float(np.mean(y))

    # Start from the best point of a small grid (as the arch package does).
    starts = [
        np.array([mean_y, (1.0 - persistence) * var_y, alpha, persistence - alpha])
        for alpha in (0.02, 0.05, 0.10, 0.20)
        for persistence in (0.90, 0.97, 0.995)
    ]
    start = min(starts, key=lambda th: _neg_loglik(th, y, variance_targeting, var_y))
    bounds = [(-10.0 * math.sqrt(var_y), 10.0 * math.sqrt(var_y)), (1e-10 * var_y, 10.0 * var_y),
              (0.0, 1.0), (0.0, 1.0)]
    constraints = [{"type": "ineq", "fun": lambda th: MAX_PERSISTENCE - th[2] - th[3]}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = minimize(
            _neg_loglik, start, args=(y, variance_targeting, var_y), method="SLSQP",
            bounds=bounds, constraints=constraints, options={"maxiter": 500, "ftol": 1e-12},
        )
    mu_y, omega_y, alpha, beta = (float(v) for v in res.x)
    alpha, beta = max(alpha, 0.0), max(beta, 0.0)
    if alpha + beta > MAX_PERSISTENCE:  # SLSQP may overstep the constraint by rounding
        beta = MAX_PERSISTENCE - alpha
    mu = mu_y * scale
    e = r - mu
    backcast = float(np.mean(e**2))
    omega = (1.0 - alpha - beta) * backcast if variance_targeting else omega_y * scale**2
    h = conditional_variance(e, omega, alpha, beta, backcast)
    loglik = float(-0.5 * np.sum(_LOG_2PI + np.log(h) + e**2 / h))
    next_variance = float(omega + alpha * e[-1] ** 2 + beta * h[-1])
    return Garch11Fit(
        mu=mu, omega=omega, alpha=alpha, beta=beta, loglik=loglik, n_obs=int(r.shape[0]),
        backcast=backcast, next_variance=next_variance, converged=bool(res.success),
    )


def fit_ccc(
    returns: np.ndarray, assets: tuple[str, ...], step_s: int, digest: str = "",
    *, variance_targeting: bool = False,
) -> CCCFit:
    """Fit every column of ``returns`` (shape ``(n, k)``) and the residual correlation."""
    returns = np.asarray(returns, dtype=np.float64)
    fits = []
    z = np.empty_like(returns)
    for i in range(returns.shape[1]):
        f = fit_garch11(returns[:, i], variance_targeting=variance_targeting)
        fits.append(f)
        e = returns[:, i] - f.mu
        z[:, i] = e / np.sqrt(conditional_variance(e, f.omega, f.alpha, f.beta, f.backcast))
    corr = np.atleast_2d(np.corrcoef(z, rowvar=False)) if returns.shape[1] > 1 else np.ones((1, 1))
    corr = 0.5 * (corr + corr.T)
    np.fill_diagonal(corr, 1.0)
    corr.flags.writeable = False
    return CCCFit(assets=tuple(assets), fits=tuple(fits), correlation=corr, step_s=step_s, digest=digest)


_FITS: dict[tuple[str, tuple[str, ...], bool], CCCFit] = {}
_FITS_LOCK = threading.Lock()


def fit_ccc_cached(
    returns: np.ndarray, assets: tuple[str, ...], step_s: int, digest: str,
    *, variance_targeting: bool = False,
) -> CCCFit:
    """:func:`fit_ccc`, remembered per (data digest, columns, variance targeting)."""
    key = (digest, tuple(assets), variance_targeting)
    with _FITS_LOCK:
        hit = _FITS.get(key)
    if hit is not None:
        return hit
    fit = fit_ccc(returns, assets, step_s, digest, variance_targeting=variance_targeting)
    with _FITS_LOCK:
        if len(_FITS) >= 32:
            _FITS.clear()
        _FITS[key] = fit
    return fit


# ---------------------------------------------------------------- paths for generate()


@dataclass(frozen=True, slots=True, eq=False)
class GarchParameters:
    """The parameters a :class:`~defisim.pricepaths.models.GarchModel` runs with.

    One entry per model asset, in the model's order: ``mu``, ``omega``, ``alpha``, ``beta``
    (per step), ``h0`` (variance of the first step), ``correlation`` ``(k, k)`` and the step
    in seconds. ``fit`` is the :class:`CCCFit` when the parameters were fitted, else ``None``.
    """

    assets: tuple[str, ...]
    mu: np.ndarray
    omega: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    h0: np.ndarray
    correlation: np.ndarray
    step_s: int
    fit: CCCFit | None


def garch_parameters(model: GarchModel) -> GarchParameters:
    """Explicit or fitted parameters of ``model`` (fits are cached per data digest).

    Raises :class:`~defisim.errors.ScenarioError` (path ``fit``) when the data file changed
    since the model was validated (its SHA-256 differs from ``model.sha256``) or cannot be
    fitted.
    """
    names = tuple(model.assets)
    specs = list(model.assets.values())
    fit: CCCFit | None = None
    if model.fit is None:
        mu = np.array([a.mu or 0.0 for a in specs])
        omega = np.array([a.omega for a in specs], dtype=np.float64)
        alpha = np.array([a.alpha for a in specs], dtype=np.float64)
        beta = np.array([a.beta for a in specs], dtype=np.float64)
        h0 = omega / (1.0 - alpha - beta)
        corr = np.eye(len(names))
        step_s = int(duration_seconds(model.step or "0s"))
    else:
        try:
            data = load_returns_data(model.fit)
        except ReturnsDataError as exc:
            raise ScenarioError([("fit", str(exc))]) from None
        if model.sha256 is not None and data.digest != model.sha256:
            msg = f"{data.source} changed since the model was validated (SHA-256 {data.digest}, expected {model.sha256})"
            raise ScenarioError([("fit", msg)])
        columns = tuple(a.column or name for name, a in model.assets.items())
        try:
            fit = fit_ccc_cached(data.log_returns(columns), columns, data.step_s, data.digest,
                                 variance_targeting=model.variance_targeting)
        except ValueError as exc:
            raise ScenarioError([("fit", f"cannot fit {data.source}: {exc}")]) from None
        mu = np.array([f.mu for f in fit.fits])
        omega = np.array([f.omega for f in fit.fits])
        alpha = np.array([f.alpha for f in fit.fits])
        beta = np.array([f.beta for f in fit.fits])
        if model.initial_variance == "last":
            h0 = np.array([f.next_variance for f in fit.fits])
        else:
            h0 = omega / (1.0 - alpha - beta)
        corr = np.array(fit.correlation)
        step_s = fit.step_s
    if model.correlation is not None:
        corr = np.array(model.correlation, dtype=np.float64)
    return GarchParameters(names, mu, omega, alpha, beta, h0, corr, step_s, fit)


def garch_step_returns(p: GarchParameters, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step returns and conditional variances ``(k, m)`` driven by shocks ``z`` ``(k, m)``.

    The recursion of the module docstring, vectorised over assets (a loop over steps only).
    """
    k, m = z.shape
    h = np.empty((k, m))
    r = np.empty((k, m))
    hj = p.h0.astype(np.float64).copy()
    for j in range(m):
        h[:, j] = hj
        e = np.sqrt(hj) * z[:, j]
        r[:, j] = p.mu + e
        hj = p.omega + p.alpha * e * e + p.beta * hj
    return r, h


def garch_prices(
    model: GarchModel, n_blocks: int, block_time_s: int, rng: np.random.Generator
) -> np.ndarray:
    """Prices ``(k, n_blocks + 1)`` of a ``garch`` model (draw order: see ``generate``)."""
    p = garch_parameters(model)
    names = p.assets
    k = len(names)
    grid = step_grid(n_blocks, block_time_s, p.step_s)
    plan = stress_plan(model.stress, names, block_time_s)
    bridge = model.interpolation == "bridge"
    z = rng.standard_normal((k, grid.n_steps))  # 1. step shocks
    eps = rng.standard_normal((k, grid.n_intervals)) if bridge else None  # 2. bridge normals
    factor = corr_factor(p.correlation)
    z = factor @ z
    z = blend_correlation(z, plan, grid.step_end_s, block_time_s, rng)  # 3a. stressed steps
    if eps is not None:
        eps = factor @ eps
        eps = blend_correlation(eps, plan, grid.interval_end_s, block_time_s, rng)  # 3b.
    r, h = garch_step_returns(p, z)
    x = steps_to_blocks(grid, r, h if bridge else None, eps)
    x = apply_vol_multiplier(x, plan, p.mu * (block_time_s / p.step_s))
    start = np.array([a.start for a in model.assets.values()])
    prices = np.exp(x) * start[:, None]
    return apply_crash(prices, plan)
