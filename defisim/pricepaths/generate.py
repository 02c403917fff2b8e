"""Generate reference-price paths from a price model (fast layer, numpy float64).

:func:`generate` turns a :data:`~defisim.pricepaths.models.PriceModel` into
:class:`PricePaths`: one row per asset, one column per block ``0 .. n_blocks``, prices in
USD per whole token. Everything is vectorised over blocks (no Python loop per block).

Determinism: the output depends only on the model, ``n_blocks``, ``block_time_s`` and the
state of the ``numpy.random.Generator``. Random numbers are drawn in a fixed order:

1. diffusion shocks ``standard_normal((n_assets, n_blocks))``;
2. jump-diffusion only: Poisson jump counts (one stream if ``common_jumps``, else one per
   asset), then, if ``common_jumps``, binomial thinning for assets below the largest
   intensity (in asset order), then one standard normal per (event) with jumps;
3. stress with ``correlation_to`` only: the extra shocks of the stressed blocks.

``garch`` (:mod:`defisim.pricepaths.garch`), with ``m`` data steps and ``G`` intervals of the
merged block/step grid (:mod:`defisim.pricepaths._steps`):

1. step shocks ``standard_normal((n_assets, m))``;
2. ``interpolation: bridge`` only: bridge shocks ``standard_normal((n_assets, G))``;
3. stress with ``correlation_to`` only: extra shocks for the steps, then for the bridge
   intervals, that end after ``at``.

``bootstrap``: the block draws and bridge shocks listed in :mod:`defisim.pricepaths.bootstrap`.

A crash alone (no ``correlation_to``) draws nothing extra, so a stressed path is the same
draw as the unstressed one times the crash factor. ``scripted`` draws nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.errors import ScenarioError
from defisim.pricepaths._timeparse import to_block
from defisim.pricepaths.bootstrap import bootstrap_prices
from defisim.pricepaths.garch import garch_prices
from defisim.pricepaths.models import (
    BootstrapModel,
    GarchModel,
    GBMModel,
    JumpDiffusionModel,
    ScriptedModel,
    StressOverlay,
    check_points_increasing,
)

__all__ = ["SECONDS_PER_YEAR", "PricePaths", "generate"]

#: Seconds in the year that annualised rates refer to (365 days).
SECONDS_PER_YEAR: int = 365 * 24 * 3600


@dataclass(frozen=True, slots=True, eq=False)
class PricePaths:
    """Reference prices of several assets at every block.

    ``prices[i, b]`` is the price of ``assets[i]`` at block ``b`` (``0 .. n_blocks``; index
    0 is the start) in USD per whole token, float64. ``block_time_s`` is seconds per block.
    ``prices`` is stored as a read-only view. Compare two results with :meth:`digest`
    (or ``numpy.array_equal``); ``==`` is identity.
    """

    assets: tuple[str, ...]
    prices: np.ndarray
    block_time_s: int

    def __post_init__(self) -> None:
        assets = tuple(self.assets)
        prices = np.asarray(self.prices, dtype=np.float64).view()
        prices.flags.writeable = False
        if prices.ndim != 2 or prices.shape[0] != len(assets) or prices.shape[1] < 1:
            raise ValueError(
                f"prices must have shape (n_assets={len(assets)}, n_blocks + 1); got {prices.shape}"
            )
        if len(set(assets)) != len(assets):
            raise ValueError(f"asset names must be unique; got {assets}")
        object.__setattr__(self, "assets", assets)
        object.__setattr__(self, "prices", prices)

    @property
    def n_blocks(self) -> int:
        """Number of block steps (the path has ``n_blocks + 1`` prices)."""
        return int(self.prices.shape[1] - 1)

    def index(self, asset: str) -> int:
        """Row of ``asset`` in :attr:`prices`; ``KeyError`` naming the known assets."""
        try:
            return self.assets.index(asset)
        except ValueError:
            raise KeyError(f"no price path for {asset!r}; known assets: {list(self.assets)}") from None

    def of(self, asset: str) -> np.ndarray:
        """Read-only path of ``asset``, shape ``(n_blocks + 1,)``, USD per whole token."""
        return self.prices[self.index(asset)]

    def at(self, asset: str, block: int) -> float:
        """Price of ``asset`` at ``block`` (``0 <= block <= n_blocks``), USD per whole token."""
        if not 0 <= block <= self.n_blocks:
            raise IndexError(f"block {block} is outside 0..{self.n_blocks}")
        return float(self.prices[self.index(asset), block])

    def digest(self) -> str:
        """SHA-256 (hex) of assets, block time and the exact price bytes."""
        h = hashlib.sha256()
        h.update("\x1f".join(self.assets).encode())
        h.update(b"\x1e" + str(self.block_time_s).encode() + b"\x1e")
        h.update(np.ascontiguousarray(self.prices, dtype="<f8").tobytes())
        return h.hexdigest()


def generate(
    model: ScriptedModel | GBMModel | JumpDiffusionModel | GarchModel | BootstrapModel,
    n_blocks: int,
    block_time_s: int,
    rng: np.random.Generator,
) -> PricePaths:
    """Price paths of every asset in ``model`` for blocks ``0 .. n_blocks``.

    ``block_time_s`` is seconds per block (durations in the model convert with it;
    annual rates use ``dt = block_time_s / SECONDS_PER_YEAR``). ``rng`` supplies all
    randomness (see the module docstring for the draw order).

    Raises :class:`~defisim.errors.ScenarioError` when a scripted point time collides after
    rounding to blocks, when a data file of ``garch``/``bootstrap`` changed since validation
    (path ``fit`` or ``data``), or when a generated path is not strictly positive and finite
    (e.g. a drift that overflows float64), with field path ``prices``.
    """
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) or n_blocks < 0:
        raise ScenarioError([("n_blocks", f"must be an integer >= 0, got {n_blocks!r}")])
    if (
        isinstance(block_time_s, bool)
        or not isinstance(block_time_s, (int, np.integer))
        or block_time_s <= 0
    ):
        raise ScenarioError([("block_time_s", f"must be an integer > 0, got {block_time_s!r}")])
    n_blocks, block_time_s = int(n_blocks), int(block_time_s)
    build = _BUILDERS.get(type(model))
    if build is None:
        raise TypeError(f"not a price model: {type(model).__name__}")
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        prices = build(model, n_blocks, block_time_s, rng)
    names = tuple(model.assets)
    _check_positive_finite(names, prices)
    return PricePaths(assets=names, prices=prices, block_time_s=block_time_s)


# --------------------------------------------------------------------------- helpers


def _check_positive_finite(names: tuple[str, ...], prices: np.ndarray) -> None:
    bad = ~(np.isfinite(prices) & (prices > 0))
    if not bad.any():
        return
    problems = []
    for i in np.flatnonzero(bad.any(axis=1)):
        b = int(np.argmax(bad[i]))
        problems.append(
            (
                "prices",
                f"{names[i]}: generated path is not strictly positive and finite from block "
                f"{b} (price {float(prices[i, b])!r} USD per whole token); check drift, volatility "
                "and horizon",
            )
        )
    raise ScenarioError(problems)


def _interpolate(x: np.ndarray, tb: np.ndarray, p: np.ndarray, kind: str) -> np.ndarray:
    """Piecewise interpolation of points ``(tb, p)`` at blocks ``x``; flat outside.

    Exact at the points: between points ``i`` and ``i+1`` with ``f`` the fraction of the
    way, ``linear`` is ``p_i + (p_{i+1} - p_i) f`` and ``log`` is ``p_i (p_{i+1}/p_i)**f``
    (geometric), both equal to ``p_i`` bit for bit at ``f = 0``.
    """
    if tb.size == 1:
        return np.full(x.shape, p[0])
    j = np.clip(np.searchsorted(tb, x, side="right") - 1, 0, tb.size - 2)
    x0, x1 = tb[j], tb[j + 1]
    frac = np.clip((x - x0) / (x1 - x0), 0.0, 1.0)
    p0, p1 = p[j], p[j + 1]
    out = p0 + (p1 - p0) * frac if kind == "linear" else p0 * np.power(p1 / p0, frac)
    out[x <= tb[0]] = p[0]
    out[x >= tb[-1]] = p[-1]
    return out


def _scripted(model: ScriptedModel, n_blocks: int, block_time_s: int, rng: Any) -> np.ndarray:
    x = np.arange(n_blocks + 1, dtype=np.float64)
    prices = np.empty((len(model.assets), n_blocks + 1))
    for i, (name, spec) in enumerate(model.assets.items()):
        if spec.start is not None:  # validation guarantees exactly one of start / points
            prices[i] = spec.start
            continue
        points = spec.points or ()
        try:
            check_points_increasing(points, block_time_s)
        except ValueError as exc:
            raise ScenarioError([(f"assets.{name}.points", str(exc))]) from None
        tb = np.array([to_block(t, block_time_s) for t, _ in points], dtype=np.float64)
        p = np.array([price for _, price in points], dtype=np.float64)
        prices[i] = _interpolate(x, tb, p, spec.interpolation or model.interpolation)
    return prices


def _corr_factor(c: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L @ L.T == c`` (Cholesky; eigen-factor if only semi-definite)."""
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(c)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _stochastic(
    model: GBMModel | JumpDiffusionModel, n_blocks: int, block_time_s: int, rng: np.random.Generator
) -> np.ndarray:
    names = tuple(model.assets)
    k, n = len(names), n_blocks
    specs = list(model.assets.values())
    start = np.array([a.start for a in specs])
    mu = np.array([a.mu for a in specs])
    sigma = np.array([a.sigma for a in specs])
    dt = block_time_s / SECONDS_PER_YEAR
    blocks = np.arange(n + 1)
    t = blocks * dt  # years at each block

    stress: StressOverlay | None = model.stress
    hit = np.ones(k, dtype=bool)
    at_b = over_b = 0
    vol_mult = np.ones(k)
    if stress is not None:
        at_b = to_block(stress.at, block_time_s)
        over_b = to_block(stress.over, block_time_s)
        if stress.assets is not None:
            hit = np.array([name in stress.assets for name in names])
        vol_mult = np.where(hit, stress.vol_multiplier, 1.0)

    # Draws, in the documented order. Step s (0-based) goes from block s to block s + 1.
    x = rng.standard_normal((k, n))  # 1. diffusion shocks
    jumps: np.ndarray | None = None
    comp = np.zeros(k)
    if isinstance(model, JumpDiffusionModel):
        jumps, comp = _jumps(model, n, dt, rng)  # 2. jumps
    corr_stress = stress is not None and stress.correlation_to is not None and at_b < n
    z2 = rng.standard_normal((k, n - at_b)) if corr_stress else None  # 3. stressed shocks

    if model.correlation is not None:
        x = _corr_factor(np.array(model.correlation, dtype=np.float64)) @ x
    if z2 is not None and stress is not None and stress.correlation_to is not None:
        # Correlation that rises in the crash: covariance (1 - w) C + w C_target per step,
        # w linear from 0 at `at` to 1 at `at + over` (measured at the end of each step).
        target = np.full((k, k), stress.correlation_to)
        np.fill_diagonal(target, 1.0)
        w = np.clip(np.arange(1, n - at_b + 1) / max(over_b, 1), 0.0, 1.0)
        x[:, at_b:] = np.sqrt(1.0 - w) * x[:, at_b:] + np.sqrt(w) * (_corr_factor(target) @ z2)
    vol_stress = stress is not None and stress.vol_multiplier != 1.0
    if vol_stress and at_b < n:
        x[:, at_b:] *= vol_mult[:, None]  # steps that start at or after the crash block
    increments = x
    increments *= (sigma * np.sqrt(dt))[:, None]
    if jumps is not None:
        increments += jumps

    # Deterministic part in closed form (no accumulated rounding: with sigma = 0 the path
    # is start * exp(mu * t) to the last bit of exp): (mu - lambda kappa - sigma^2 / 2) t,
    # minus, with a vol multiplier m, sigma^2 (m^2 - 1) dt (steps after at) / 2.
    rate = mu - comp - 0.5 * sigma**2
    log_ret = rate[:, None] * t[None, :]
    if vol_stress:
        extra = np.maximum(blocks - at_b, 0) * dt
        log_ret -= (0.5 * sigma**2 * (vol_mult**2 - 1.0))[:, None] * extra[None, :]

    np.cumsum(increments, axis=1, out=increments)
    log_ret[:, 1:] += increments
    prices = np.exp(log_ret, out=log_ret)
    prices *= start[:, None]

    # 4. the crash: multiply by (1 - depth) ** p, p linear from 0 at `at` to 1 at `at + over`.
    if stress is not None and stress.depth > 0:
        if over_b > 0:
            p = np.clip((blocks - at_b) / over_b, 0.0, 1.0)
        else:
            p = (blocks >= at_b).astype(np.float64)
        factor = np.power(1.0 - stress.depth, p)
        prices[hit] *= factor
    return prices


def _jumps(
    model: JumpDiffusionModel, n: int, dt: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Summed log jumps per (asset, step) and the compensator ``lambda * kappa`` per asset."""
    specs = list(model.assets.values())
    k = len(specs)
    lam = np.array([a.jump_intensity for a in specs])
    jm = np.array([a.jump_mean for a in specs])
    js = np.array([a.jump_std for a in specs])
    comp = lam * np.expm1(jm + 0.5 * js**2)
    out = np.zeros((k, n))
    if n == 0 or not (lam > 0).any():
        return out, comp
    if model.common_jumps:
        lam_max = float(lam.max())
        events = rng.poisson(lam_max * dt, size=n)
        where = np.flatnonzero(events)
        n_events = events[where]
        counts = np.empty((k, where.size), dtype=np.int64)
        for i in range(k):  # loop over assets, not blocks
            if lam[i] == lam_max:
                counts[i] = n_events
            else:
                counts[i] = rng.binomial(n_events, lam[i] / lam_max)
        z = rng.standard_normal(where.size)
        out[:, where] = counts * jm[:, None] + np.sqrt(counts) * js[:, None] * z[None, :]
    else:
        counts_all = rng.poisson((lam * dt)[:, None], size=(k, n))
        rows, cols = np.nonzero(counts_all)
        c = counts_all[rows, cols]
        z = rng.standard_normal(rows.size)
        out[rows, cols] = c * jm[rows] + np.sqrt(c) * js[rows] * z
    return out, comp


_BUILDERS: dict[type, Callable[..., np.ndarray]] = {
    ScriptedModel: _scripted,
    GBMModel: _stochastic,
    JumpDiffusionModel: _stochastic,
    GarchModel: garch_prices,
    BootstrapModel: bootstrap_prices,
}
