"""Scenario script: time the vectorised screen on the full one-pool day and the exact engine on
a few paths of the same scenario.

    python scenarios/screening_benchmark.py                        # 10,000 paths, 1 and 2 workers
    python scenarios/screening_benchmark.py --paths 1000 --workers 2 --engine-paths 2

Prints, for the screen: paths, workers, total (wall) seconds, paths per second, CPU seconds
(this process and its workers: on a shared machine wall time depends on the load, which is
printed too, CPU time much less), peak resident memory
of this process and of its worker processes (``resource.getrusage``), and a summary of the
rows (share of paths with bad debt, quantiles); for the exact engine: seconds per path on
``--engine-paths`` paths (the first paths of the same seed, so they are rows of the screen too,
printed side by side) and the extrapolation to the screen's path count on 1 and 2 workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

import defisim
from defisim.montecarlo.runner import run_path
from defisim.montecarlo.screening import screen_model, screen_paths
from defisim.montecarlo.seeding import path_seed

HERE = Path(__file__).resolve().parent
METRICS = ("bad_debt_usd", "liquidation_volume_usd", "liquidations", "insurance_fund_drawn_usd")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_mb() -> tuple[float, float]:
    """Peak resident set size (MB) of this process and of its finished children (Linux: KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", nargs="?", default=str(HERE / "one_pool_day.yaml"))
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--blocks", type=int, default=None)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts for the screen")
    parser.add_argument("--chunk-paths", type=int, default=None)
    parser.add_argument("--engine-paths", type=int, default=3)
    args = parser.parse_args()

    scenario = defisim.load_scenario(args.scenario)
    model = screen_model(scenario)
    blocks = args.blocks or scenario.chain.blocks
    print(f"scenario {scenario.name}: {model.accounts} accounts, {blocks} blocks, {args.paths} paths")
    frames = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        started, cpu0, load0 = time.perf_counter(), cpu_seconds(), os.getloadavg()[0]
        df = screen_paths(scenario, paths=args.paths, seed=args.seed, blocks=args.blocks,
                          workers=workers, chunk_paths=args.chunk_paths)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu0
        own, children = peak_mb()
        frames[workers] = df
        print(f"screen  workers={workers}: {seconds:8.1f} s total, {args.paths / seconds:7.2f} paths/s, "
              f"{cpu:8.1f} CPU s ({args.paths / cpu:.2f} paths per CPU-second), "
              f"peak RSS {own:.0f} MB (this process), {children:.0f} MB (largest worker); "
              f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    first = next(iter(frames.values()))
    for workers, df in frames.items():
        if not df.equals(first):
            raise SystemExit(f"screen rows with {workers} workers differ")
    p = model.protocol
    bad = first[f"{p}.bad_debt_usd"]
    print(f"paths with bad debt: {(bad > 0).mean():.1%}; bad debt quantiles (USD) "
          + ", ".join(f"q{q:g}={np.quantile(bad, q / 100):,.0f}" for q in (50, 90, 99, 99.9))
          + f"; max {bad.max():,.0f}")
    print(f"paths with liquidations: {(first[f'{p}.liquidations'] > 0).mean():.1%}; "
          f"median liquidations {first[f'{p}.liquidations'].median():.0f}")

    if args.engine_paths:
        times, cpus = [], []
        for i in range(args.engine_paths):
            started, cpu0 = time.perf_counter(), time.process_time()
            row = run_path(scenario, path_seed(args.seed, i), path=i, blocks=args.blocks, metrics=METRICS)
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu0)
            screen = first.iloc[i]
            print(f"engine path {i}: {times[-1]:7.1f} s ({cpus[-1]:.1f} CPU s) | " + "; ".join(
                f"{m} engine {row[f'{p}.{m}']:,.2f} screen {screen[f'{p}.{m}']:,.2f}" for m in METRICS))
        per_path = float(np.mean(cpus))
        print(f"engine: {per_path:.1f} CPU s per path; {args.paths} paths would take "
              f"{per_path * args.paths / 3600:.1f} h on 1 worker, {per_path * args.paths / 7200:.1f} h on 2")


if __name__ == "__main__":
    main()
