"""Monte Carlo batch runner: seeding, determinism across worker counts, streaming, resume,
a real ``kill -9``, and refusal of foreign or non-empty folders.

The scenario is the bundled default cut down to a few dozen borrowers and 100 blocks, with a
gbm price model and a stress crash so every path differs and has liquidations, bad debt,
insurance-fund draws, socialised losses and AAVE burns.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import defisim
from defisim.errors import OutputError
from defisim.montecarlo.dataset import (
    TIMING_COLUMNS,
    MetricError,
    ResultsMismatchError,
    existing_paths,
    missing_paths,
    part_path,
    read_manifest,
)
from defisim.montecarlo.runner import (
    ResultsFolderBusy,
    WorkerCrashedError,
    read_dataset,
    run_path,
    run_paths,
)
from defisim.montecarlo.seeding import path_seed, path_seed_sequence, path_seeds
from tests.tiny_scenarios import tiny_default

ROOT = Path(__file__).resolve().parents[3]
PATHS = 10
SEED = 2024


def tiny_scenario() -> defisim.scenario.models.ScenarioBase:
    return tiny_default("mc-tiny", blocks=100, aave=40, spark=30)


@pytest.fixture(scope="module")
def scenario() -> defisim.scenario.models.ScenarioBase:
    return tiny_scenario()


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """An uninterrupted in-process run: the dataset every other run must equal."""
    out = tmp_path_factory.mktemp("mc") / "reference"
    batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=1)
    assert (batch.ran, batch.skipped, batch.workers) == (PATHS, 0, 1)
    return out, read_dataset(out)


def exact(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=list(TIMING_COLUMNS))


def assert_same_dataset(out: Path, expected: pd.DataFrame) -> None:
    got = read_dataset(out)
    pd.testing.assert_frame_equal(exact(got), exact(expected), check_exact=True)
    assert list(got["path"]) == list(range(PATHS))
    assert missing_paths(out) == []
    assert not [p for p in (out / "paths").iterdir() if p.name.startswith(".")]


# --- seeding ------------------------------------------------------------------------------

def test_path_seed_is_the_spawned_child_whatever_the_batch_size():
    for i in (0, 3, 17):
        mine = path_seed_sequence(SEED, i)
        for n in (i + 1, 50):
            child = np.random.SeedSequence(SEED).spawn(n)[i]
            assert mine.spawn_key == child.spawn_key and mine.entropy == child.entropy
            assert (mine.generate_state(4) == child.generate_state(4)).all()
    assert path_seeds(SEED, 5) == path_seeds(SEED, 40)[:5]
    seeds = path_seeds(SEED, 1000)
    assert len(set(seeds)) == 1000 and all(0 <= s < 2**63 for s in seeds)
    assert path_seeds(SEED + 1, 5) != path_seeds(SEED, 5)
    with pytest.raises(ValueError):
        path_seed(-1, 0)


# --- determinism --------------------------------------------------------------------------

def test_rows_are_flat_exact_and_paths_differ(reference, scenario):
    out, df = reference
    assert list(df["path"]) == list(range(PATHS))
    assert list(df["path_seed"]) == path_seeds(SEED, PATHS)
    assert df["path"].dtype == np.int64 and df["aave.liquidations"].dtype == np.int64
    assert df["aave.bad_debt_usd"].dtype == np.float64
    burned = df["aave.tokens_burned_base_units.AAVE"]
    assert all(type(v) is int for v in burned) and max(burned) > 2**63  # beyond int64, exact
    assert df["aave.bad_debt_usd"].nunique() > PATHS // 2  # stochastic paths differ
    for col in ("insurance_fund_drawn_usd", "socialized_usd", "liquidation_volume_usd"):
        assert (df[f"spark.{col}"] > 0).any()
    manifest = read_manifest(out)
    assert manifest["scenario_digest"] == scenario.digest()
    assert (manifest["scenario"], manifest["seed"], manifest["paths"]) == ("mc-tiny", SEED, PATHS)
    assert manifest["metrics"][0] == "bad_debt_usd" and manifest["blocks"] == 100
    assert manifest["version"]
    # the figures are the summary's own, for the recorded seed
    summary = defisim.simulate(scenario, seed=int(df["path_seed"][2])).summary["protocols"]
    assert df["aave.bad_debt_usd"][2] == summary["aave"]["bad_debt_usd"]
    assert df["spark.liquidation_volume_usd"][2] == summary["spark"]["debt_repaid_usd"]
    assert burned[2] == summary["aave"]["tokens_burned_base_units"].get("AAVE", 0)


def test_two_workers_give_the_same_dataset(reference, scenario, tmp_path):
    _, expected = reference
    batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=tmp_path / "w2", workers=2)
    assert batch.workers == 2 and batch.ran == PATHS
    assert_same_dataset(tmp_path / "w2", expected)


def test_a_path_rerun_alone_reproduces_its_row(reference, scenario):
    _, df = reference
    for i in (0, PATHS - 1):
        row = run_path(scenario, path_seed(SEED, i), path=i)
        stored = df.iloc[i].to_dict()
        for key in TIMING_COLUMNS:
            row.pop(key), stored.pop(key)
        assert row == stored


# --- interruption and resume --------------------------------------------------------------

class Stop(KeyboardInterrupt):
    """Ctrl-C, raised from the progress callback after a few paths."""


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_after_ctrl_c_and_lost_parts(reference, scenario, tmp_path, workers):
    _, expected = reference
    out = tmp_path / "run"
    calls: list[tuple[int, int]] = []

    def interrupt(done: int, total: int) -> None:
        calls.append((done, total))
        if done >= 4:
            raise Stop

    with pytest.raises(Stop):
        run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=workers, progress=interrupt)
    have = existing_paths(out)
    assert 4 <= len(have) < PATHS
    # what is there is complete and correct
    assert_rows_match(out, expected, have)
    # an interruption mid-write leaves a hidden temp file; a lost part is simply re-run
    lost = min(have)
    part_path(out, lost).unlink()
    stale = out / "paths" / f".part-{max(have) + 1:06d}.parquet.tmp-deadbeef"
    stale.write_bytes(b"PAR1 half a file")
    assert lost not in set(read_dataset(out)["path"])  # readable meanwhile, temp ignored

    calls.clear()
    batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=workers,
                      resume=True, progress=lambda d, n: calls.append((d, n)))
    assert (batch.skipped, batch.ran) == (len(have) - 1, PATHS - len(have) + 1)
    assert calls[0] == (len(have) - 1, PATHS) and calls[-1] == (PATHS, PATHS)
    assert not stale.exists()
    assert_same_dataset(out, expected)
    # resuming a complete batch runs nothing
    again = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=workers, resume=True)
    assert (again.ran, again.skipped) == (0, PATHS)
    assert_same_dataset(out, expected)


def test_resume_after_a_worker_is_killed(reference, scenario, tmp_path):
    _, expected = reference
    out = tmp_path / "crashed"

    def kill_a_worker(done: int, total: int) -> None:
        if done == 3:
            workers = multiprocessing.active_children()
            assert workers
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].join(timeout=10)

    with pytest.raises(WorkerCrashedError, match="resume=True") as err:
        run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=2, progress=kill_a_worker)
    assert isinstance(err.value, defisim.DefisimError)
    have = existing_paths(out)
    assert 3 <= len(have) < PATHS
    assert_rows_match(out, expected, have)
    assert not multiprocessing.active_children()  # the rest of the pool was stopped
    run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=2, resume=True)
    assert_same_dataset(out, expected)


def assert_rows_match(out: Path, expected: pd.DataFrame, paths: set[int]) -> None:
    got = exact(read_dataset(out))
    want = exact(expected[expected["path"].isin(paths)]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


RUNNER_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from defisim.scenario.loader import scenario_from_dict
    from defisim.montecarlo.runner import run_paths

    scenario_file, out, paths, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    scenario = scenario_from_dict(json.load(open(scenario_file)))
    # slow the parent down after each part so the test can kill it mid-batch
    run_paths(scenario, paths=paths, seed=seed, out_dir=out, workers=2,
              progress=lambda done, total: time.sleep(0.15))
""")


def test_resume_after_kill_minus_9(reference, scenario, tmp_path):
    _, expected = reference
    out = tmp_path / "killed"
    spec = tmp_path / "scenario.json"
    spec.write_text(json.dumps(scenario.model_dump(mode="json")))
    script = tmp_path / "runner.py"
    script.write_text(RUNNER_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(spec), str(out), str(PATHS), str(SEED)],
        cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while len(existing_paths(out)) < 3:
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "runner made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # the runner only: its workers must notice alone
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert _group_gone(proc.pid, timeout=5), "orphaned workers kept running"
    finally:
        if not _group_gone(proc.pid, timeout=0):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()
    have = existing_paths(out)
    assert 3 <= len(have) < PATHS
    assert_rows_match(out, expected, have)  # every visible part is whole
    batch = run_paths(scenario, paths=PATHS, seed=SEED, out_dir=out, workers=2, resume=True)
    assert batch.ran == PATHS - len(have)
    assert_same_dataset(out, expected)


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


# --- refusals -----------------------------------------------------------------------------

@pytest.fixture()
def finished(reference, tmp_path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(reference[0], out)
    return out


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("change", "field"), [
    ({"seed": SEED + 1}, "seed"),
    ({"scenario": "other"}, "scenario_digest"),
    ({"paths": PATHS + 5}, "paths"),
    ({"blocks": 90}, "blocks"),
    ({"metrics": ["bad_debt_usd"]}, "metrics"),
])
def test_resume_refuses_a_folder_from_another_batch(scenario, finished, change, field):
    before = _snapshot(finished)
    kwargs = {"paths": PATHS, "seed": SEED, "out_dir": finished, "workers": 1, "resume": True}
    target = scenario
    if change.pop("scenario", None):
        target = defisim.with_overrides(scenario, {"protocols.aave.reserves.WETH.liquidation_bonus": 0.06})
    kwargs.update(change)
    with pytest.raises(ResultsMismatchError, match="is from a different") as err:
        run_paths(target, **kwargs)
    assert err.value.field == field
    assert isinstance(err.value, ValueError) and isinstance(err.value, defisim.DefisimError)
    assert _snapshot(finished) == before


def test_non_empty_folder_is_refused_without_resume(scenario, finished, tmp_path):
    before = _snapshot(finished)
    with pytest.raises(OutputError, match="not empty"):
        run_paths(scenario, paths=PATHS, seed=SEED, out_dir=finished, workers=1)
    assert _snapshot(finished) == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        run_paths(scenario, paths=2, seed=SEED, out_dir=foreign, workers=1)
    with pytest.raises(OutputError, match="not a Monte Carlo results folder"):
        run_paths(scenario, paths=2, seed=SEED, out_dir=foreign, workers=1, resume=True)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_a_folder_in_use_is_refused(scenario, finished):
    fcntl = pytest.importorskip("fcntl")
    with open(finished / "manifest.json", "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ResultsFolderBusy):
            run_paths(scenario, paths=PATHS, seed=SEED, out_dir=finished, workers=1, resume=True)


def test_metrics_are_chosen_by_name(scenario, tmp_path):
    with pytest.raises(MetricError, match="did you mean bad_debt_usd"):
        run_paths(scenario, paths=1, seed=SEED, out_dir=tmp_path / "x", metrics=["bad_debt"])
    assert not (tmp_path / "x").exists()
    run_paths(scenario, paths=2, seed=SEED, out_dir=tmp_path / "y", workers=1,
              metrics=["liquidations", "accounts_liquidated"])
    df = read_dataset(tmp_path / "y")
    assert list(df.columns) == ["path", "path_seed", "aave.liquidations", "aave.accounts_liquidated",
                                "spark.liquidations", "spark.accounts_liquidated", "run_seconds"]
