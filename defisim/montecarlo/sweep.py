"""Parameter sweeps: a statistic over a grid of scenario parameters, with sensitivities.

>>> from defisim.montecarlo.sweep import run_sweep                        # doctest: +SKIP
>>> res = run_sweep(scenario, params, statistic, evaluator, "runs/sweep")  # doctest: +SKIP

Points evaluated (each a Monte Carlo batch with the same run seed, see
:mod:`~defisim.montecarlo.points`):

- ``design="grid"``: the full factorial grid of the parameters' values, then the
  one-at-a-time points of the tornado (each parameter at its lowest and highest value, the
  others at the scenario's own value, or mid-range when the scenario leaves it unset).
  Sobol indices are the exact indices of the grid (:func:`~defisim.montecarlo.sensitivity.sobol_grid`).
- ``design="sobol"`` with ``sobol_samples=n``: the ``n·(d+2)`` points of a Saltelli design
  over each parameter's ``[lowest, highest]`` range (whole-number parameters rounded), then
  the tornado points; indices by :func:`~defisim.montecarlo.sensitivity.sobol_sampled`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.errors import DefisimError
from defisim.montecarlo.grid import Param, grid_points
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
            "sobol_reason": self.sobol_reason,
        }


def baseline_point(params: Sequence[Param]) -> dict[str, float | int]:
    """Each parameter at the scenario's value, or at its middle grid value if unset."""
    return {p.path: p.baseline if p.baseline is not None else p.values[len(p.values) // 2]
            for p in params}


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
        rows = saltelli_design([(float(p.low), float(p.high)) for p in params], sobol_samples, seed)
        return [{p.path: _cast(p, v) for p, v in zip(params, row)} for row in rows]
    raise DefisimError(f"unknown design {design!r} (grid or sobol)")


def _cast(p: Param, v: float) -> float | int:
    if all(isinstance(x, int) for x in p.values):
        return round(v)
    return float(v)


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
    runner = PointRunner(scenario, params, (statistic,), evaluator, out_dir, study,
                         resume=resume, progress=progress)
    unique = {tuple(sorted(p.items())): p for p in design_points + extra}
    for p in unique.values():  # validate every point before running any
        runner.scenario_at(p)
    runner.expect(len(unique))
    results = [runner.evaluate(p) for p in design_points]
    base = baseline_point(params)
    y_base = runner.evaluate(base).estimates[statistic.name].value
    bars = []
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
                       evaluator.name)
