"""Recommend the most capital-efficient parameter setting that meets a risk target.

>>> from defisim.montecarlo.recommend import recommend                  # doctest: +SKIP
>>> rec = recommend(scenario, params, target, objectives, evaluator, "runs/rec")  # doctest: +SKIP

**Efficiency.** Each parameter has a direction: ``max`` (higher is more capital-efficient:
liquidation thresholds, LTVs, collateral factors) or ``min`` (lower is: liquidation bonuses
and penalties, insurance-fund sizes). :func:`default_direction` knows the common ones; others
must be given. With several parameters, points are ranked lexicographically in the order
the parameters are given (the first parameter's direction decides first).

**Meeting the target.** By default a point meets the target only if every clause holds at
the least favourable end of its statistic's 95 % interval (``robust=True``; e.g. for
``bad_debt.var99 < 1e6`` the bootstrap upper bound of the 99 % VaR must be below 1e6), so
the answer does not rest on a lucky sample; ``robust=False`` uses the point estimates.

**Search.** One parameter: the target is assumed monotone along it (safer values meet it if
a riskier one does). The safest value is evaluated first (if it fails, nothing in the range
meets the target), then the most efficient one, then bisection between the last passing and
the first failing value: ``O(log n)`` batches for ``n`` values. Every evaluated point is
checked against that assumption (the chosen value's neighbours included); if one contradicts
it the search evaluates the whole range, says so, and recommends the most efficient value from
which every safer value meets the target as well. Several parameters: the whole grid is evaluated.

**Evidence.** The chosen point and its grid neighbours (one step either way in each
parameter) with every target statistic's estimate, interval and, for VaR, the GPD tail
quantile and its interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from defisim.errors import DefisimError
from defisim.montecarlo.grid import Param, apply_point, grid_points
from defisim.montecarlo.objective import Target
from defisim.montecarlo.points import Evaluator, PointResult, PointRunner, point_key
from defisim.montecarlo.sweep import MAX_POINTS
from defisim.scenario.models import ScenarioBase

__all__ = ["DirectionError", "Recommendation", "default_direction", "recommend"]

FORMAT = "defisim.montecarlo.recommend/1"

_MAXIMIZE = ("liquidation_threshold", "ltv", "lltv", "borrow_collateral_factor",
             "liquidate_collateral_factor", "max_leverage")
_MINIMIZE = ("liquidation_bonus", "liquidation_penalty", "liquidation_factor", "chop", "mat",
             "initial_margin", "maintenance_margin", "store_front_price_factor")


class DirectionError(DefisimError, ValueError):
    """A parameter's efficient direction is unknown or not ``max``/``min``."""


def default_direction(path: str) -> str | None:
    """``"max"``, ``"min"`` or ``None`` (unknown) for a parameter path, by its last segment
    (an insurance fund's ``initial`` size: ``"min"``)."""
    leaf = path.rsplit(".", 1)[-1]
    if leaf in _MAXIMIZE:
        return "max"
    if leaf in _MINIMIZE or ("insurance_fund" in path and leaf == "initial"):
        return "min"
    return None


def directions(params: Sequence[Param], given: Mapping[str, str]) -> dict[str, str]:
    """Each parameter's direction: ``given[path]`` or :func:`default_direction`."""
    unknown_given = sorted(set(given) - {p.path for p in params})
    if unknown_given:
        raise DirectionError(f"--maximize/--minimize {unknown_given[0]}: not one of the --param paths")
    out = {}
    for p in params:
        d = given.get(p.path) or default_direction(p.path)
        if d not in ("max", "min"):
            raise DirectionError(f"{p.path}: say whether higher or lower is more capital-efficient "
                                 f"(--maximize {p.path} or --minimize {p.path})")
        out[p.path] = d
    return out


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A point with whether it meets the target."""

    result: PointResult
    meets: bool

    def as_dict(self) -> dict[str, Any]:
        return {**self.result.as_dict(), "meets_target": self.meets}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The search's answer: ``chosen`` (``None`` if no point meets the target), its
    ``neighbours``, and every point ``evaluated`` in order."""

    target: str
    robust: bool
    directions: dict[str, str]
    params: tuple[Param, ...]
    chosen: Evaluated | None
    neighbours: tuple[Evaluated, ...]
    evaluated: tuple[Evaluated, ...]
    search: str
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "target": self.target, "robust": self.robust,
            "directions": self.directions, "params": [p.as_dict() for p in self.params],
            "search": self.search,
            "chosen": None if self.chosen is None else self.chosen.as_dict(),
            "neighbours": [e.as_dict() for e in self.neighbours],
            "evaluated": [e.as_dict() for e in self.evaluated],
            "warnings": list(self.warnings),
        }


def recommend(scenario: ScenarioBase, params: Sequence[Param], target: Target,
              evaluator: Evaluator, out_dir: Any, *, given_directions: Mapping[str, str] | None = None,
              robust: bool = True, resume: bool = False,
              progress: Callable[[int, int], None] | None = None) -> Recommendation:
    """Search ``params`` (bound, :func:`~defisim.montecarlo.grid.bind`) for the most efficient
    point meeting ``target`` (see the module docstring)."""
    dirs = directions(params, given_directions or {})
    n_grid = 1
    for p in params:
        n_grid *= len(p.values)
    if n_grid > MAX_POINTS:
        raise DefisimError(f"the grid has {n_grid:,} points (at most {MAX_POINTS:,}); use fewer values")
    ordered = [_efficient_order(p, dirs[p.path]) for p in params]  # most efficient first
    study = {
        "format": FORMAT, "kind": "recommend", "scenario_digest": scenario.digest(),
        "params": [p.as_dict() for p in params], "target": target.text, "robust": robust,
        "directions": dirs, "paths": evaluator.paths, "seed": evaluator.seed,
        "blocks": evaluator.blocks, "engine": evaluator.name,
    }
    for point in grid_points(params):  # every value accepted before anything is written
        apply_point(scenario, params, point)
    runner = PointRunner(scenario, params, target.statistics, evaluator, out_dir, study,
                         resume=resume, progress=progress)
    evaluated: dict[str, Evaluated] = {}

    def judge(point: dict[str, float | int]) -> Evaluated:
        res = runner.evaluate(point)
        if res.key not in evaluated:
            evaluated[res.key] = Evaluated(res, target.check(res.estimates, robust=robust))
        return evaluated[res.key]

    warnings: list[str] = []
    if len(params) == 1:
        p, values = params[0], ordered[0]
        chosen_i, search = _bisect(p.path, values, judge, runner)
        if chosen_i is not None:  # the neighbours are evidence and a check of monotonicity
            _judge_neighbours(params, {p.path: values[chosen_i]}, judge, runner, evaluated)
        if _contradicts(p.path, values, evaluated):
            warnings.append(f"the target is not monotone in {p.path} over the evaluated values; "
                            "evaluated the whole range instead of trusting the bisection")
            runner.expect(sum(1 for v in values if point_key({p.path: v}) not in evaluated))
            meets = [judge({p.path: v}).meets for v in values]
            # the most efficient value from which every safer value meets the target too
            chosen_i = next((i for i in range(len(values)) if all(meets[i:])), None)
            search = "exhaustive (not monotone)"
        chosen_point = None if chosen_i is None else {p.path: values[chosen_i]}
    else:
        search = "exhaustive grid"
        grid = grid_points(params)
        runner.expect(len(grid))
        for point in grid:
            judge(point)
        rank = {p.path: {v: i for i, v in enumerate(vals)} for p, vals in zip(params, ordered)}
        meeting = [e.result.point for e in evaluated.values() if e.meets]
        chosen_point = min(meeting, key=lambda pt: tuple(rank[k][pt[k]] for k in rank), default=None)
    chosen = None if chosen_point is None else judge(chosen_point)
    neighbours: list[Evaluated] = []
    if chosen_point is not None:
        neighbours = _judge_neighbours(params, chosen_point, judge, runner, evaluated)
    else:
        warnings.append("no value in the range meets the target; widen the range toward the safe side")
    return Recommendation(target.text, robust, dirs, tuple(params), chosen, tuple(neighbours),
                          tuple(evaluated.values()), search, tuple(warnings))


def _judge_neighbours(params: Sequence[Param], point: Mapping[str, float | int],
                      judge: Callable[[dict], Evaluated], runner: PointRunner,
                      evaluated: Mapping[str, Evaluated]) -> list[Evaluated]:
    around = _neighbours(params, point)
    runner.expect(sum(1 for pt in around if point_key(pt) not in evaluated))
    return [judge(pt) for pt in around]


def _efficient_order(p: Param, direction: str) -> list[float | int]:
    return sorted(p.values, reverse=(direction == "max"))


def _bisect(path: str, values: Sequence[float | int], judge: Callable[[dict], Evaluated],
            runner: PointRunner) -> tuple[int | None, str]:
    """Index (in ``values``, most efficient first) of the most efficient passing value."""
    n = len(values)
    runner.expect(min(n, 2))
    if not judge({path: values[-1]}).meets:  # the safest fails: nothing passes
        return None, "bisection"
    if n == 1 or judge({path: values[0]}).meets:
        return 0, "bisection"
    fail, ok = 0, n - 1  # values[fail] fails, values[ok] passes
    while ok - fail > 1:
        mid = (fail + ok) // 2
        runner.expect(1)
        if judge({path: values[mid]}).meets:
            ok = mid
        else:
            fail = mid
    return ok, "bisection"


def _contradicts(path: str, values: Sequence[float | int], evaluated: Mapping[str, Evaluated]) -> bool:
    """True if a more efficient evaluated value passes while a safer one fails."""
    order = {v: i for i, v in enumerate(values)}
    seen = sorted((order[e.result.point[path]], e.meets) for e in evaluated.values())
    passed_before = False
    for _, meets in seen:  # most efficient first: once one passes, every safer one must pass
        if meets:
            passed_before = True
        elif passed_before:
            return True
    return False


def _neighbours(params: Sequence[Param], point: Mapping[str, float | int]) -> list[dict[str, float | int]]:
    out = []
    for p in params:
        vals = sorted(p.values)
        i = vals.index(point[p.path])
        for j in (i - 1, i + 1):
            if 0 <= j < len(vals):
                out.append({**point, p.path: vals[j]})
    return out
