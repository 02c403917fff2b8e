"""Parameter sweeps: a statistic over a grid of scenario parameters, with sensitivities.

>>> from defisim.montecarlo.sweep import run_sweep                        # doctest: +SKIP
>>> res = run_sweep(scenario, params, statistic, evaluator, "runs/sweep")  # doctest: +SKIP

Points evaluated (each a Monte Carlo batch with the same run seed, see
:mod:`~defisim.montecarlo.points`):

- ``design="grid"``: the full factorial grid of the parameters' values, then the
  one-at-a-time points of the tornado (each parameter at its lowest and highest value, the
  others at the scenario's own value, or mid-range when the scenario leaves it unset).
  Sobol indices are the exact indices of the grid (:func:`~defisim.montecarlo.sensitivity.sobol_grid`).
- ``design="sobol"`` with ``sobol_samples=n``: the ``n·(d+2)`` points of a Saltelli design,
  each parameter uniform on its grid values (a uniform draw picks one of the values, so steps,
  lists and whole numbers are respected), then the tornado points; indices by
  :func:`~defisim.montecarlo.sensitivity.sobol_sampled`.

The tornado's baseline is the scenario's own value of each parameter when it lies in the
swept range, else the nearest grid value; if the scenario refuses a one-at-a-time point the
sweep runs without a tornado and says why (``tornado_reason``). Every point is validated
before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.errors import DefisimError
from defisim.montecarlo.grid import GridError, Param, apply_point, grid_points
from defisim.montecarlo.objective import Statistic
from defisim.montecarlo.points import Evaluator, PointResult, PointRunner
from defisim.montecarlo.sensitivity import (
    SensitivityError,
    SobolIndices,
    TornadoBar,
    saltelli_design,
    sobol_grid,
    sobol_sampled,
    tornado,
)
from defisim.scenario.models import ScenarioBase

__all__ = ["MAX_POINTS", "SweepResult", "plan_points", "run_sweep"]

FORMAT = "defisim.montecarlo.sweep/1"
MAX_POINTS = 100_000
"""Most grid points a sweep accepts (a guard against a mistyped step)."""


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What a sweep found. ``points``: the design's points in order (grid: row-major, last
    parameter fastest); ``oat``: the tornado's points; ``sobol``: indices or ``None`` with
    ``sobol_reason``."""

    statistic: str
    params: tuple[Param, ...]
    design: str
    points: tuple[PointResult, ...]
    baseline: dict[str, float | int]
    tornado: tuple[TornadoBar, ...]
    sobol: SobolIndices | None
    sobol_reason: str | None
    paths: int
    seed: int
    engine: str
    tornado_reason: str | None = None

    def values(self) -> np.ndarray:
        """The statistic's value at each design point, in order."""
        return np.array([p.estimates[self.statistic].value for p in self.points])

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "statistic": self.statistic, "design": self.design,
            "paths": self.paths, "seed": self.seed, "engine": self.engine,
            "params": [p.as_dict() for p in self.params], "baseline": self.baseline,
            "points": [p.as_dict() for p in self.points],
            "tornado": [b.as_dict() for b in self.tornado],
            "sobol": None if self.sobol is None else self.sobol.as_dict(),
            "sobol_reason": self.sobol_reason, "tornado_reason": self.tornado_reason,
        }


def baseline_point(params: Sequence[Param]) -> dict[str, float | int]:
    """Each parameter at the scenario's value if it lies in the swept range, else at the grid
    value nearest to it (the middle grid value if the scenario leaves it unset)."""
    out: dict[str, float | int] = {}
    for p in params:
        if p.baseline is None:
            out[p.path] = sorted(p.values)[len(p.values) // 2]
        elif p.low <= p.baseline <= p.high:
            out[p.path] = p.baseline
        else:
            out[p.path] = min(p.values, key=lambda v: abs(float(v) - float(p.baseline)))
    return out


def oat_points(params: Sequence[Param]) -> list[dict[str, float | int]]:
    """The tornado's points: each parameter at its low and high, the others at baseline."""
    base = baseline_point(params)
    out = [dict(base)]
    for p in params:
        for v in (p.low, p.high):
            out.append({**base, p.path: v})
    return out


def plan_points(params: Sequence[Param], design: str = "grid", sobol_samples: int | None = None,
                seed: int = 0) -> list[dict[str, float | int]]:
    """The design's points in evaluation order (without the tornado's)."""
    if design == "grid":
        n = int(np.prod([len(p.values) for p in params]))
        if n > MAX_POINTS:
            raise DefisimError(f"the grid has {n:,} points (at most {MAX_POINTS:,}); use fewer "
                               "values or --sobol N")
        return grid_points(params)
    if design == "sobol":
        if sobol_samples is None:
            raise DefisimError("design 'sobol' needs sobol_samples")
        n = sobol_samples * (len(params) + 2)
        if n > MAX_POINTS:
            raise DefisimError(f"--sobol {sobol_samples} gives {n:,} points (at most {MAX_POINTS:,})")
        rows = saltelli_design([(0.0, 1.0)] * len(params), sobol_samples, seed)
        return [{p.path: _grid_value(p, u) for p, u in zip(params, row)} for row in rows]
    raise DefisimError(f"unknown design {design!r} (grid or sobol)")


def _grid_value(p: Param, u: float) -> float | int:
    """The grid value a uniform ``u`` in [0, 1) picks: each of the parameter's values with
    equal probability (so steps, lists, whole numbers and basis points are respected)."""
    k = len(p.values)
    return p.values[min(k - 1, int(u * k))]


def run_sweep(scenario: ScenarioBase, params: Sequence[Param], statistic: Statistic,
              evaluator: Evaluator, out_dir: Any, *, design: str = "grid",
              sobol_samples: int | None = None, resume: bool = False,
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Evaluate the design and the tornado points; compute tornado bars and Sobol indices.

    ``params`` must be bound (:func:`~defisim.montecarlo.grid.bind`). Every point's scenario
    is validated before the first path runs.
    """
    design_points = plan_points(params, design, sobol_samples, evaluator.seed)
    extra = oat_points(params)
    study = {
        "format": FORMAT, "kind": "sweep", "scenario_digest": scenario.digest(),
        "params": [p.as_dict() for p in params], "statistic": statistic.name,
        "design": design, "sobol_samples": sobol_samples, "paths": evaluator.paths,
        "seed": evaluator.seed, "blocks": evaluator.blocks, "engine": evaluator.name,
    }
    for point in {tuple(sorted(p.items())): p for p in design_points}.values():
        apply_point(scenario, params, point)  # every design point valid before anything is written
    tornado_reason = None
    try:
        for point in extra:
            apply_point(scenario, params, point)
    except GridError as exc:
        extra, tornado_reason = [], f"no tornado: a one-at-a-time point is refused ({exc.problem})"
    runner = PointRunner(scenario, params, (statistic,), evaluator, out_dir, study,
                         resume=resume, progress=progress)
    runner.expect(len({tuple(sorted(p.items())) for p in design_points + extra}))
    results = [runner.evaluate(p) for p in design_points]
    base = baseline_point(params)
    bars = []
    if extra:
        y_base = runner.evaluate(base).estimates[statistic.name].value
        for p in params:
            lo = runner.evaluate({**base, p.path: p.low}).estimates[statistic.name].value
            hi = runner.evaluate({**base, p.path: p.high}).estimates[statistic.name].value
            bars.append(TornadoBar(p.path, float(p.low), float(p.high), lo, hi, y_base))
    y = np.array([r.estimates[statistic.name].value for r in results])
    sobol, reason = None, None
    try:
        if design == "grid":
            sobol = sobol_grid(y.reshape([len(p.values) for p in params]), [p.path for p in params])
        else:
            sobol = sobol_sampled(y, [p.path for p in params], seed=evaluator.seed)
    except SensitivityError as exc:
        reason = str(exc)
    return SweepResult(statistic.name, tuple(params), design, tuple(results), base,
                       tuple(tornado(bars)), sobol, reason, evaluator.paths, evaluator.seed,
                       evaluator.name, tornado_reason)
