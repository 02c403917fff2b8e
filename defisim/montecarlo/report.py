"""Summary and plots of a Monte Carlo dataset (fast layer, numpy float64).

>>> from defisim.montecarlo.runner import read_dataset                    # doctest: +SKIP
>>> from defisim.montecarlo.report import summarize_dataset, write_mc_outputs
>>> df = read_dataset("runs/mc")                                           # doctest: +SKIP
>>> summary = summarize_dataset(df, rng_seed=7)                            # doctest: +SKIP
>>> write_mc_outputs(df, summary, "runs/mc")                               # doctest: +SKIP

:func:`summarize_dataset` turns the per-path rows of
:func:`~defisim.montecarlo.runner.read_dataset` into a JSON-safe dict::

    {"format": "defisim.montecarlo.summary/1", "paths": N, "levels": [...], "rng_seed": S,
     "protocols": {"<protocol>": {
         "metrics": {"<metric>": describe(...).as_dict(), ...},   # e.g. "bad_debt_usd",
                                                                   # "tokens_burned_base_units.AAVE"
         "p_insolvency": P(bad debt > 0), "p_insolvency_ci": [lo, hi],   # Wilson, 95 %
         "tail": {"available": true, "threshold": u, "shape": ξ, "shape_ci": [lo, hi] | null,
                  "scale": σ, "n_exceed": k, "threshold_choice": {...}, "fit": {...},
                  "quantiles": [{"level": a, "value": x, "lower": .., "upper": .., ...}
                                | {"level": a, "reason": "..."}],
                  "warnings": [...]}
               | {"available": false, "reason": "no tail fit: <why>"}}}}

Units pass through: ``*_usd`` metrics in USD, counts as counts, token burns in token base
units (converted to float64 for the statistics). ``run_seconds`` (wall time) is left out, so
the same dataset always gives the same summary: VaR/ES bootstrap intervals draw from
``SeedSequence(rng_seed, spawn_key=(i,))`` for the ``i``-th column in sorted order.

**Tail fit** (bad debt only): :func:`~defisim.montecarlo.evt.choose_threshold` with
``min_exceedances = max(10, min(50, N // 10))``, so a few hundred paths already give a fit
(flagged by the fit's own "sample too small" warning below 30 exceedances), then
:func:`~defisim.montecarlo.evt.fit_gpd`, the shape's 95 % Wald interval, and POT quantiles
at ``levels`` with profile-likelihood intervals. A level at or below the threshold's
quantile has no POT estimate; its entry gives the reason. When the sample cannot support a
fit (all paths equal, too few distinct losses above every candidate threshold) the tail
entry carries the reason instead; this is never an error.

:func:`write_mc_outputs` writes ``summary.json`` and PNG plots under ``out_dir/plots/``, each
atomically (hidden temp file, fsync, rename). It never touches ``manifest.json`` or the
``paths/`` part files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.errors import OutputError
from defisim.montecarlo.dataset import TIMING_COLUMNS, atomic_write, atomic_write_json
from defisim.montecarlo.evt import (
    MIN_EXCEEDANCES,
    choose_threshold,
    fit_gpd,
    mean_excess,
    tail_diagnostics,
    tail_quantile,
)
from defisim.montecarlo.riskstats import StatsError, describe

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "FORMAT",
    "SUMMARY_FILE",
    "json_safe",
    "save_figure",
    "summarize_dataset",
    "tail_min_exceedances",
    "tail_summary",
    "write_mc_outputs",
]

FORMAT = "defisim.montecarlo.summary/1"
"""``format`` field of ``summary.json``."""

SUMMARY_FILE = "summary.json"
PLOTS_DIR = "plots"
BAD_DEBT = "bad_debt_usd"
LIQ_VOLUME = "liquidation_volume_usd"
_ID_COLUMNS = ("path", "path_seed")
_WIDTH_IN, _HEIGHT_IN, _DPI = 12.0, 7.5, 100


# --- summary ------------------------------------------------------------------------------

def tail_min_exceedances(n: int) -> int:
    """Fewest exceedances a candidate threshold needs for ``n`` paths: ``max(10, min(50, n // 10))``."""
    return max(MIN_EXCEEDANCES, min(50, n // 10))


def metric_columns(df: pd.DataFrame) -> dict[str, dict[str, str]]:
    """``{protocol: {metric: column}}`` of every metric column (``<protocol>.<metric>``), in
    column order; ``path``, ``path_seed`` and timing columns are skipped."""
    out: dict[str, dict[str, str]] = {}
    for col in df.columns:
        if col in _ID_COLUMNS or col in TIMING_COLUMNS or "." not in col:
            continue
        protocol, metric = col.split(".", 1)
        out.setdefault(protocol, {})[metric] = col
    return out


def summarize_dataset(
    df: pd.DataFrame,
    *,
    levels: Sequence[float] = (0.95, 0.99, 0.999),
    rng_seed: int | None,
) -> dict[str, Any]:
    """Risk summary of every protocol and metric of a path dataset (see the module docstring).

    ``rng_seed`` seeds the bootstrap intervals of VaR/ES (``None``: no bootstrap). Raises
    :class:`~defisim.montecarlo.riskstats.StatsError` for an empty dataset or bad ``levels``.
    """
    n = len(df)
    if n == 0:
        raise StatsError("df", "a dataset with at least one finished path", "0 rows")
    lv = tuple(float(a) for a in levels)
    columns = metric_columns(df)
    order = sorted(col for metrics in columns.values() for col in metrics.values())
    protocols: dict[str, Any] = {}
    for protocol, metrics in columns.items():
        entry: dict[str, Any] = {"metrics": {}}
        for metric, col in metrics.items():
            rng = None
            if rng_seed is not None:
                seq = np.random.SeedSequence(int(rng_seed), spawn_key=(order.index(col),))
                rng = np.random.default_rng(seq)
            entry["metrics"][metric] = describe(_values(df, col), lv, rng=rng).as_dict()
        if BAD_DEBT in metrics:
            bad = entry["metrics"][BAD_DEBT]
            entry["p_insolvency"] = bad["p_positive"]
            entry["p_insolvency_ci"] = bad["p_positive_ci"]
            entry["tail"] = tail_summary(_values(df, metrics[BAD_DEBT]), lv)
        protocols[protocol] = entry
    return json_safe({"format": FORMAT, "paths": n, "levels": list(lv),
                       "rng_seed": rng_seed, "protocols": protocols})


def _values(df: pd.DataFrame, col: str) -> np.ndarray:
    return np.asarray([float(v) for v in df[col]], dtype=np.float64)


def tail_summary(x: np.ndarray, levels: Sequence[float]) -> dict[str, Any]:
    """POT/GPD tail of one loss sample, or ``{"available": False, "reason": ...}``."""
    try:
        choice = choose_threshold(x, min_exceedances=tail_min_exceedances(x.size))
        fit = fit_gpd(x, choice.threshold)
    except StatsError as exc:  # DegenerateSampleError and friends: too little tail data
        return {"available": False, "reason": f"no tail fit: {exc}"}
    quantiles: list[dict[str, Any]] = []
    for a in levels:
        try:
            quantiles.append(tail_quantile(fit, a).as_dict())
        except StatsError as exc:
            quantiles.append({"level": a, "reason": f"no POT estimate: {exc}"})
    ci = fit.shape_ci(0.95)
    return {
        "available": True,
        "threshold": fit.threshold,
        "n_exceed": fit.n_exceed,
        "shape": fit.shape,
        "shape_ci": None if ci is None else list(ci),
        "scale": fit.scale,
        "threshold_choice": {"level": choice.level, "n_exceed": choice.n_exceed,
                             "reason": choice.reason,
                             "min_exceedances": tail_min_exceedances(x.size)},
        "fit": fit.as_dict(),
        "quantiles": quantiles,
        "warnings": list(fit.warnings),
    }


def json_safe(v: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, tuples to lists, non-finite floats to None."""
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


# --- outputs ------------------------------------------------------------------------------

def write_mc_outputs(df: pd.DataFrame, summary: dict[str, Any],
                     out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``summary.json`` (sorted keys) and the PNG plots into ``out_dir``; return the
    files written (summary first, then plots in protocol order).

    Plots under ``out_dir/plots/``, per protocol ``p``: ``p.histograms.png`` (bad debt and
    liquidation volume per path, USD), ``p.mean_excess.png`` (bad debt mean excess, when the
    bad debt is not constant) and ``p.tail.png`` (log survival of bad debt: empirical
    exceedances vs the fitted GPD, when a tail fit exists). Every file is written atomically.
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise OutputError(f"{out} is not a folder; run the paths into it first")
    written = [out / SUMMARY_FILE]
    atomic_write_json(written[0], summary)
    plots = out / PLOTS_DIR
    try:
        plots.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {plots}: {exc}") from exc
    n = len(df)
    for protocol, metrics in metric_columns(df).items():
        entry = summary["protocols"].get(protocol, {})
        hist = [m for m in (BAD_DEBT, LIQ_VOLUME) if m in metrics]
        if hist and n:
            written.append(save_figure(plots / f"{protocol}.histograms.png", _histograms,
                                 df, protocol, metrics, hist))
        if BAD_DEBT not in metrics or not n:
            continue
        x = _values(df, metrics[BAD_DEBT])
        try:
            me = mean_excess(x)
        except StatsError:
            me = None
        if me is not None and me.thresholds:
            written.append(save_figure(plots / f"{protocol}.mean_excess.png", _mean_excess,
                                 protocol, me, entry.get("tail")))
        tail = entry.get("tail") or {}
        if tail.get("available"):
            written.append(save_figure(plots / f"{protocol}.tail.png", _tail_plot, protocol, x, tail))
    return written


@contextmanager
def _figure() -> Iterator[Figure]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_WIDTH_IN, _HEIGHT_IN), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    try:
        yield fig
    finally:
        fig.clear()


def save_figure(path: Path, draw: Callable[..., None], *args: Any) -> Path:
    """Draw a figure with ``draw(fig, *args)`` (object API, no pyplot); write it atomically."""
    with _figure() as fig:
        draw(fig, *args)
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=_DPI))
    return path


def _histograms(fig: Figure, df: pd.DataFrame, protocol: str, metrics: dict[str, str],
                names: list[str]) -> None:
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        x = _values(df, metrics[name])
        ax.hist(x, bins=min(50, max(5, int(math.sqrt(x.size)))), color="tab:red" if name == BAD_DEBT
                else "tab:blue", alpha=0.8)
        ax.axvline(float(x.mean()), color="black", linestyle="--", label=f"mean {x.mean():,.0f}")
        ax.set_xlabel(f"{name.removesuffix('_usd').replace('_', ' ')} per path (USD)")
        ax.set_ylabel("paths")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{protocol}: distribution over {len(df):,} paths")


def _mean_excess(fig: Figure, protocol: str, me: Any, tail: dict[str, Any] | None) -> None:
    ax = fig.subplots()
    ax.plot(me.thresholds, me.mean_excess, marker=".", color="tab:red", label="mean excess")
    ax.fill_between(me.thresholds, me.lower, me.upper, color="tab:red", alpha=0.2,
                    label=f"{me.ci:.0%} band")
    if tail and tail.get("available"):
        ax.axvline(tail["threshold"], color="black", linestyle="--",
                   label=f"chosen threshold {tail['threshold']:,.0f}")
    ax.set_xlabel("threshold u: bad debt (USD)")
    ax.set_ylabel("mean of bad debt - u above u (USD)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"{protocol}: mean-excess plot of bad debt (linear above a good threshold)")


def _tail_plot(fig: Figure, protocol: str, x: np.ndarray, tail: dict[str, Any]) -> None:
    from scipy import stats

    fit = fit_gpd(x, tail["threshold"])
    diag = tail_diagnostics(fit)
    ax = fig.subplots()
    ax.scatter(diag.values, diag.empirical_sf, s=14, color="tab:red", label="empirical")
    top = max(diag.values)
    grid = np.linspace(fit.threshold, fit.threshold + 1.5 * (top - fit.threshold), 200)
    model = fit.rate * stats.genpareto.sf(grid - fit.threshold, fit.shape, loc=0.0, scale=fit.scale)
    keep = model > 0
    ax.plot(grid[keep], model[keep], color="black",
            label=f"GPD fit: ξ = {fit.shape:.3g}, σ = {fit.scale:,.0f}, u = {fit.threshold:,.0f}")
    ax.set_yscale("log")
    ax.set_xlabel("bad debt (USD)")
    ax.set_ylabel("P(bad debt > x)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    ax.set_title(f"{protocol}: bad-debt tail, {fit.n_exceed} of {fit.n} paths above the threshold")
