"""Monte Carlo batch runner: many seeded paths of one scenario, streamed to a Parquet dataset.

>>> from defisim.montecarlo.runner import run_paths, read_dataset   # doctest: +SKIP
>>> run_paths(scenario, paths=1000, seed=7, out_dir="runs/mc")       # doctest: +SKIP
>>> df = read_dataset("runs/mc")                                     # doctest: +SKIP

- **Seeds.** Path ``i`` of a run seeded ``seed`` is simulated with
  ``simulate(scenario, seed=path_seed(seed, i))`` (:mod:`defisim.montecarlo.seeding`): the
  child ``SeedSequence(seed, spawn_key=(i,))``, independent of the worker count and of the
  total number of paths. Each row records its ``path_seed``; :func:`run_path` reproduces a
  row alone.
- **Workers.** ``workers=1`` runs in this process; otherwise a
  :class:`~concurrent.futures.ProcessPoolExecutor` (``workers=None``: ``os.cpu_count()``).
  Workers get the scenario as JSON data and validate it again (the scenario model class is
  built at run time and cannot be pickled); its digest is checked against the parent's. On
  Linux the pool forks by default, so plug-in kinds registered with ``defisim.register``
  before the call exist in the workers too; ``start_method`` chooses another method.
  Rows do not depend on the worker count (only ``run_seconds``, the wall time, varies).
- **Streaming and resume.** Each finished path is written at once, atomically, to
  ``out_dir/paths/part-<path>.parquet`` by this (the parent) process; see
  :mod:`defisim.montecarlo.dataset` for the layout, columns and atomicity. ``manifest.json``
  is written first. ``resume=True`` checks the manifest against this call
  (:class:`~defisim.montecarlo.dataset.ResultsMismatchError` if the scenario, seed, paths,
  blocks, metrics or version differ), deletes temporary files an interruption left, and runs
  only the missing paths; the finished dataset equals an uninterrupted run's. Without
  ``resume`` a non-empty ``out_dir`` is refused (:class:`~defisim.errors.OutputError`).
- **Interruption.** Ctrl-C (workers ignore SIGINT; the parent terminates them), an exception
  in a path or in ``progress``, or a dead worker stop the batch; every path already written
  stays. Workers poll their parent and exit if it dies (``kill -9`` of the runner), so they
  never outlive it by more than a fraction of a second. While a batch runs, the manifest is
  ``flock``-ed (POSIX), so a second runner on the same folder is refused.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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
from defisim.montecarlo.seeding import check_run_seed, path_seed
from defisim.scenario.models import ScenarioBase

__all__ = [
    "DEFAULT_METRICS",
    "TIMING_COLUMNS",
    "BatchRun",
    "ResultsFolderBusy",
    "ResultsMismatchError",
    "WorkerCrashedError",
    "missing_paths",
    "path_seed",
    "read_dataset",
    "read_manifest",
    "run_path",
    "run_paths",
]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: paths present in the dataset so far, and paths in the batch."""

_PARENT_POLL_S = 0.2


class WorkerCrashedError(DefisimError, RuntimeError):
    """A worker process died (killed, out of memory) during a batch.

    ``written``: paths present in ``out_dir`` when the batch stopped; they stay there. Run
    again with ``resume=True`` to finish the batch.
    """

    def __init__(self, out_dir: Path, written: int) -> None:
        self.out_dir, self.written = out_dir, written
        super().__init__(
            f"a worker process died (killed, or out of memory?); {written} finished path(s) "
            f"are saved in {out_dir}; run again with resume=True to finish the batch"
        )


class ResultsFolderBusy(DefisimError, OSError):
    """Another runner holds the results folder (its manifest is locked)."""


@dataclass(frozen=True, slots=True)
class BatchRun:
    """What one :func:`run_paths` call did.

    ``paths``: paths in the batch; ``ran``: paths simulated by this call; ``skipped``: paths
    already present (resume); ``seconds``: wall time of the call.
    """

    out_dir: Path
    paths: int
    seed: int
    ran: int
    skipped: int
    workers: int
    seconds: float


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
    return _run_one(scenario, layout, _resolve_blocks(scenario, blocks), path, path_seed)


def _run_one(scenario: ScenarioBase, layout: Layout, blocks: int, path: int | None,
             seed: int) -> dict[str, Any]:
    from defisim.simulate import simulate

    started = time.perf_counter()
    result = simulate(scenario, seed=seed, blocks=blocks)
    row = layout.row(result, path, seed, 0.0)
    row["run_seconds"] = round(time.perf_counter() - started, 6)
    return row


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
) -> BatchRun:
    """Run paths ``0 .. paths - 1`` of ``scenario`` and stream their rows into ``out_dir``.

    ``seed`` is the run seed (default ``scenario.seed``); ``blocks`` the blocks per path
    (default ``chain.blocks``); ``metrics`` names from
    :data:`~defisim.montecarlo.dataset.METRICS`. ``workers``: processes (``None``:
    ``os.cpu_count()``; 1: this process). ``progress(done, total)`` is called once at the
    start and after each path is written. See the module docstring for files, resume and
    interruption. Returns a :class:`BatchRun`; read the rows with :func:`read_dataset`.
    """
    started = time.perf_counter()
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise ValueError(f"paths must be an integer >= 1, got {paths!r}")
    run_seed = check_run_seed(scenario.seed if seed is None else seed)
    n_blocks = _resolve_blocks(scenario, blocks)
    n_workers = _resolve_workers(workers)
    layout = Layout.for_scenario(scenario, metrics)
    from defisim.simulate import package_version

    wanted = build_manifest(scenario, seed=run_seed, paths=paths, blocks=n_blocks,
                            layout=layout, version=package_version())
    out = Path(out_dir)
    lock_fd = _open_folder(out, wanted, resume)
    try:
        have = existing_paths(out)
        outside = sorted(i for i in have if i >= paths)
        if outside:
            raise OutputError(f"{out} holds part files beyond this batch's paths 0..{paths - 1} "
                              f"(first: path {outside[0]}); it was not written by this batch alone")
        todo = [i for i in range(paths) if i not in have]
        if progress is not None:
            progress(len(have), paths)
        used = min(n_workers, len(todo)) or 1
        if todo and used == 1:
            _run_in_process(scenario, layout, n_blocks, run_seed, todo, out, paths, len(have), progress)
        elif todo:
            _run_in_pool(scenario, layout, n_blocks, run_seed, todo, out, paths, len(have), progress,
                         used, start_method, lock_fd)
    finally:
        if lock_fd is not None:
            os.close(lock_fd)
    return BatchRun(out_dir=out, paths=paths, seed=run_seed, ran=len(todo), skipped=len(have),
                    workers=used, seconds=round(time.perf_counter() - started, 3))


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
                os.close(lock_fd)
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
    return fd


def _run_in_process(scenario: ScenarioBase, layout: Layout, blocks: int, run_seed: int,
                    todo: list[int], out: Path, total: int, done: int,
                    progress: Progress | None) -> None:
    for i in todo:
        seed = path_seed(run_seed, i)
        try:
            row = _run_one(scenario, layout, blocks, i, seed)
        except Exception as exc:
            exc.add_note(f"while running path {i} (path_seed {seed})")
            raise
        write_part(out, layout, row)
        done += 1
        if progress is not None:
            progress(done, total)


def _run_in_pool(scenario: ScenarioBase, layout: Layout, blocks: int, run_seed: int,
                 todo: list[int], out: Path, total: int, done: int, progress: Progress | None,
                 workers: int, start_method: str | None, lock_fd: int | None) -> None:
    method = start_method or _default_start_method()
    ctx = multiprocessing.get_context(method)
    inherited_fd = lock_fd if method == "fork" else None
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker,
        initargs=(scenario.model_dump(mode="json"), scenario.digest(), blocks, layout, inherited_fd),
    )
    pending: dict[Future[dict[str, Any]], int] = {}
    queue: Iterator[int] = iter(todo)
    window = 2 * workers

    def refill() -> None:
        while len(pending) < window:
            i = next(queue, None)
            if i is None:
                return
            pending[executor.submit(_worker_run, i, path_seed(run_seed, i))] = i

    try:
        refill()
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            failure: BaseException | None = None
            for fut in sorted(finished, key=pending.__getitem__):  # rows of good paths first
                i = pending.pop(fut)
                try:
                    row = fut.result()
                except BrokenProcessPool as exc:
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
    except BrokenProcessPool as exc:  # from a future or from submit()
        _terminate(executor)
        raise WorkerCrashedError(out, done) from exc
    except BaseException:
        _terminate(executor)
        raise
    executor.shutdown(wait=True)


def _default_start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux"):
        return "fork"
    return multiprocessing.get_start_method(allow_none=False)


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued paths and terminate workers mid-path (their results
    would not be written anyway). Uses the executor's private process table; Python 3.14
    has ``terminate_workers()`` for this."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():  # pragma: no cover - SIGTERM ignored
            proc.kill()
            proc.join(timeout=5)


# --- worker side --------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(scenario_data: dict[str, Any], digest: str, blocks: int, layout: Layout,
                 inherited_lock_fd: int | None) -> None:
    """Worker start-up: ignore Ctrl-C (the parent stops the pool), drop the inherited folder
    lock, watch the parent, and keep what each path needs. The scenario is validated lazily
    in the first path, so a problem surfaces as that path's error, not a broken pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if inherited_lock_fd is not None:
        try:
            os.close(inherited_lock_fd)
        except OSError:
            pass
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), name="defisim-parent-watch",
                     daemon=True).start()
    _WORKER.clear()
    _WORKER.update(data=scenario_data, digest=digest, blocks=blocks, layout=layout, scenario=None)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(_PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(1)


def _worker_run(path: int, seed: int) -> dict[str, Any]:
    scenario = _WORKER["scenario"]
    if scenario is None:
        from defisim.scenario.loader import scenario_from_dict

        scenario = scenario_from_dict(_WORKER["data"], source="monte carlo worker")
        if scenario.digest() != _WORKER["digest"]:
            raise DefisimError(
                f"the scenario rebuilt in a worker has digest {scenario.digest()}, the parent's "
                f"is {_WORKER['digest']}; it does not survive a JSON round trip"
            )
        _WORKER["scenario"] = scenario
    return _run_one(scenario, _WORKER["layout"], _WORKER["blocks"], path, seed)
