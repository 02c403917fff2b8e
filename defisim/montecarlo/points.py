"""Evaluate a scenario at parameter points: one Monte Carlo batch per point, cached on disk.

Used by :mod:`~defisim.montecarlo.sweep` and :mod:`~defisim.montecarlo.recommend`. A point
is ``{parameter path: value}``; its batch runs ``paths`` paths with the **same run seed at
every point**, so path ``i`` sees the same price path everywhere (common random numbers:
differences between points are not blurred by different draws).

Folder layout (``out_dir``)::

    study.json                     what was asked (checked on --resume)
    points/p-<12 hex>/point.json   the point's values
    points/p-<12 hex>/...          its batch: a run_paths results folder (engine), or
                                   screen.parquet (screening estimate)

The folder name is a digest of the point's values, so a resumed study finds every finished
point whatever order it is evaluated in; an engine batch interrupted mid-way resumes path by
path (:func:`~defisim.montecarlo.runner.run_paths` with ``resume``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.errors import OutputError
from defisim.montecarlo.dataset import (
    ResultsMismatchError,
    atomic_write,
    atomic_write_json,
    read_dataset,
)
from defisim.montecarlo.grid import Param, apply_point
from defisim.montecarlo.objective import Estimate, Statistic, estimate
from defisim.scenario.models import ScenarioBase

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EngineEvaluator", "PointResult", "PointRunner", "ScreenEvaluator", "point_key"]

STUDY_FILE = "study.json"
POINTS_DIR = "points"
PathProgress = Callable[[int], None]
"""``progress(paths_finished_in_this_point)``."""


def point_key(point: Mapping[str, float | int]) -> str:
    """Folder name of a point: ``p-`` and 12 hex digits of its values' digest."""
    blob = json.dumps({k: float(point[k]) for k in sorted(point)}, sort_keys=True).encode()  # 1 == 1.0
    return "p-" + hashlib.sha256(blob).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class EngineEvaluator:
    """Runs a point's batch on the exact engine (:func:`~defisim.montecarlo.runner.run_paths`).

    ``run_kwargs`` go to ``run_paths`` as they are (``workers=``, ``executor=``, ...).
    """

    paths: int
    seed: int
    blocks: int | None = None
    run_kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str = "engine"

    def __call__(self, scenario: ScenarioBase, folder: Path, resume: bool,
                 progress: PathProgress | None) -> pd.DataFrame:
        from defisim.montecarlo.runner import run_paths

        tick = None if progress is None else (lambda done, _total: progress(done))
        run_paths(scenario, paths=self.paths, seed=self.seed, out_dir=folder / "batch",
                  resume=resume, blocks=self.blocks, progress=tick, **dict(self.run_kwargs))
        return read_dataset(folder / "batch")


@dataclass(frozen=True, slots=True)
class ScreenEvaluator:
    """Runs a point on the vectorised screening estimate
    (:func:`~defisim.montecarlo.screening.screen_paths`, chunks in ``workers`` processes);
    saves ``screen.parquet``."""

    paths: int
    seed: int
    blocks: int | None = None
    workers: int = 1
    name: str = "screen"

    def __call__(self, scenario: ScenarioBase, folder: Path, resume: bool,
                 progress: PathProgress | None) -> pd.DataFrame:
        import pandas as pd

        target = folder / "screen.parquet"
        if resume and target.exists():
            return pd.read_parquet(target)
        from defisim.montecarlo.screening import screen_paths

        df = screen_paths(scenario, paths=self.paths, seed=self.seed, blocks=self.blocks,
                          workers=self.workers)
        atomic_write(target, lambda fh: df.to_parquet(fh, index=False))
        if progress is not None:
            progress(self.paths)
        return df


Evaluator = EngineEvaluator | ScreenEvaluator


@dataclass(frozen=True, slots=True)
class PointResult:
    """A point's values and the estimate of each requested statistic (by name)."""

    point: dict[str, float | int]
    key: str
    estimates: dict[str, Estimate]

    def as_dict(self) -> dict[str, Any]:
        return {"point": dict(self.point), "key": self.key,
                "estimates": {k: e.as_dict() for k, e in self.estimates.items()}}


class PointRunner:
    """Evaluates points of one study (one scenario, parameters, statistics, evaluator).

    ``study`` is the description written to ``study.json`` and compared on ``resume``
    (:class:`~defisim.montecarlo.dataset.ResultsMismatchError` at the first differing
    field). Without ``resume`` a non-empty ``out_dir`` is refused. ``progress(done, total)``
    counts paths over ``total_points`` points (``total_points`` may grow: a search does not
    know its length in advance). Results are cached in memory and on disk.
    """

    def __init__(self, scenario: ScenarioBase, params: Sequence[Param], statistics: Sequence[Statistic],
                 evaluator: Evaluator, out_dir: str | os.PathLike[str], study: Mapping[str, Any],
                 *, resume: bool = False, progress: Callable[[int, int], None] | None = None) -> None:
        self.scenario, self.params, self.statistics = scenario, tuple(params), tuple(statistics)
        self.evaluator, self.out, self.resume = evaluator, Path(out_dir), resume
        self.progress = progress
        self.total_points = 0
        self._done_paths = 0
        self._cache: dict[str, PointResult] = {}
        self._open(dict(study))

    def _open(self, study: dict[str, Any]) -> None:
        manifest = self.out / STUDY_FILE
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"{self.out} exists and is not a folder")
        if manifest.exists():
            if not self.resume:
                raise OutputError(f"{self.out} already holds a study; pass --resume to finish it, "
                                  "or choose another folder")
            try:
                found = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise OutputError(f"cannot read {manifest}: {exc}") from exc
            for key, wanted in study.items():
                if found.get(key) != wanted:
                    raise ResultsMismatchError(self.out, key, found.get(key), wanted, "study")
            return
        if self.out.is_dir() and any(self.out.iterdir()):
            raise OutputError(f"{self.out} exists and is not empty and has no {STUDY_FILE}; "
                              "choose an empty folder")
        try:
            (self.out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.out}: {exc}") from exc
        atomic_write_json(manifest, study)

    def expect(self, points: int) -> None:
        """Announce ``points`` more points to the progress total."""
        self.total_points += points
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self._done_paths, self.total_points * self.evaluator.paths)

    def scenario_at(self, point: Mapping[str, float | int]) -> ScenarioBase:
        """The validated scenario at ``point`` (:class:`~defisim.montecarlo.grid.GridError`)."""
        return apply_point(self.scenario, self.params, point)

    def evaluate(self, point: Mapping[str, float | int]) -> PointResult:
        """Run (or reuse) ``point``'s batch and estimate every statistic on it."""
        key = point_key(point)
        if key in self._cache:
            return self._cache[key]
        scenario = self.scenario_at(point)
        folder = self.out / POINTS_DIR / key
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / "point.json", {"point": dict(point), "scenario_digest": scenario.digest()})
        base = self._done_paths

        def tick(done: int) -> None:
            self._done_paths = base + done
            self._report()

        df = self.evaluator(scenario, folder, self.resume, tick)
        self._done_paths = base + self.evaluator.paths
        result = PointResult(dict(point), key, {
            s.name: estimate(s, df, rng_seed=_stat_seed(self.evaluator.seed, key, s.name))
            for s in self.statistics})
        self._cache[key] = result
        self._report()
        return result


def _stat_seed(seed: int, key: str, name: str) -> int:
    """Seed of a statistic's bootstrap at one point (stable across runs and orders)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{key}/{name}".encode()).digest()[:8], "big")
