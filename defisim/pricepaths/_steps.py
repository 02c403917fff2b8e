"""From data steps to blocks, and the stress overlay, shared by the step-based price models.

``garch`` and ``bootstrap`` produce one log return per data step (e.g. one hour) while the
simulation needs a price at every block (e.g. 12 s). Step ``j`` covers the seconds
``[j * step_s, (j + 1) * step_s)`` from block 0; block ``b`` is at second ``b * block_time_s``.
Neither needs to divide the other.

:func:`steps_to_blocks` places the log price at every block time ``t`` in step ``j``, a
fraction ``f = (t - j * step_s) / step_s`` of the way through it:

- ``log-linear``: ``X(t) = X_j + f r_j``;
- ``bridge``: ``X(t) = X_j + f r_j + sqrt(v_j) B_j(f)`` with ``B_j`` a standard Brownian
  bridge on ``[0, 1]`` (zero at both ends), so ``X`` still passes exactly through every step
  end point ``X_j`` while moving inside the step with variance ``v_j`` per step. Drawn on the
  merged grid of block times and step boundaries: one standard normal per interval
  (``bridge_grid(...).n_intervals`` per asset), ``W`` their scaled cumulative sum and
  ``B(f) = W(f) - f W(1)`` within each step. The last step may reach past the last block;
  its bridge is still pinned at its (unobserved) end.

``X_j`` is the cumulative sum of the step returns, so at a step boundary the path is
exactly the product of the step returns' exponentials (up to float rounding in ``exp``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from defisim.pricepaths._timeparse import to_block
from defisim.pricepaths.models import StressOverlay

__all__ = [
    "StepGrid",
    "StressPlan",
    "apply_crash",
    "apply_vol_multiplier",
    "blend_correlation",
    "corr_factor",
    "step_grid",
    "steps_to_blocks",
    "stress_plan",
]


@dataclass(frozen=True, slots=True, eq=False)
class StepGrid:
    """The data steps a run of ``n_blocks`` needs and the merged time grid of the bridge.

    ``n_steps``: ``ceil(n_blocks * block_time_s / step_s)``. ``times``: sorted union of block
    times and step boundaries ``0 .. n_steps * step_s`` (seconds, int64). ``block_pos`` and
    ``step_pos``: where the block times and the step boundaries sit in ``times``.
    """

    n_blocks: int
    block_time_s: int
    step_s: int
    n_steps: int
    times: np.ndarray
    block_pos: np.ndarray
    step_pos: np.ndarray

    @property
    def n_intervals(self) -> int:
        """Intervals of the merged grid (standard normals per asset for the bridge)."""
        return int(self.times.shape[0] - 1)

    @property
    def interval_end_s(self) -> np.ndarray:
        """End time (seconds) of every interval of the merged grid."""
        return self.times[1:]

    @property
    def step_end_s(self) -> np.ndarray:
        """End time (seconds) of every step."""
        return (np.arange(self.n_steps, dtype=np.int64) + 1) * self.step_s


def step_grid(n_blocks: int, block_time_s: int, step_s: int) -> StepGrid:
    """The grid for ``n_blocks`` blocks of ``block_time_s`` seconds and steps of ``step_s``."""
    end = n_blocks * block_time_s
    n_steps = -(-end // step_s)
    blocks = np.arange(n_blocks + 1, dtype=np.int64) * block_time_s
    bounds = np.arange(n_steps + 1, dtype=np.int64) * step_s
    times = np.union1d(blocks, bounds)
    return StepGrid(
        n_blocks=n_blocks, block_time_s=block_time_s, step_s=step_s, n_steps=int(n_steps),
        times=times, block_pos=np.searchsorted(times, blocks), step_pos=np.searchsorted(times, bounds),
    )


def steps_to_blocks(
    grid: StepGrid, r: np.ndarray, v: np.ndarray | None = None, eps: np.ndarray | None = None
) -> np.ndarray:
    """Log price relative to block 0 at every block, shape ``(k, n_blocks + 1)``.

    ``r``: step log returns ``(k, n_steps)``. ``log-linear`` when ``v`` is ``None``; else the
    Brownian bridge with step variances ``v`` ``(k, n_steps)`` and standard normals ``eps``
    ``(k, n_intervals)`` (already correlated across assets as wanted).
    """
    k, m = r.shape[0], grid.n_steps
    if m == 0:
        return np.zeros((k, grid.n_blocks + 1))
    cum = np.zeros((k, m + 1))
    np.cumsum(r, axis=1, out=cum[:, 1:])
    r_pad = np.concatenate([r, np.zeros((k, 1))], axis=1)
    if v is None:
        t = grid.times[grid.block_pos]
        j = t // grid.step_s
        f = (t - j * grid.step_s) / grid.step_s
        return cum[:, j] + f * r_pad[:, j]
    if eps is None:
        raise ValueError("the bridge needs its standard normals `eps`")
    t = grid.times
    j = np.minimum(t // grid.step_s, m - 1)
    f = (t - j * grid.step_s) / grid.step_s
    w = np.zeros((k, t.shape[0]))
    np.cumsum(np.sqrt(np.diff(t) / grid.step_s) * eps, axis=1, out=w[:, 1:])
    w_start = w[:, grid.step_pos[j]]
    w_end = w[:, grid.step_pos[j + 1]]
    bridge = (w - w_start) - f * (w_end - w_start)
    x = cum[:, j] + f * r_pad[:, j] + np.sqrt(v[:, j]) * bridge
    on_bound = t % grid.step_s == 0  # exactly the step end points there (no rounding)
    x[:, on_bound] = cum[:, t[on_bound] // grid.step_s]
    return x[:, grid.block_pos]


def corr_factor(c: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L @ L.T == c`` (Cholesky; eigen-factor if only semi-definite)."""
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(c)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


@dataclass(frozen=True, slots=True)
class StressPlan:
    """A :class:`~defisim.pricepaths.models.StressOverlay` in blocks for one run."""

    stress: StressOverlay
    at_b: int
    over_b: int
    hit: np.ndarray  # bool per asset

    def blend_weights(self, end_s: np.ndarray, block_time_s: int) -> np.ndarray:
        """Weight of the target correlation for intervals ending at ``end_s`` (seconds).

        Linear from 0 at ``at`` to 1 at ``at + over`` (in blocks, measured at the end of the
        interval), 0 for intervals that end at or before ``at``: as gbm does per block.
        """
        end_b = end_s / block_time_s
        w = np.clip((end_b - self.at_b) / max(self.over_b, 1), 0.0, 1.0)
        w[end_b <= self.at_b] = 0.0
        return w


def stress_plan(stress: StressOverlay | None, names: tuple[str, ...], block_time_s: int) -> StressPlan | None:
    """The overlay in blocks, or ``None``."""
    if stress is None:
        return None
    hit = np.ones(len(names), dtype=bool)
    if stress.assets is not None:
        hit = np.array([name in stress.assets for name in names])
    return StressPlan(
        stress=stress, at_b=to_block(stress.at, block_time_s), over_b=to_block(stress.over, block_time_s),
        hit=hit,
    )


def blend_correlation(
    x: np.ndarray, plan: StressPlan | None, end_s: np.ndarray, block_time_s: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Move the correlation of shocks ``x`` ``(k, n)`` toward ``correlation_to`` (in place).

    For shock columns with weight ``w > 0`` (see :meth:`StressPlan.blend_weights`):
    ``sqrt(1 - w) x + sqrt(w) L_target z2`` with fresh standard normals ``z2`` drawn now,
    ``(k, number of such columns)``. Covariance ``(1 - w) C + w C_target``; unit variance kept.
    """
    if plan is None or plan.stress.correlation_to is None or x.shape[1] == 0:
        return x
    w = plan.blend_weights(end_s, block_time_s)
    cols = np.flatnonzero(w > 0)
    if cols.size == 0:
        return x
    k = x.shape[0]
    target = np.full((k, k), plan.stress.correlation_to)
    np.fill_diagonal(target, 1.0)
    z2 = rng.standard_normal((k, cols.size))
    x[:, cols] = np.sqrt(1.0 - w[cols]) * x[:, cols] + np.sqrt(w[cols]) * (corr_factor(target) @ z2)
    return x


def apply_vol_multiplier(
    x: np.ndarray, plan: StressPlan | None, mean_per_block: np.ndarray
) -> np.ndarray:
    """Scale every block's log-return deviation from ``mean_per_block`` after ``at``.

    ``x``: log prices ``(k, n_blocks + 1)``; block steps ``b -> b + 1`` with ``b >= at`` of
    the hit assets get ``mean + m (d - mean)``. Blocks up to ``at`` are unchanged bit for bit.
    """
    if plan is None or plan.stress.vol_multiplier == 1.0:
        return x
    at, n = plan.at_b, x.shape[1] - 1
    if at >= n:
        return x
    d = np.diff(x[:, at:], axis=1)
    mean = mean_per_block[:, None]
    mult = np.where(plan.hit, plan.stress.vol_multiplier, 1.0)[:, None]
    d = mean + mult * (d - mean)
    out = x.copy()
    out[:, at + 1 :] = x[:, at : at + 1] + np.cumsum(d, axis=1)
    return out


def apply_crash(prices: np.ndarray, plan: StressPlan | None) -> np.ndarray:
    """Multiply the hit assets by ``(1 - depth) ** p``, ``p`` linear from 0 at ``at`` to 1 at
    ``at + over`` (in place; see :class:`~defisim.pricepaths.models.StressOverlay`)."""
    if plan is None or plan.stress.depth <= 0:
        return prices
    blocks = np.arange(prices.shape[1])
    if plan.over_b > 0:
        p = np.clip((blocks - plan.at_b) / plan.over_b, 0.0, 1.0)
    else:
        p = (blocks >= plan.at_b).astype(np.float64)
    prices[plan.hit] *= np.power(1.0 - plan.stress.depth, p)
    return prices
