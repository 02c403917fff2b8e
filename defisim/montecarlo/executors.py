"""Where Monte Carlo paths run: this process, local processes, or a Dask cluster.

>>> from defisim.montecarlo.executors import open_executor               # doctest: +SKIP
>>> with open_executor(scheduler="tcp://10.0.0.5:8786") as ex:           # doctest: +SKIP
...     for point, scenario in grid:                                       # one pool, many batches
...         run_paths(scenario, paths=500, seed=7, out_dir=f"runs/{point}", executor=ex)

:func:`open_executor` opens a pool once; :func:`~defisim.montecarlo.runner.run_paths` runs any
number of batches on it (``executor=``). Which pool (the CLI's ``--workers`` / ``--scheduler``
mean the same):

=====================  ==========================================================  ============
arguments              pool                                                        ``kind``
=====================  ==========================================================  ============
(none)                 ``os.cpu_count()`` local processes                           processes
``workers=1``          this process                                                in-process
``workers=N``          ``N`` local processes (:class:`ProcessPoolExecutor`)         processes
``scheduler="local"``  a :class:`distributed.LocalCluster` of ``workers`` (default  dask-local
                       ``os.cpu_count()``) single-threaded worker processes,
                       started and closed with the context
``scheduler="tcp://    a :class:`distributed.Client` to a running cluster; the      dask
HOST:PORT"``           cluster decides the worker count
=====================  ==========================================================  ============

Every kind computes the same rows: a path is a pure function of (scenario, blocks, metrics,
``path``, ``path_seed``), so the dataset is identical whatever the kind and the worker count
(only the ``run_seconds`` wall time differs).

**What is shipped.** A batch ships the scenario once, as its JSON data (about 5 KB for the
bundled scenario) in a :class:`PathJob` together with the block count, the column layout and
the parent's defisim version; a worker validates it again on its first path of the batch,
checks the digest and version, and keeps the validated scenario (a small per-process cache
keyed by digest). On Dask the job is ``client.scatter``-ed to every worker once per batch and
tasks refer to it, so a task carries only ``(path, path_seed)`` (tens of bytes) and returns one
row (about 0.6 KB pickled). A local process pool cannot address its workers one by one, so
each task carries the job pre-pickled (a bytes copy, about 4 KB through a pipe); the worker
unpickles it only the first time it sees its key.

**Dask specifics.** The workers must import the same defisim version (checked; a mismatch is
that path's error) and any plug-in kinds the scenario uses must be registered on import in the
workers too: kinds registered at run time with ``defisim.register`` exist only in local forked
processes. Use single-threaded workers (``dask worker --nthreads 1``, which ``"local"`` does):
a path is pure Python and holds the GIL, so threads add no speed. A worker that dies mid-path
is replaced and the task runs again elsewhere (same row); if the task kills
``distributed.scheduler.allowed-failures`` workers in turn, or the client loses the scheduler,
the batch stops with :class:`~defisim.montecarlo.runner.WorkerCrashedError` (written paths
stay; ``resume=True`` finishes). While the context is open, ``distributed``'s log messages
below ERROR are silenced and no dashboard is started.

**Processes specifics.** On Linux the pool forks (at its first task), so kinds registered
before the first batch exist in the workers; ``start_method`` chooses another method. Workers
ignore Ctrl-C (the parent stops them), close the results-folder lock they inherited, and exit
if their parent dies.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Collection, Hashable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Self

from defisim.errors import DefisimError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

    from defisim.montecarlo.dataset import Layout
    from defisim.scenario.models import ScenarioBase

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "ExecutorKind",
    "ExecutorOptionError",
    "PathExecutor",
    "PathJob",
    "SchedulerUnreachable",
    "open_executor",
    "parse_scheduler",
]

ExecutorKind = Literal["in-process", "processes", "dask-local", "dask"]

DEFAULT_CONNECT_TIMEOUT_S = 10.0
"""Seconds :func:`open_executor` waits for a ``tcp://`` scheduler to answer."""

_PARENT_POLL_S = 0.2
_SCHEDULER_RE = re.compile(r"^tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")
_JOB_CACHE = 8  # validated scenarios a worker process keeps (a sweep runs one batch at a time)


class ExecutorOptionError(DefisimError, ValueError):
    """An executor option is malformed or conflicts with another (``option``, ``value``)."""

    def __init__(self, option: str, value: Any, message: str) -> None:
        self.option, self.value = option, value
        super().__init__(message)


class SchedulerUnreachable(DefisimError, ConnectionError):
    """No Dask scheduler answered at ``address`` within ``timeout`` seconds."""

    def __init__(self, address: str, timeout: float, reason: str) -> None:
        self.address, self.timeout, self.reason = address, timeout, reason
        super().__init__(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({reason}); check the "
            "address and that `dask scheduler` is running and reachable from here"
        )


class WorkersLost(DefisimError, RuntimeError):
    """Internal: the pool or cluster lost the worker(s) running a task. The runner turns it
    into :class:`~defisim.montecarlo.runner.WorkerCrashedError` with the paths written."""


def parse_scheduler(scheduler: str) -> str:
    """Check a scheduler address: ``"local"`` or ``"tcp://HOST:PORT"`` (HOST a name, an IPv4
    address or a bracketed IPv6 address; PORT 1..65535). Returns it stripped, else raises
    :class:`ExecutorOptionError`."""
    text = scheduler.strip() if isinstance(scheduler, str) else scheduler
    if text == "local":
        return text
    m = _SCHEDULER_RE.match(text) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group("port")) <= 65535:
        raise ExecutorOptionError(
            "scheduler", scheduler,
            f"scheduler address {scheduler!r} is not valid: expected tcp://HOST:PORT "
            "(e.g. tcp://10.0.0.5:8786) or 'local' for a Dask cluster on this machine",
        )
    return text


# --- the job a batch ships ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PathJob:
    """What every path of one batch shares; shipped to each worker once per batch.

    ``scenario_data``: the scenario's ``model_dump(mode="json")`` (the model class is built at
    run time and does not pickle); ``digest`` its digest; ``blocks`` blocks per path;
    ``layout`` the row columns; ``version`` the parent's defisim version. ``key`` identifies
    the job across processes (a hash of all of it).
    """

    scenario_data: dict[str, Any]
    digest: str
    blocks: int
    layout: Layout
    version: str
    key: str = field(default="")

    @classmethod
    def build(cls, scenario: ScenarioBase, *, blocks: int, layout: Layout) -> PathJob:
        from defisim.simulate import package_version

        digest, version = scenario.digest(), package_version()
        ident = repr((digest, blocks, layout.protocols, layout.tokens, layout.metrics, version))
        key = hashlib.sha256(ident.encode()).hexdigest()[:16]
        return cls(scenario.model_dump(mode="json"), digest, blocks, layout, version, key)


def run_one(scenario: ScenarioBase, layout: Layout, blocks: int, path: int | None,
            seed: int) -> dict[str, Any]:
    """Simulate one path and return its row (``run_seconds``: its wall time in seconds)."""
    from defisim.simulate import simulate

    started = time.perf_counter()
    result = simulate(scenario, seed=seed, blocks=blocks)
    row = layout.row(result, path, seed, 0.0)
    row["run_seconds"] = round(time.perf_counter() - started, 6)
    return row


# --- executors ----------------------------------------------------------------------------

class PathExecutor(ABC):
    """A pool that runs the paths of any number of batches; open it with
    :func:`open_executor`. ``kind`` says which pool, ``workers`` how many paths it runs at
    once (for a ``tcp://`` cluster: its worker threads now)."""

    kind: ExecutorKind

    @property
    @abstractmethod
    def workers(self) -> int: ...

    @abstractmethod
    def batch(self, scenario: ScenarioBase, *, blocks: int, layout: Layout) -> Batch:
        """A :class:`Batch` of ``scenario``'s paths; use it as a context manager (leaving it on
        an exception cancels what is still running)."""

    def close(self) -> None:
        """Release the pool (called by :func:`open_executor`)."""


class Batch(ABC):
    """Tasks of one batch. ``submit`` a path, ``completed`` waits for finished handles,
    ``result`` gives a handle's row or raises the path's error (:class:`WorkersLost` if a
    worker or the cluster was lost). ``window``: tasks to keep in flight."""

    window: int = 1

    @abstractmethod
    def submit(self, path: int, seed: int) -> Hashable: ...

    @abstractmethod
    def completed(self, pending: Collection[Hashable]) -> list[Hashable]:
        """Block until at least one of ``pending`` is finished; return the finished ones."""

    @abstractmethod
    def result(self, handle: Hashable) -> dict[str, Any]: ...

    def close(self, *, abort: bool) -> None:
        """End the batch; ``abort``: cancel or stop whatever is still running."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(abort=exc_type is not None)


# in-process -------------------------------------------------------------------------------

class _Task:
    __slots__ = ("error", "path", "row", "seed")

    def __init__(self, path: int, seed: int) -> None:
        self.path, self.seed = path, seed
        self.row: dict[str, Any] | None = None
        self.error: BaseException | None = None


class _InProcess(PathExecutor):
    kind: ExecutorKind = "in-process"

    @property
    def workers(self) -> int:
        return 1

    def batch(self, scenario: ScenarioBase, *, blocks: int, layout: Layout) -> Batch:
        return _InProcessBatch(scenario, blocks, layout)


class _InProcessBatch(Batch):
    """Runs each submitted path when asked for a finished one (window 1: one at a time)."""

    def __init__(self, scenario: ScenarioBase, blocks: int, layout: Layout) -> None:
        self._scenario, self._blocks, self._layout = scenario, blocks, layout
        self._queue: deque[_Task] = deque()

    def submit(self, path: int, seed: int) -> Hashable:
        task = _Task(path, seed)
        self._queue.append(task)
        return task

    def completed(self, pending: Collection[Hashable]) -> list[Hashable]:
        task = self._queue.popleft()
        try:
            task.row = run_one(self._scenario, self._layout, self._blocks, task.path, task.seed)
        except Exception as exc:  # noqa: BLE001 - the path's own error, re-raised by result()
            task.error = exc
        return [task]

    def result(self, handle: Hashable) -> dict[str, Any]:
        assert isinstance(handle, _Task)
        if handle.error is not None:
            raise handle.error
        assert handle.row is not None
        return handle.row


# local processes --------------------------------------------------------------------------

_PRIVATE_FDS: set[int] = set()
"""File descriptors (results-folder locks) a forked worker must close: a fork copies this set
together with the descriptors, so a worker closes exactly what it inherited."""


def guard_fd(fd: int) -> None:
    """Mark ``fd`` as the parent's own: pool workers forked while it is open close it."""
    _PRIVATE_FDS.add(fd)


def release_fd(fd: int) -> None:
    """Close ``fd`` and forget it (see :func:`guard_fd`)."""
    _PRIVATE_FDS.discard(fd)
    os.close(fd)


class _Processes(PathExecutor):
    kind: ExecutorKind = "processes"

    def __init__(self, workers: int, start_method: str | None) -> None:
        self._workers = workers
        self._method = start_method or _default_start_method()
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:  # a pool stopped by an aborted batch is replaced
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=multiprocessing.get_context(self._method),
                initializer=_init_pool_worker,
            )
        return self._pool

    def stop(self) -> None:
        """Stop the pool now: cancel queued paths, terminate workers mid-path."""
        pool, self._pool = self._pool, None
        if pool is not None:
            _terminate(pool)

    def batch(self, scenario: ScenarioBase, *, blocks: int, layout: Layout) -> Batch:
        return _PoolBatch(self, PathJob.build(scenario, blocks=blocks, layout=layout))

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _PoolBatch(Batch):
    def __init__(self, owner: _Processes, job: PathJob) -> None:
        self._owner, self._key = owner, job.key
        self._blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self.window = 2 * owner.workers

    def submit(self, path: int, seed: int) -> Hashable:
        try:
            return self._owner.pool().submit(_pool_task, self._key, self._blob, path, seed)
        except BrokenProcessPool as exc:
            raise WorkersLost("the process pool is broken") from exc

    def completed(self, pending: Collection[Hashable]) -> list[Hashable]:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)  # type: ignore[arg-type]
        return list(done)

    def result(self, handle: Hashable) -> dict[str, Any]:
        assert isinstance(handle, Future)
        try:
            return handle.result()
        except BrokenProcessPool as exc:
            raise WorkersLost("a worker process died") from exc

    def close(self, *, abort: bool) -> None:
        if abort:
            self._owner.stop()


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


def _init_pool_worker() -> None:
    """Pool worker start-up: ignore Ctrl-C (the parent stops the pool), close the folder
    locks inherited through fork, and exit if the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in list(_PRIVATE_FDS):
        try:
            os.close(fd)
        except OSError:
            pass
    _PRIVATE_FDS.clear()
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), name="defisim-parent-watch",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(_PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(1)


# Dask -------------------------------------------------------------------------------------

class _Dask(PathExecutor):
    def __init__(self, client: Client, kind: ExecutorKind, cluster: LocalCluster | None) -> None:
        self.kind = kind
        self.client, self.cluster = client, cluster

    @property
    def workers(self) -> int:
        info = self.client.scheduler_info(n_workers=-1)
        return sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())

    def batch(self, scenario: ScenarioBase, *, blocks: int, layout: Layout) -> Batch:
        return _DaskBatch(self, PathJob.build(scenario, blocks=blocks, layout=layout))

    def close(self) -> None:
        # closing after the scheduler was lost logs the cancelled reconnection at ERROR;
        # the batch has already raised the error that matters
        with _log_level(logging.CRITICAL + 1):
            try:
                self.client.close(timeout=10)
            finally:
                if self.cluster is not None:
                    self.cluster.close(timeout=10)


class _DaskBatch(Batch):
    """Tasks ``_dask_task(job, path, seed)`` referring to the job scattered once to every
    worker; results stream back through ``as_completed(with_results=True)``, so a finished
    row needs no second round trip."""

    def __init__(self, owner: _Dask, job: PathJob) -> None:
        from distributed import as_completed

        self._client = owner.client
        self._token = uuid.uuid4().hex[:8]
        self.window = max(2, 2 * owner.workers)
        try:
            self._job = self._client.scatter(job, broadcast=True, hash=False)
        except (OSError, TimeoutError) as exc:
            raise WorkersLost(f"the Dask cluster did not take the batch: {exc}") from exc
        self._done = as_completed(loop=self._client.loop, with_results=True, raise_errors=False)
        self._results: dict[Any, Any] = {}
        self._live: set[Any] = set()

    def submit(self, path: int, seed: int) -> Hashable:
        try:
            fut = self._client.submit(_dask_task, self._job, path, seed, pure=False,
                                      key=f"defisim-path-{path}-{self._token}")
        except (OSError, TimeoutError) as exc:
            raise WorkersLost(f"lost the Dask scheduler: {exc}") from exc
        self._live.add(fut)
        self._done.add(fut)
        return fut

    def completed(self, pending: Collection[Hashable]) -> list[Hashable]:
        out = []
        for fut, result in self._done.next_batch(block=True):
            self._results[fut] = result
            out.append(fut)
        return out

    def result(self, handle: Hashable) -> dict[str, Any]:
        from distributed import KilledWorker

        self._live.discard(handle)
        result = self._results.pop(handle)
        status = handle.status  # type: ignore[attr-defined]
        if status == "finished":
            return result
        if status == "error":
            _, exc, tb = result
            if isinstance(exc, KilledWorker):
                raise WorkersLost(f"Dask workers died running this path: {exc}") from exc
            raise exc.with_traceback(tb)
        raise WorkersLost(f"the Dask cluster dropped the task ({status}): {result}")

    def close(self, *, abort: bool) -> None:
        live, self._live = list(self._live), set()
        try:
            self._done.clear()
            if live and self._client.status == "running":
                self._client.cancel(live, force=True)
            if self._client.status == "running":
                self._job.release()
        except (OSError, TimeoutError):  # the cluster is gone; nothing left to cancel
            pass


_JOBS: dict[str, ScenarioBase] = {}
_JOBS_LOCK = threading.Lock()


def _scenario_for(job: PathJob) -> ScenarioBase:
    """The job's scenario, validated once per worker process (cached by job key)."""
    with _JOBS_LOCK:
        scenario = _JOBS.get(job.key)
    if scenario is not None:
        return scenario
    from defisim.scenario.loader import scenario_from_dict
    from defisim.simulate import package_version

    here = package_version()
    if here != job.version:
        raise DefisimError(f"this worker runs defisim {here}, the batch was started with "
                           f"{job.version}; install the same version on every worker")
    scenario = scenario_from_dict(job.scenario_data, source="monte carlo worker")
    if scenario.digest() != job.digest:
        raise DefisimError(
            f"the scenario rebuilt in a worker has digest {scenario.digest()}, the parent's "
            f"is {job.digest}; it does not survive a JSON round trip"
        )
    with _JOBS_LOCK:
        if len(_JOBS) >= _JOB_CACHE:
            _JOBS.clear()
        _JOBS[job.key] = scenario
    return scenario


_BLOBS: dict[str, PathJob] = {}


def _pool_task(key: str, blob: bytes, path: int, seed: int) -> dict[str, Any]:
    job = _BLOBS.get(key)
    if job is None:
        job = pickle.loads(blob)
        if len(_BLOBS) >= _JOB_CACHE:
            _BLOBS.clear()
        _BLOBS[key] = job
    return run_one(_scenario_for(job), job.layout, job.blocks, path, seed)


def _dask_task(job: PathJob, path: int, seed: int) -> dict[str, Any]:
    return run_one(_scenario_for(job), job.layout, job.blocks, path, seed)


def dask_setup(worker: object) -> None:
    """Dask worker preload hook (``--preload defisim.montecarlo.executors``; the ``"local"``
    cluster uses it): the worker ignores Ctrl-C, which a terminal sends to the whole process
    group; the client cancels its tasks and the cluster stops its workers."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- opening ------------------------------------------------------------------------------

def _check_workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExecutorOptionError("workers", workers,
                                  f"workers must be an integer >= 1 or None, got {workers!r}")
    return workers


@contextmanager
def open_executor(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    start_method: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> Iterator[PathExecutor]:
    """Open a pool for :func:`~defisim.montecarlo.runner.run_paths` (``executor=``); closed,
    with every process it started, when the context exits.

    ``scheduler=None``: local processes (``workers``: how many, default ``os.cpu_count()``;
    1 runs in this process; ``start_method``: multiprocessing start method).
    ``scheduler="local"``: a Dask ``LocalCluster`` of ``workers`` (default
    ``os.cpu_count()``) single-threaded processes. ``scheduler="tcp://HOST:PORT"``: a running
    Dask cluster (``workers`` must be omitted), reached within ``connect_timeout`` seconds or
    :class:`SchedulerUnreachable`. Bad or conflicting options raise
    :class:`ExecutorOptionError`.
    """
    n = _check_workers(workers)
    if scheduler is None:
        if start_method is not None and start_method not in multiprocessing.get_all_start_methods():
            raise ExecutorOptionError(
                "start_method", start_method,
                f"start_method {start_method!r} is not one of "
                f"{', '.join(multiprocessing.get_all_start_methods())}")
        n = n or os.cpu_count() or 1
        executor: PathExecutor = _InProcess() if n == 1 else _Processes(n, start_method)
        try:
            yield executor
        finally:
            executor.close()
        return
    address = parse_scheduler(scheduler)
    if start_method is not None:
        raise ExecutorOptionError("start_method", start_method,
                                  "start_method applies to local processes, not to a Dask scheduler")
    if address != "local" and n is not None:
        raise ExecutorOptionError(
            "workers", workers,
            f"the cluster at {address} decides how many workers run; do not pass workers with it")
    with _quiet_dask():
        executor = _open_dask(address, n, connect_timeout)
        try:
            yield executor
        finally:
            executor.close()


def _open_dask(address: str, workers: int | None, connect_timeout: float) -> _Dask:
    from distributed import Client, LocalCluster

    if address == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=None, silence_logs=logging.CRITICAL,
            preload=[__name__],  # dask_setup below: workers ignore Ctrl-C
        )
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        return _Dask(client, "dask-local", cluster)
    problem = _probe_scheduler(address, connect_timeout)
    if problem is not None:
        raise SchedulerUnreachable(address, connect_timeout, problem)
    try:
        client = Client(address, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(address, connect_timeout, f"{type(exc).__name__}: {exc}") from None
    return _Dask(client, "dask", None)


def _probe_scheduler(address: str, timeout: float) -> str | None:
    """Ask ``address`` for its identity within ``timeout`` seconds; ``None`` if a Dask
    scheduler answered, else why not. ``distributed.Client`` alone can wait forever on a
    server that accepts the connection but never answers (a wrong port, a proxy), so the
    probe runs on its own event loop in a daemon thread and is abandoned at the deadline."""
    outcome: list[str | None] = []

    async def probe() -> str | None:
        from distributed.comm import connect

        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            reply = await comm.read()
        finally:
            comm.abort()
        if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
            return f"the server there is not a Dask scheduler (it answered {str(reply)[:80]!r})"
        return None

    def run() -> None:
        import asyncio

        try:
            outcome.append(asyncio.run(asyncio.wait_for(probe(), timeout)))
        except (OSError, TimeoutError) as exc:
            outcome.append(f"{type(exc).__name__}: {exc}" if str(exc) else "timed out")
        except Exception as exc:  # noqa: BLE001 - any failure to talk to it means "unreachable"
            outcome.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, name="defisim-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2.0)
    if not outcome:
        return "timed out"
    return outcome[0]


_DASK_LOGGERS = ("distributed", "distributed.client", "distributed.scheduler", "distributed.worker",
                 "distributed.nanny", "distributed.core", "distributed.comm", "tornado")


@contextmanager
def _log_level(level: int) -> Iterator[None]:
    loggers = [logging.getLogger(n) for n in _DASK_LOGGERS]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, old in zip(loggers, saved, strict=True):
            lg.setLevel(old)


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Silence ``distributed``'s INFO/WARNING log lines (and its warnings) in this process
    while a Dask executor is open; restore the levels afterwards."""
    import warnings

    with _log_level(logging.ERROR), warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"distributed(\..*)?$")
        yield
