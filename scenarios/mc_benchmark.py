"""Scenario script: time the Monte Carlo batch runner on 1 and 2 (or more) workers.

Runs ``N`` paths of a scenario once per executor into a temporary results folder and prints
wall time, paths per second and the speed-up over the first one; it also checks that every
executor produced the same rows (all columns but ``run_seconds``). Pool or cluster start-up
and the atomic per-path Parquet writes are included: this is what a user waits. Executors:
``N`` = N local processes (1: in-process), ``daskN`` = a local Dask cluster of N workers.

    python scenarios/mc_benchmark.py                                   # default.yaml, 16 paths, 300 blocks
    python scenarios/mc_benchmark.py --workers 1,2,dask1,dask2
    python scenarios/mc_benchmark.py scenarios/morpho_blue.yaml --paths 40 --workers 1,2,4
    python scenarios/mc_benchmark.py --paths 24 --blocks 150 \\
        --set 'protocols.aave.borrowers.0.count=200' --set 'protocols.spark.borrowers.0.count=100'

``--set PATH=VALUE`` applies ``defisim.with_overrides`` (VALUE parsed as YAML).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

import defisim
from defisim.montecarlo.runner import TIMING_COLUMNS, read_dataset, run_paths

HERE = Path(__file__).resolve().parent


def bench(scenario: defisim.scenario.models.ScenarioBase, *, paths: int, seed: int,
          blocks: int | None, worker_counts: list[str]) -> list[dict[str, float]]:
    """One row per executor: seconds, paths/s, speed-up vs the first one."""
    from defisim.montecarlo.executors import open_executor

    rows: list[dict[str, float]] = []
    first: pd.DataFrame | None = None
    with tempfile.TemporaryDirectory(prefix="mc-bench-") as tmp:
        for workers in worker_counts:
            out = Path(tmp) / f"w{workers}"
            dask = workers.startswith("dask")
            n = int(workers.removeprefix("dask"))
            started = time.perf_counter()
            with open_executor(workers=n, scheduler="local" if dask else None) as ex:
                run_paths(scenario, paths=paths, seed=seed, out_dir=out, executor=ex, blocks=blocks)
            seconds = time.perf_counter() - started
            df = read_dataset(out)
            exact = df.drop(columns=list(TIMING_COLUMNS))
            if first is None:
                first = exact
            elif not exact.equals(first):
                raise SystemExit(f"rows with {workers} workers differ from {worker_counts[0]} worker(s)")
            rows.append({
                "workers": workers,
                "seconds": seconds,
                "paths_per_s": paths / seconds,
                "mean_path_s": float(df["run_seconds"].mean()),
                "speedup": rows[0]["seconds"] / seconds if rows else 1.0,
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(HERE / "default.yaml"))
    parser.add_argument("--paths", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=300, help="blocks per path (0: the scenario's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", default="1,2", help="comma-separated executors: N processes or daskN")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    args = parser.parse_args()

    scenario = defisim.load_scenario(args.scenario)
    if args.set:
        changes = {}
        for item in args.set:
            key, _, value = item.partition("=")
            changes[key] = yaml.safe_load(value)
        scenario = defisim.with_overrides(scenario, changes)
    counts = [w.strip() for w in args.workers.split(",")]
    blocks = args.blocks or None
    print(f"{scenario.name}: {args.paths} paths x {blocks or scenario.chain.blocks} blocks, "
          f"seed {args.seed}, {os.cpu_count()} CPUs")
    print(f"{'workers':>7} {'seconds':>9} {'paths/s':>9} {'s/path':>8} {'speed-up':>9}")
    for row in bench(scenario, paths=args.paths, seed=args.seed, blocks=blocks, worker_counts=counts):
        print(f"{row['workers']:>7} {row['seconds']:>9.2f} {row['paths_per_s']:>9.2f} "
              f"{row['mean_path_s']:>8.3f} {row['speedup']:>8.2f}x")
    print("rows identical across worker counts")


if __name__ == "__main__":
    main()
