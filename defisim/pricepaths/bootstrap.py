"""Block bootstrap of historical multi-asset log returns (the ``bootstrap`` price model).

The data's return table has one row per data step (log returns of every column between two
rows exactly one step apart; see :mod:`defisim.pricepaths._returns_data`). A simulated run
of ``m`` steps takes the rows ``idx[0], ..., idx[m - 1]`` (:func:`bootstrap_indices`),
whole rows, so every asset moves with the same historical hour and cross-correlation is
kept; consecutive rows come in blocks, so volatility clustering inside a block is kept. The
table is circular: after its last row comes its first.

- ``circular`` (Politis and Romano 1992): block ``i`` starts at a uniform row ``s_i`` and
  covers ``s_i, s_i + 1, ..., s_i + L - 1`` (mod ``N``); blocks follow each other.
- ``stationary`` (Politis and Romano 1994): each step starts a new block with probability
  ``1 / L`` (the first step always does), at a uniform row; otherwise it takes the row after
  the previous one. Block lengths are geometric with mean ``L``.

Random numbers, in order: ``circular``: ``integers(0, N, size=ceil(m / L))`` (block
starts); ``stationary``: ``random(m)`` (new-block coin flips) then ``integers(0, N, size=m)``
(a start row per step, used where a block starts). Then, for ``interpolation: bridge``,
``standard_normal((k, n_intervals))`` for the bridge (see :mod:`defisim.pricepaths._steps`).

>>> import numpy as np
>>> from defisim.pricepaths import generate, parse_price_model
>>> model = parse_price_model({
...     "model": "bootstrap", "data": "builtin:binance-eth-btc-1h-2020-2022",
...     "block_length": 24, "assets": {"WETH": {"column": "ETH", "start": 3000}}})
>>> paths = generate(model, n_blocks=7200, block_time_s=12, rng=np.random.default_rng(0))
>>> paths.prices.shape
(1, 7201)
"""

from __future__ import annotations

import numpy as np

from defisim.errors import ScenarioError
from defisim.pricepaths._returns_data import ReturnsDataError, load_returns_data
from defisim.pricepaths._steps import (
    apply_crash,
    apply_vol_multiplier,
    corr_factor,
    step_grid,
    steps_to_blocks,
    stress_plan,
)
from defisim.pricepaths.models import BootstrapModel

__all__ = ["bootstrap_indices", "bootstrap_prices"]


def bootstrap_indices(
    n_rows: int, n_steps: int, block_length: int, scheme: str, rng: np.random.Generator
) -> np.ndarray:
    """Rows of the return table for ``n_steps`` steps (int64, each in ``0 .. n_rows - 1``)."""
    if n_rows < 1:
        raise ValueError("the return table is empty")
    if n_steps == 0:
        return np.zeros(0, dtype=np.int64)
    t = np.arange(n_steps, dtype=np.int64)
    if scheme == "circular":
        starts = rng.integers(0, n_rows, size=-(-n_steps // block_length))
        return (starts[t // block_length] + t % block_length) % n_rows
    if scheme == "stationary":
        new = rng.random(n_steps) < 1.0 / block_length
        starts = rng.integers(0, n_rows, size=n_steps)
        new[0] = True
        first = np.flatnonzero(new)  # step at which each block starts
        block = np.cumsum(new) - 1
        return (starts[first][block] + t - first[block]) % n_rows
    raise ValueError(f"unknown bootstrap scheme {scheme!r}; use 'stationary' or 'circular'")


def bootstrap_prices(
    model: BootstrapModel, n_blocks: int, block_time_s: int, rng: np.random.Generator
) -> np.ndarray:
    """Prices ``(k, n_blocks + 1)`` of a ``bootstrap`` model, USD per whole token."""
    try:
        data = load_returns_data(model.data)
    except ReturnsDataError as exc:
        raise ScenarioError([("data", str(exc))]) from None
    if model.sha256 is not None and data.digest != model.sha256:
        msg = f"{data.source} changed since the model was validated (SHA-256 {data.digest}, expected {model.sha256})"
        raise ScenarioError([("data", msg)])
    names = tuple(model.assets)
    columns = tuple(a.column or name for name, a in model.assets.items())
    table = np.asarray(data.log_returns(columns))  # (N, k)
    if table.shape[0] == 0:
        raise ScenarioError([("data", f"{data.source} has no two rows one step apart")])
    mean = table.mean(axis=0)
    if model.demean:
        table = table - mean
        mean = np.zeros_like(mean)
    grid = step_grid(n_blocks, block_time_s, data.step_s)
    plan = stress_plan(model.stress, names, block_time_s)
    idx = bootstrap_indices(table.shape[0], grid.n_steps, model.block_length, model.scheme, rng)
    r = table[idx].T  # (k, m)
    v = eps = None
    if model.interpolation == "bridge":
        k = len(names)
        eps = rng.standard_normal((k, grid.n_intervals))
        if k > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = np.nan_to_num(np.corrcoef(table, rowvar=False))  # a constant column: 0
            np.fill_diagonal(corr, 1.0)
            eps = corr_factor(corr) @ eps
        v = (r - mean[:, None]) ** 2
    x = steps_to_blocks(grid, r, v, eps)
    x = apply_vol_multiplier(x, plan, mean * (block_time_s / data.step_s))
    start = np.array([a.start for a in model.assets.values()])
    prices = np.exp(x) * start[:, None]
    return apply_crash(prices, plan)
