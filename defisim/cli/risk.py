"""The risk-analysis commands: ``defisim mc``, ``defisim sweep``, ``defisim recommend``.

Parsing, printing and exit codes only; the work is in :mod:`defisim.montecarlo`. Exit codes:
0 done, 1 a result the user should act on (no setting meets the target; a worker died),
2 bad input (no traceback), 3 internal invariant broken, 130 Ctrl-C (finished paths stay;
the same command with ``--resume`` continues).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from defisim.cli.common import (
    EXIT_INTERNAL,
    console,
    err_console,
    fail,
    free_dir,
    load,
    progress_bar,
    scenario_problem,
)
from defisim.errors import DefisimError, InvariantViolation, ScenarioError

__all__ = ["mc", "recommend", "sweep"]

ScenarioArg = Annotated[Path | None, typer.Argument(help="Scenario file (YAML/TOML); default: the bundled scenario")]
PathsOpt = Annotated[int, typer.Option("--paths", "-n", help="Monte Carlo paths (per point for sweep/recommend)")]
SeedOpt = Annotated[int | None, typer.Option(help="Run seed; path i uses its SeedSequence child (default: the scenario's)")]
WorkersOpt = Annotated[int | None, typer.Option(help="Workers: with no --scheduler, a local Dask cluster of this many processes (1: this process). Default: local processes, one per CPU")]
SchedulerOpt = Annotated[str | None, typer.Option(help="Dask scheduler address tcp://HOST:PORT (or 'local') to run the paths on")]
BlocksOpt = Annotated[int | None, typer.Option(help="Blocks per path (default: chain.blocks)")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Finish the run whose results are in --out (same inputs)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")]
FastOpt = Annotated[bool, typer.Option("--fast", help="Use the vectorised screening estimate instead of the exact engine (see defisim.montecarlo.screening for its tolerance)")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-p", help="PATH=LO:HI:STEP or PATH=V1,V2,... (repeatable)")]


def _check_common(paths: int, workers: int | None, blocks: int | None, seed: int | None) -> None:
    if paths < 1:
        fail(f"--paths must be >= 1, got {paths}")
    if workers is not None and workers < 1:
        fail(f"--workers must be >= 1, got {workers}")
    if blocks is not None and blocks < 1:
        fail(f"--blocks must be >= 1, got {blocks}")
    if seed is not None and seed < 0:
        fail(f"--seed must be >= 0, got {seed}")


@contextmanager
def _executor(workers: int | None, scheduler: str | None, fast: bool) -> Iterator[Any]:
    """The pool paths run on (``None`` with ``--fast``: the screen is vectorised in-process).

    No flag: local processes. ``--workers N``: a local Dask cluster of N processes (N = 1:
    this process). ``--scheduler ADDR``: that Dask cluster.
    """
    if fast:
        if scheduler is not None:
            fail("--fast runs the vectorised screen in this process; it takes no --scheduler")
        yield None
        return
    from defisim.montecarlo.executors import open_executor

    if scheduler is None and workers is not None and workers > 1:
        scheduler = "local"
    with open_executor(workers=workers, scheduler=scheduler) as ex:
        yield ex


@contextmanager
def _failures(target: Path) -> Iterator[None]:
    """Turn the library's errors into messages and exit codes."""
    from defisim.montecarlo.runner import WorkerCrashedError

    try:
        yield
    except KeyboardInterrupt:
        err_console.print(f"[bold red]interrupted[/]: finished paths are saved in {target}; run the "
                          f"same command with --out {target} --resume to continue", highlight=False)
        raise typer.Exit(130) from None
    except ScenarioError as exc:
        scenario_problem(exc)
    except WorkerCrashedError as exc:
        fail(f"{exc} (use --resume)", 1)
    except InvariantViolation as exc:
        fail(f"internal invariant broken (please report): {exc}", EXIT_INTERNAL)
    except DefisimError as exc:
        fail(str(exc))


def mc(
    scenario: ScenarioArg = None,
    paths: PathsOpt = 1000,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    blocks: BlocksOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder (default: runs/<scenario name>-mc)")] = None,
    resume: ResumeOpt = False,
    fast: FastOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run many seeded paths of a scenario; write the path dataset, summary.json and tail plots.

    Exit 0 on success, 2 on bad input (including a folder from another batch), 130 on Ctrl-C
    (finished paths stay; run again with --resume to continue).
    """
    from defisim.montecarlo.report import summarize_dataset, write_mc_outputs
    from defisim.montecarlo.runner import read_dataset, run_paths

    _check_common(paths, workers, blocks, seed)
    spec = load(scenario)
    base = Path("runs") / f"{spec.name}-mc"
    target = out if out is not None else (base if resume else free_dir(base))
    run_seed = spec.seed if seed is None else seed
    with _failures(target):
        with _executor(workers, scheduler, fast) as ex, progress_bar(spec.name, "paths", quiet) as tick:
            if fast:
                df, ran, skipped, seconds, where = _screen(spec, paths, run_seed, blocks, target, resume,
                                                           workers)
            else:
                batch = run_paths(spec, paths=paths, seed=run_seed, out_dir=target, executor=ex,
                                  resume=resume, blocks=blocks, progress=tick)
                df = read_dataset(target)
                ran, skipped, seconds = batch.ran, batch.skipped, batch.seconds
                where = f"{batch.workers} worker(s), {ex.kind}"
        summary = summarize_dataset(df, rng_seed=run_seed)
        written = write_mc_outputs(df, summary, target)
    for table in _mc_tables(summary):
        console.print(table)
    console.print(f"results: [bold]{target}[/] ({len(df):,} paths: {ran:,} run, "
                  f"{skipped:,} already present; {len(written)} summary/plot files); "
                  f"{seconds:.2f}s on {where}", highlight=False)


def _screen(spec: Any, paths: int, seed: int, blocks: int | None, target: Path,
            resume: bool, workers: int | None) -> tuple[Any, int, int, float, str]:
    """``mc --fast``: the screening estimate (chunks of paths in ``workers`` processes, default
    one per CPU), saved as ``screen.parquet`` in ``target``."""
    import json
    import os
    import time

    import pandas as pd

    from defisim.errors import OutputError
    from defisim.montecarlo.dataset import (
        ResultsMismatchError,
        atomic_write,
        atomic_write_json,
    )
    from defisim.montecarlo.screening import screen_paths
    from defisim.simulate import package_version

    file, manifest = target / "screen.parquet", target / "screen.json"
    wanted = {"kind": "screen", "scenario_digest": spec.digest(), "seed": seed, "paths": paths,
              "blocks": blocks or spec.chain.blocks, "version": package_version()}
    if resume and file.exists() and manifest.exists():
        found = json.loads(manifest.read_text(encoding="utf-8"))
        for key, value in wanted.items():
            if found.get(key) != value:
                raise ResultsMismatchError(target, key, found.get(key), value, "screening run")
        return pd.read_parquet(file), 0, paths, 0.0, "the screening estimate (reused)"
    if target.exists() and any(target.iterdir()):
        raise OutputError(f"{target} exists and is not empty; choose an empty folder")
    started = time.perf_counter()
    n = workers or os.cpu_count() or 1
    df = screen_paths(spec, paths=paths, seed=seed, blocks=blocks, workers=n)
    target.mkdir(parents=True, exist_ok=True)
    atomic_write(file, lambda fh: df.to_parquet(fh, index=False))
    atomic_write_json(manifest, wanted)
    return df, paths, 0, time.perf_counter() - started, f"the vectorised screening estimate ({n} process(es))"


def _mc_tables(summary: dict) -> list:  # type: ignore[type-arg]
    """One compact table per protocol from a Monte Carlo summary (formatting only)."""
    from rich.table import Table

    tables = []
    for protocol, entry in summary["protocols"].items():
        metrics = entry["metrics"]
        table = Table(title=f"{protocol}: {summary['paths']:,} paths", show_header=True,
                      title_justify="left")
        table.add_column("statistic")
        table.add_column("value", justify="right")
        bad = metrics.get("bad_debt_usd")
        if bad is not None:
            table.add_row("bad debt mean", _usd(bad["mean"]))
            for lv in bad["levels"]:
                table.add_row(f"bad debt VaR / ES {lv['level'] * 100:g}%",
                              f"{_usd(lv['var'])} / {_usd(lv['es'])}")
            lo, hi = entry["p_insolvency_ci"]
            table.add_row("P(insolvency)", f"{entry['p_insolvency']:.1%} [{lo:.1%}, {hi:.1%}]")
            tail = entry["tail"]
            if tail["available"]:
                ci = tail["shape_ci"]
                band = f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else " (no CI)"
                note = f" ({len(tail['warnings'])} warning(s))" if tail["warnings"] else ""
                table.add_row("tail shape ξ (GPD)", f"{tail['shape']:.2f}{band}{note}")
            else:
                table.add_row("tail shape ξ (GPD)", tail["reason"])
        for name, label in (("liquidation_volume_usd", "liquidation volume mean"),
                            ("insurance_fund_drawn_usd", "insurance fund drawn mean")):
            if name in metrics:
                table.add_row(label, _usd(metrics[name]["mean"]))
        tables.append(table)
    return tables


def _usd(v: float) -> str:
    return f"${v:,.0f}" if abs(v) >= 100 else f"${v:,.2f}"


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _evaluator(fast: bool, paths: int, seed: int, blocks: int | None, ex: Any,
               workers: int | None = None) -> Any:
    import os

    from defisim.montecarlo.points import EngineEvaluator, ScreenEvaluator

    if fast:
        return ScreenEvaluator(paths, seed, blocks, workers=workers or os.cpu_count() or 1)
    return EngineEvaluator(paths, seed, blocks, {"executor": ex})


def _bound_params(spec: Any, texts: list[str] | None) -> Any:
    from defisim.montecarlo.grid import GridError, bind, parse_params

    if not texts:
        fail("give at least one --param PATH=LO:HI:STEP (e.g. "
             "protocols.aave.reserves.WETH.liquidation_threshold=0.75:0.90:0.01)")
    try:
        return bind(spec, parse_params(texts))
    except GridError as exc:
        fail(str(exc))


def sweep(
    scenario: ScenarioArg = None,
    param: ParamOpt = None,
    metric: Annotated[str, typer.Option("--metric", "-m", help="Output statistic [PROTOCOL.]METRIC.STAT, e.g. bad_debt.var99, aave.liquidation_volume.mean")] = "bad_debt.var99",
    paths: PathsOpt = 200,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    blocks: BlocksOpt = None,
    sobol: Annotated[int | None, typer.Option("--sobol", help="Sample N·(d+2) points (N a power of two) for Sobol indices instead of the full grid")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder (default: runs/<scenario name>-sweep)")] = None,
    resume: ResumeOpt = False,
    fast: FastOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a grid over one or more parameters: the statistic at every point, a tornado chart
    (one at a time) and Sobol indices (first order and total), as JSON, CSV and PNG."""
    from defisim.montecarlo.objective import ObjectiveError, parse_statistic
    from defisim.montecarlo.study_report import write_sweep_outputs
    from defisim.montecarlo.sweep import run_sweep

    _check_common(paths, workers, blocks, seed)
    spec = load(scenario)
    params = _bound_params(spec, param)
    try:
        statistic = parse_statistic(metric, [p.name for p in getattr(spec, "protocols", [])])
    except ObjectiveError as exc:
        fail(f"--metric {exc}")
    if sobol is not None and (sobol < 2 or sobol & (sobol - 1)):
        fail(f"--sobol must be a power of two >= 2, got {sobol}")
    base = Path("runs") / f"{spec.name}-sweep"
    target = out if out is not None else (base if resume else free_dir(base))
    run_seed = spec.seed if seed is None else seed
    with _failures(target):
        with _executor(workers, scheduler, fast) as ex, progress_bar(spec.name, "paths", quiet) as tick:
            result = run_sweep(spec, params, statistic, _evaluator(fast, paths, run_seed, blocks, ex, workers),
                               target, design="sobol" if sobol else "grid", sobol_samples=sobol,
                               resume=resume, progress=tick)
        written = write_sweep_outputs(result, target)
    _print_sweep(result)
    console.print(f"results: [bold]{target}[/] ({len(result.points)} points × {paths:,} paths; "
                  f"{len(written)} files)", highlight=False)


def _print_sweep(result: Any) -> None:
    from rich.table import Table

    if len(result.points) <= 60:
        table = Table(title=f"{result.statistic} at each point ({result.paths:,} paths each)",
                      title_justify="left")
        for p in result.params:
            table.add_column(p.path.rsplit(".", 2)[-1] if len(p.path) > 30 else p.path, justify="right")
        table.add_column(result.statistic, justify="right")
        table.add_column("95 % interval", justify="right")
        for r in result.points:
            e = r.estimates[result.statistic]
            table.add_row(*(f"{r.point[p.path]:g}" for p in result.params), _fmt(e.value),
                          "—" if e.lower is None else f"[{_fmt(e.lower)}, {_fmt(e.upper)}]")
        console.print(table)
    if not result.tornado:
        console.print(result.tornado_reason or "no tornado", highlight=False)
    tornado = Table(title="tornado (one at a time, others at the scenario's value)", title_justify="left")
    for col in ("parameter", "low → value", "high → value", "swing"):
        tornado.add_column(col, justify="left" if col == "parameter" else "right")
    for b in result.tornado:
        tornado.add_row(b.param, f"{b.low:g} → {_fmt(b.y_low)}", f"{b.high:g} → {_fmt(b.y_high)}",
                        _fmt(b.swing))
    if result.tornado:
        console.print(tornado)
    if result.sobol is None:
        console.print(f"Sobol indices: none ({result.sobol_reason})", highlight=False)
        return
    s = result.sobol
    table = Table(title=f"Sobol indices ({s.method}, {s.evaluations} points)", title_justify="left")
    for col in ("parameter", "first order", "total"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for i, p in enumerate(s.params):
        ci1 = "" if s.first_ci is None else f" [{s.first_ci[i][0]:.2f}, {s.first_ci[i][1]:.2f}]"
        cit = "" if s.total_ci is None else f" [{s.total_ci[i][0]:.2f}, {s.total_ci[i][1]:.2f}]"
        table.add_row(p, f"{s.first[i]:.3f}{ci1}", f"{s.total[i]:.3f}{cit}")
    console.print(table)


def recommend(
    scenario: ScenarioArg = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Risk target, e.g. 'bad_debt.var99 < 1e6' (comparisons joined by and/or)")] = None,
    param: ParamOpt = None,
    maximize: Annotated[list[str] | None, typer.Option("--maximize", help="A --param path where higher is more capital-efficient")] = None,
    minimize: Annotated[list[str] | None, typer.Option("--minimize", help="A --param path where lower is more capital-efficient")] = None,
    on_estimate: Annotated[bool, typer.Option("--on-estimate", help="Judge the target on point estimates (default: on each statistic's least favourable 95 % interval end)")] = False,
    paths: PathsOpt = 200,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    blocks: BlocksOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder (default: runs/<scenario name>-recommend)")] = None,
    resume: ResumeOpt = False,
    fast: FastOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find the most capital-efficient parameter setting that meets a risk target, with the
    evidence (estimates, intervals and GPD tail quantiles at it and its neighbours).

    Exit 0 with a recommendation, 1 if no value in the range meets the target, 2 on bad input.
    """
    from defisim.montecarlo.objective import ObjectiveError, parse_target
    from defisim.montecarlo.recommend import DirectionError, directions
    from defisim.montecarlo.recommend import recommend as search
    from defisim.montecarlo.study_report import write_recommend_outputs

    _check_common(paths, workers, blocks, seed)
    if target is None:
        fail("give a --target, e.g. --target 'bad_debt.var99 < 1e6'")
    spec = load(scenario)
    params = _bound_params(spec, param)
    try:
        goal = parse_target(target, [p.name for p in getattr(spec, "protocols", [])])
    except ObjectiveError as exc:
        fail(f"--target {exc}")
    given = {p: "max" for p in maximize or []} | {p: "min" for p in minimize or []}
    both = set(maximize or []) & set(minimize or [])
    if both:
        fail(f"{min(both)} is given to both --maximize and --minimize")
    try:
        directions(params, given)
    except DirectionError as exc:
        fail(str(exc))
    base = Path("runs") / f"{spec.name}-recommend"
    folder = out if out is not None else (base if resume else free_dir(base))
    run_seed = spec.seed if seed is None else seed
    with _failures(folder):
        with _executor(workers, scheduler, fast) as ex, progress_bar(spec.name, "paths", quiet) as tick:
            rec = search(spec, params, goal, _evaluator(fast, paths, run_seed, blocks, ex, workers), folder,
                         given_directions=given, robust=not on_estimate, resume=resume, progress=tick)
        written = write_recommend_outputs(rec, folder)
    _print_recommendation(rec)
    console.print(f"results: [bold]{folder}[/] ({len(rec.evaluated)} points × {paths:,} paths; "
                  f"{len(written)} files)", highlight=False)
    if rec.chosen is None:
        raise typer.Exit(1)


def _print_recommendation(rec: Any) -> None:
    from rich.table import Table

    for w in rec.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False)
    if rec.chosen is not None:
        for w in dict.fromkeys(w for e in rec.chosen.result.estimates.values() for w in e.warnings):
            err_console.print(f"[yellow]warning:[/] at the chosen point: {w}", highlight=False)
    rows = ([("chosen", rec.chosen)] if rec.chosen else []) + [("neighbour", n) for n in rec.neighbours]
    table = Table(title=f"target: {rec.target} (judged on {'95 % interval ends' if rec.robust else 'estimates'}; "
                  f"search: {rec.search})", title_justify="left")
    table.add_column("")
    for p in rec.params:
        table.add_column(f"{p.path} ({rec.directions[p.path]})", justify="right")
    stats = list(rec.chosen.result.estimates) if rec.chosen else []
    for s in stats:
        table.add_column(s, justify="right")
        if s.split(".")[-1].startswith("var"):
            table.add_column(f"{s} GPD tail", justify="right")
    table.add_column("meets", justify="center")
    for label, ev in rows:
        cells = [label] + [f"{ev.result.point[p.path]:g}" for p in rec.params]
        for s in stats:
            e = ev.result.estimates[s]
            cells.append(f"{_fmt(e.value)} [{_fmt(e.lower)}, {_fmt(e.upper)}]")
            if s.split(".")[-1].startswith("var"):
                q = (e.tail or {}).get("quantile") or {}
                cells.append(f"{_fmt(q['value'])} [{_fmt(q.get('lower'))}, {_fmt(q.get('upper'))}]"
                             if "value" in q else (e.tail or {}).get("reason", q.get("reason", "—")))
        cells.append("[green]yes[/]" if ev.meets else "[red]no[/]")
        table.add_row(*cells)
    if rows:
        console.print(table)
    if rec.chosen is None:
        console.print(f"[bold red]no setting meets the target[/] among {len(rec.evaluated)} evaluated "
                      "point(s); widen the range toward the safe side", highlight=False)
    else:
        point = ", ".join(f"{k} = {v:g}" for k, v in rec.chosen.result.point.items())
        console.print(f"[bold green]recommended[/]: {point}", highlight=False)
