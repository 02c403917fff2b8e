"""Executors: one pool for several batches; identical datasets in this process, local
processes, a local Dask cluster and a Dask cluster reached by ``tcp://`` address; resume on
Dask; a lost cluster; a killed Dask worker; refused and unreachable scheduler addresses.

One ``LocalCluster`` (2 single-threaded worker processes) is shared by the module; the
scenario is the cut-down default of ``test_runner`` (0.2 s a path), 8 paths.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest

import defisim
from defisim.montecarlo.dataset import TIMING_COLUMNS, existing_paths, missing_paths
from defisim.montecarlo.executors import (
    ExecutorOptionError,
    PathExecutor,
    PathJob,
    SchedulerUnreachable,
    open_executor,
    parse_scheduler,
)
from defisim.montecarlo.runner import WorkerCrashedError, read_dataset, run_paths
from defisim.montecarlo.seeding import path_seed
from tests.tiny_scenarios import tiny_default

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[3]
PATHS = 8
SEED = 77


def tiny_scenario(bonus: float | None = None) -> defisim.scenario.models.ScenarioBase:
    extra = {} if bonus is None else {"protocols.aave.reserves.WETH.liquidation_bonus": bonus}
    return tiny_default("mc-exec", blocks=100, aave=40, spark=30, insurance_fund=None, **extra)


@pytest.fixture(scope="module")
def scenario() -> defisim.scenario.models.ScenarioBase:
    return tiny_scenario()


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("ref") / "in-process"
    run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=1)
    return exact(read_dataset(out))


@pytest.fixture(scope="module")
def dask_local() -> Iterator[PathExecutor]:
    """One ``scheduler="local"`` executor (2 worker processes) for the module; the tcp://
    tests connect a second client to its scheduler by address."""
    before = children()
    with open_executor(scheduler="local", workers=2) as ex:
        assert (ex.kind, ex.workers) == ("dask-local", 2)
        assert len(new_children(before)) == 2
        yield ex
    assert not new_children(before), "the local cluster left processes behind"


@pytest.fixture(scope="module")
def cluster(dask_local) -> tuple[str, distributed.Client]:
    """The module cluster's tcp:// address and a client of its own."""
    return dask_local.cluster.scheduler_address, dask_local.client


def exact(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=list(TIMING_COLUMNS))


def assert_same(out: Path, expected: pd.DataFrame) -> None:
    got = read_dataset(out)
    pd.testing.assert_frame_equal(exact(got), expected, check_exact=True)
    assert list(got["path"]) == list(range(len(expected)))
    assert missing_paths(out) == []


def new_children(before: set[int]) -> list[psutil.Process]:
    """Child processes started since ``before``, except multiprocessing's resource tracker
    (one per interpreter, it lives until the interpreter exits)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# --- identical rows everywhere ------------------------------------------------------------

@pytest.mark.parametrize(("options", "kind", "workers"), [
    ({"workers": 1}, "in-process", 1),
    ({"workers": 2}, "processes", 2),
    ({"scheduler": "local", "workers": 1}, "dask-local", 1),
])
def test_every_executor_writes_the_same_dataset(scenario, reference, tmp_path, options, kind,
                                                workers):
    before = children()
    with open_executor(**options) as ex:
        assert (ex.kind, ex.workers) == (kind, workers)
        batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=tmp_path / "run", executor=ex)
    assert (batch.executor, batch.workers, batch.ran) == (kind, workers, PATHS)
    assert_same(tmp_path / "run", reference)
    assert not new_children(before), "the executor left processes behind"


def test_a_tcp_cluster_gives_the_same_dataset(cluster, scenario, reference, tmp_path):
    address, _ = cluster
    with open_executor(scheduler=address) as ex:
        assert (ex.kind, ex.workers) == ("dask", 2)
        batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=tmp_path / "run", executor=ex)
    assert (batch.executor, batch.workers) == ("dask", 2)
    assert_same(tmp_path / "run", reference)


def test_one_local_cluster_runs_several_batches(dask_local, scenario, reference, tmp_path):
    """The sweep use: one pool, several scenarios in turn; each batch equals its own
    in-process run."""
    other = tiny_scenario(bonus=0.09)
    assert other.digest() != scenario.digest()
    run_paths(other, paths=4, seed=SEED, out_dir=tmp_path / "other-ref", workers=1)
    for name, spec, paths, seed in (("a", scenario, PATHS, SEED), ("b", other, 4, SEED),
                                    ("c", scenario, PATHS, SEED + 1)):
        batch = run_paths(spec, paths=paths, seed=seed, out_dir=tmp_path / name, executor=dask_local)
        assert (batch.executor, batch.workers, batch.ran) == ("dask-local", 2, paths)
    assert_same(tmp_path / "a", reference)
    assert_same(tmp_path / "b", exact(read_dataset(tmp_path / "other-ref")))
    assert not exact(read_dataset(tmp_path / "c")).equals(reference)  # another seed


def test_a_process_pool_serves_several_batches(scenario, reference, tmp_path):
    with open_executor(workers=2) as ex:
        for name in ("a", "b"):
            run_paths(scenario, paths=PATHS, seed=SEED, out_dir=tmp_path / name, executor=ex)
    for name in ("a", "b"):
        assert_same(tmp_path / name, reference)


# --- interruption, resume, lost workers ---------------------------------------------------

class Stop(KeyboardInterrupt):
    """Ctrl-C, raised from the progress callback."""


def test_resume_on_dask_after_ctrl_c(cluster, scenario, reference, tmp_path):
    address, client = cluster
    out = tmp_path / "run"

    def interrupt(done: int, total: int) -> None:
        if done >= 3:
            raise Stop

    with open_executor(scheduler=address) as ex:
        with pytest.raises(Stop):
            run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, executor=ex, progress=interrupt)
        have = existing_paths(out)
        assert 3 <= len(have) < PATHS
        # the batch's tasks were cancelled: nothing of it stays on the cluster
        deadline = time.monotonic() + 5
        while _tasks_on(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _tasks_on(client)
        # the same executor resumes the batch
        batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, executor=ex, resume=True)
    assert (batch.skipped, batch.ran) == (len(have), PATHS - len(have))
    assert_same(out, reference)


def _tasks_on(client: distributed.Client) -> list[str]:
    keys = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
    return [k for k in keys if "defisim" in k or "PathJob" in k]


def test_a_path_error_on_dask_is_the_paths_own(cluster, scenario, tmp_path, monkeypatch):
    """A job whose scenario the worker cannot rebuild (here: a wrong digest) fails each path
    with that path's error, raised in the parent with the path named; no crash, no part."""
    real = PathJob.build.__func__

    def wrong_digest(cls, scenario, *, blocks, layout):
        job = real(cls, scenario, blocks=blocks, layout=layout)
        return dataclasses.replace(job, digest="0" * 64, key="wrong-digest")

    monkeypatch.setattr(PathJob, "build", classmethod(wrong_digest))
    with open_executor(scheduler=cluster[0]) as ex, \
            pytest.raises(defisim.DefisimError, match="JSON round trip") as err:
        run_paths(scenario, paths=3, seed=SEED, out_dir=tmp_path / "x", executor=ex)
    assert not isinstance(err.value, WorkerCrashedError)
    # every path fails; which one the parent hears first depends on the workers' timing
    note = re.search(r"while running path (\d+) \(path_seed (\d+)\)", "".join(err.value.__notes__))
    assert note is not None and int(note.group(1)) in range(3)
    assert int(note.group(2)) == path_seed(SEED, int(note.group(1)))
    assert existing_paths(tmp_path / "x") == set()


CLUSTER_SCRIPT = textwrap.dedent("""
    import sys, time
    from distributed import LocalCluster

    if __name__ == "__main__":
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                               host="127.0.0.1", dashboard_address=None, silence_logs=50)
        print(cluster.scheduler_address, flush=True)
        time.sleep(300)
""")


@pytest.mark.slow
def test_a_lost_cluster_stops_the_batch_and_resume_finishes(cluster, scenario, reference, tmp_path):
    script = tmp_path / "cluster.py"
    script.write_text(CLUSTER_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    out = tmp_path / "run"
    try:
        address = proc.stdout.readline().strip()
        assert address.startswith("tcp://"), address

        def kill_cluster(done: int, total: int) -> None:
            if done == 2:
                os.killpg(proc.pid, signal.SIGKILL)

        started = time.monotonic()
        with open_executor(scheduler=address, connect_timeout=3) as ex, \
                pytest.raises(WorkerCrashedError, match="resume=True") as err:
            run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, executor=ex,
                      progress=kill_cluster)
        assert time.monotonic() - started < 30
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
    assert isinstance(err.value, defisim.DefisimError)
    have = existing_paths(out)
    assert 2 <= len(have) < PATHS
    with open_executor(scheduler=cluster[0]) as ex:
        run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, executor=ex, resume=True)
    assert_same(out, reference)


@pytest.mark.slow
def test_a_killed_dask_worker_is_replaced_and_rows_are_unchanged(cluster, scenario, reference,
                                                                 tmp_path):
    """Runs last in the module: the cluster's nanny restarts the killed worker."""
    address, client = cluster
    killed: list[int] = []

    def kill_a_worker(done: int, total: int) -> None:
        if done == 1 and not killed:
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with open_executor(scheduler=address) as ex:
        batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=tmp_path / "run", executor=ex,
                          progress=kill_a_worker)
    assert killed and batch.ran == PATHS
    assert_same(tmp_path / "run", reference)
    client.wait_for_workers(2, timeout=30)


# --- options and addresses ----------------------------------------------------------------

@pytest.mark.parametrize("server", ["closed port", "silent server"])
def test_unreachable_scheduler_is_a_clear_error_within_the_timeout(server):
    """Nobody listens; or something accepts the connection and never answers (a wrong port),
    on which ``distributed.Client`` alone would wait forever."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        if server == "silent server":
            s.listen(8)
        else:
            s.close()
        address = f"tcp://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(SchedulerUnreachable) as err, \
                open_executor(scheduler=address, connect_timeout=1.5):
            pass
        assert time.monotonic() - started < 1.5 + 3
    assert address in str(err.value) and err.value.address == address
    assert isinstance(err.value, defisim.DefisimError) and isinstance(err.value, ConnectionError)
    assert err.value.__cause__ is None  # no chained traceback to show


@pytest.mark.parametrize("address", [
    "127.0.0.1:8786", "tcp://127.0.0.1", "tcp://:8786", "tcp://host:0", "tcp://host:70000",
    "http://host:8786", "tls://host:8786", "tcp://host:8786/x", "", "Local",
])
def test_malformed_scheduler_addresses_are_refused(address):
    with pytest.raises(ExecutorOptionError, match="tcp://HOST:PORT") as err:
        parse_scheduler(address)
    assert err.value.option == "scheduler" and isinstance(err.value, ValueError)
    with pytest.raises(ExecutorOptionError), open_executor(scheduler=address):
        pass


def test_well_formed_scheduler_addresses():
    for address in ("local", "tcp://127.0.0.1:8786", "tcp://scheduler.internal:1",
                    "tcp://[::1]:8786", " tcp://10.0.0.5:65535 "):
        assert parse_scheduler(address) == address.strip()


@pytest.mark.parametrize(("options", "option"), [
    ({"workers": 0}, "workers"),
    ({"workers": True}, "workers"),
    ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2}, "workers"),
    ({"scheduler": "local", "start_method": "spawn"}, "start_method"),
    ({"start_method": "teleport"}, "start_method"),
])
def test_conflicting_options_are_refused(options, option):
    with pytest.raises(ExecutorOptionError) as err, open_executor(**options):
        pass
    assert err.value.option == option


def test_default_executor_is_local_processes_one_per_cpu():
    n = os.cpu_count() or 1
    with open_executor() as ex:
        assert (ex.kind, ex.workers) == (("processes", n) if n > 1 else ("in-process", 1))


def test_run_paths_takes_an_executor_or_workers_not_both(scenario, tmp_path):
    with open_executor(workers=1) as ex, pytest.raises(ValueError, match="not both"):
        run_paths(scenario, paths=1, seed=SEED, out_dir=tmp_path / "x", executor=ex, workers=2)
    assert not (tmp_path / "x").exists()
