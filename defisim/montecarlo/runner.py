"""Monte Carlo batch runner: many seeded paths of one scenario, streamed to a Parquet dataset.

>>> from defisim.montecarlo.runner import run_paths, read_dataset   # doctest: +SKIP
>>> run_paths(scenario, paths=1000, seed=7, out_dir="runs/mc")       # doctest: +SKIP
>>> df = read_dataset("runs/mc")                                     # doctest: +SKIP

- **Seeds.** Path ``i`` of a run seeded ``seed`` is simulated with
  ``simulate(scenario, seed=path_seed(seed, i))`` (:mod:`defisim.montecarlo.seeding`): the
  child ``SeedSequence(seed, spawn_key=(i,))``, independent of the worker count and of the
  total number of paths. Each row records its ``path_seed``; :func:`run_path` reproduces a
  row alone.
- **Workers.** ``executor`` is a pool opened with
  :func:`~defisim.montecarlo.executors.open_executor` (this process, local processes, a local
  or remote Dask cluster), so one pool serves several batches (a parameter sweep). Without
  it, ``run_paths`` opens its own for the call: ``workers=1`` runs in this process; otherwise
  a :class:`~concurrent.futures.ProcessPoolExecutor` (``workers=None``: ``os.cpu_count()``);
  on Linux it forks, so plug-in kinds registered with ``defisim.register`` before the call
  exist in the workers too; ``start_method`` chooses another method. Workers get the
  scenario as JSON data and validate it again (the scenario model class is built at run
  time and cannot be pickled); its digest is checked against the parent's. All kinds share
  one loop: at most ``2 × workers`` paths in flight, rows written by this process as they
  arrive. Rows do not depend on the executor or the worker count (only ``run_seconds``, the
  wall time, varies).
- **Streaming and resume.** Each finished path is written at once, atomically, to
  ``out_dir/paths/part-<path>.parquet`` by this (the parent) process; see
  :mod:`defisim.montecarlo.dataset` for the layout, columns and atomicity. ``manifest.json``
  is written first. ``resume=True`` checks the manifest against this call
  (:class:`~defisim.montecarlo.dataset.ResultsMismatchError` if the scenario, seed, paths,
  blocks, metrics or version differ), deletes temporary files an interruption left, and runs
  only the missing paths; the finished dataset equals an uninterrupted run's. Without
  ``resume`` a non-empty ``out_dir`` is refused (:class:`~defisim.errors.OutputError`).
- **Interruption.** Ctrl-C (pool workers ignore SIGINT; the parent terminates them, or
  cancels the Dask tasks still queued or running), an exception in a path or in
  ``progress``, or a dead worker stop the batch; every path already written stays. Pool
  workers poll their parent and exit if it dies (``kill -9`` of the runner), so they never
  outlive it by more than a fraction of a second. On Dask a dead worker's task is run again
  elsewhere; losing the scheduler (or a path that kills workers repeatedly) raises
  :class:`WorkerCrashedError`. While a batch runs, the manifest is ``flock``-ed (POSIX), so
  a second runner on the same folder is refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defisim.errors import DefisimError, OutputError, ScenarioError
from defisim.montecarlo.dataset import (
    DEFAULT_METRICS,
    MANIFEST,
    PARTS_DIR,
    TIMING_COLUMNS,
    Layout,
    ResultsMismatchError,
    atomic_write_json,
    build_manifest,
    check_manifest,
    existing_paths,
    fsync_dir,
    missing_paths,
    read_dataset,
    read_manifest,
    temp_files,
    write_part,
)
from defisim.montecarlo.executors import (
    ExecutorKind,
    PathExecutor,
    WorkersLost,
    guard_fd,
    open_executor,
    release_fd,
    run_one,
)
from defisim.montecarlo.seeding import check_run_seed, path_seed
from defisim.scenario.models import ScenarioBase

__all__ = [
    "DEFAULT_METRICS",
    "TIMING_COLUMNS",
    "BatchRun",
    "PathExecutor",
    "ResultsFolderBusy",
    "ResultsMismatchError",
    "WorkerCrashedError",
    "missing_paths",
    "open_executor",
    "path_seed",
    "read_dataset",
    "read_manifest",
    "run_path",
    "run_paths",
]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: paths present in the dataset so far, and paths in the batch."""


class WorkerCrashedError(DefisimError, RuntimeError):
    """A worker process died (killed, out of memory), or the Dask cluster was lost, during a
    batch.

    ``written``: paths present in ``out_dir`` when the batch stopped; they stay there. Run
    again with ``resume=True`` to finish the batch.
    """

    def __init__(self, out_dir: Path, written: int) -> None:
        self.out_dir, self.written = out_dir, written
        super().__init__(
            f"a worker process died (killed, or out of memory?) or the Dask cluster was lost; "
            f"{written} finished path(s) "
            f"are saved in {out_dir}; run again with resume=True to finish the batch"
        )


class ResultsFolderBusy(DefisimError, OSError):
    """Another runner holds the results folder (its manifest is locked)."""


@dataclass(frozen=True, slots=True)
class BatchRun:
    """What one :func:`run_paths` call did.

    ``paths``: paths in the batch; ``ran``: paths simulated by this call; ``skipped``: paths
    already present (resume); ``workers``: paths run at once; ``executor``: which pool ran
    them (:data:`~defisim.montecarlo.executors.ExecutorKind`); ``seconds``: wall time of the
    call.
    """

    out_dir: Path
    paths: int
    seed: int
    ran: int
    skipped: int
    workers: int
    seconds: float
    executor: ExecutorKind = "in-process"


# --- one path -----------------------------------------------------------------------------

def run_path(
    scenario: ScenarioBase,
    path_seed: int,
    *,
    path: int | None = None,
    blocks: int | None = None,
    metrics: Iterable[str] = DEFAULT_METRICS,
) -> dict[str, Any]:
    """Simulate one path from its ``path_seed`` and return its flat row.

    The row is the one :func:`run_paths` writes for that path (``path`` is copied into it;
    ``None`` if not given); every value except ``run_seconds`` is identical.
    """
    layout = Layout.for_scenario(scenario, metrics)
    return run_one(scenario, layout, _resolve_blocks(scenario, blocks), path, path_seed)


def _resolve_blocks(scenario: ScenarioBase, blocks: int | None) -> int:
    n = scenario.chain.blocks if blocks is None else blocks
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ScenarioError([("blocks", f"must be an integer >= 1, got {n!r}")], source=scenario.name)
    return n


# --- the batch ----------------------------------------------------------------------------

def run_paths(
    scenario: ScenarioBase,
    *,
    paths: int,
    seed: int | None = None,
    out_dir: str | os.PathLike[str],
    workers: int | None = None,
    resume: bool = False,
    blocks: int | None = None,
    metrics: Iterable[str] = DEFAULT_METRICS,
    progress: Progress | None = None,
    start_method: str | None = None,
    executor: PathExecutor | None = None,
) -> BatchRun:
    """Run paths ``0 .. paths - 1`` of ``scenario`` and stream their rows into ``out_dir``.

    ``seed`` is the run seed (default ``scenario.seed``); ``blocks`` the blocks per path
    (default ``chain.blocks``); ``metrics`` names from
    :data:`~defisim.montecarlo.dataset.METRICS`. ``executor``: a pool from
    :func:`~defisim.montecarlo.executors.open_executor` (left open for further batches);
    without it this call opens local ``workers`` processes (``None``: ``os.cpu_count()``; 1:
    this process; ``start_method`` as in ``multiprocessing``), which it closes before
    returning. ``progress(done, total)`` is called once at the start and after each path is
    written. See the module docstring for files, resume and interruption. Returns a
    :class:`BatchRun`; read the rows with :func:`read_dataset`.
    """
    started = time.perf_counter()
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise ValueError(f"paths must be an integer >= 1, got {paths!r}")
    if executor is not None and (workers is not None or start_method is not None):
        raise ValueError("pass either executor or workers/start_method, not both: the "
                         "executor's pool decides the workers")
    run_seed = check_run_seed(scenario.seed if seed is None else seed)
    n_blocks = _resolve_blocks(scenario, blocks)
    n_workers = _resolve_workers(workers) if executor is None else 0
    layout = Layout.for_scenario(scenario, metrics)
    from defisim.simulate import package_version

    wanted = build_manifest(scenario, seed=run_seed, paths=paths, blocks=n_blocks,
                            layout=layout, version=package_version())
    out = Path(out_dir)
    lock_fd = _open_folder(out, wanted, resume)
    used, kind = 1, "in-process"
    try:
        have = existing_paths(out)
        outside = sorted(i for i in have if i >= paths)
        if outside:
            raise OutputError(f"{out} holds part files beyond this batch's paths 0..{paths - 1} "
                              f"(first: path {outside[0]}); it was not written by this batch alone")
        todo = [i for i in range(paths) if i not in have]
        if progress is not None:
            progress(len(have), paths)
        if todo and executor is None:
            with open_executor(workers=min(n_workers, len(todo)), start_method=start_method) as own:
                used, kind = own.workers, own.kind
                _run_batch(own, scenario, layout, n_blocks, run_seed, todo, out, paths, len(have),
                           progress)
        elif todo:
            assert executor is not None
            used, kind = max(1, min(executor.workers, len(todo))), executor.kind
            _run_batch(executor, scenario, layout, n_blocks, run_seed, todo, out, paths, len(have),
                       progress)
    finally:
        if lock_fd is not None:
            release_fd(lock_fd)
    return BatchRun(out_dir=out, paths=paths, seed=run_seed, ran=len(todo), skipped=len(have),
                    workers=used, seconds=round(time.perf_counter() - started, 3), executor=kind)


def _run_batch(executor: PathExecutor, scenario: ScenarioBase, layout: Layout, blocks: int,
               run_seed: int, todo: list[int], out: Path, total: int, done: int,
               progress: Progress | None) -> None:
    """Run ``todo`` on ``executor`` and write each row as it arrives: at most
    ``batch.window`` paths in flight; the finished paths of one wake-up are written in path
    order, and the first error among them (in path order) is raised after the good rows are
    written. Leaving early (error, Ctrl-C) cancels or stops what is still running."""
    queue: Iterator[int] = iter(todo)
    pending: dict[Hashable, int] = {}
    try:
        with executor.batch(scenario, blocks=blocks, layout=layout) as batch:

            def refill() -> None:
                while len(pending) < batch.window:
                    i = next(queue, None)
                    if i is None:
                        return
                    pending[batch.submit(i, path_seed(run_seed, i))] = i

            refill()
            while pending:
                failure: BaseException | None = None
                for handle in sorted(batch.completed(pending), key=pending.__getitem__):
                    i = pending.pop(handle)
                    try:
                        row = batch.result(handle)
                    except WorkersLost as exc:
                        failure = failure or exc
                        continue
                    except Exception as exc:  # noqa: BLE001 - a path's own error, re-raised below
                        exc.add_note(f"while running path {i} (path_seed {path_seed(run_seed, i)})")
                        failure = failure or exc
                        continue
                    write_part(out, layout, row)
                    done += 1
                    if progress is not None:
                        progress(done, total)
                if failure is not None:
                    raise failure
                refill()
    except WorkersLost as exc:  # from a result or from submit()
        raise WorkerCrashedError(out, done) from exc


def _resolve_workers(workers: int | None) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 or None, got {workers!r}")
    return workers


def _open_folder(out: Path, wanted: dict[str, Any], resume: bool) -> int | None:
    """Prepare ``out`` (fresh: write the manifest; resume: check it, clean temp files) and
    return the fd holding its lock (``None`` where ``flock`` is unavailable)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    manifest = out / MANIFEST
    if resume and manifest.exists():
        lock_fd = _lock(manifest)
        try:
            check_manifest(out, read_manifest(out), wanted)
            for tmp in temp_files(out) + temp_files(out / PARTS_DIR):
                tmp.unlink(missing_ok=True)
            (out / PARTS_DIR).mkdir(exist_ok=True)
        except BaseException:
            if lock_fd is not None:
                release_fd(lock_fd)
            raise
        return lock_fd
    if out.is_dir() and any(out.iterdir()):
        if not resume:
            raise OutputError(
                f"{out} exists and is not empty; choose an empty folder, or pass resume=True to "
                "finish the batch whose results are in it"
            )
        if not _only_debris(out):
            raise OutputError(f"{out} is not empty and has no {MANIFEST}; it is not a Monte Carlo "
                              "results folder, refusing to write into it")
        for tmp in temp_files(out) + temp_files(out / PARTS_DIR):
            tmp.unlink(missing_ok=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(manifest, wanted)
        (out / PARTS_DIR).mkdir(exist_ok=True)
        fsync_dir(out)
    except OSError as exc:
        if isinstance(exc, DefisimError):
            raise
        raise OutputError(f"cannot create results folder {out}: {exc}") from exc
    return _lock(manifest)


def _only_debris(out: Path) -> bool:
    """True if ``out`` holds nothing but what a run killed before its manifest landed leaves:
    temporary files and an empty ``paths`` folder."""
    debris = set(temp_files(out))
    for p in out.iterdir():
        if p in debris:
            continue
        if p.name == PARTS_DIR and p.is_dir() and all(q in temp_files(p) for q in p.iterdir()):
            continue
        return False
    return True


def _lock(manifest: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return None
    fd = os.open(manifest, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise ResultsFolderBusy(f"another runner is writing to {manifest.parent}") from exc
    guard_fd(fd)  # pool workers forked while it is held close it
    return fd
