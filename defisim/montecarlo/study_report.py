"""Files and plots of a sweep or a recommendation (JSON, CSV, PNG), each written atomically.

Sweep (:func:`write_sweep_outputs`), in ``out_dir``:

- ``sweep.json``: :meth:`~defisim.montecarlo.sweep.SweepResult.as_dict` (every point's
  values and estimate with its interval, tornado bars, Sobol indices or why there are none);
- ``points.csv``: one row per design point: parameter values, value, lower, upper;
- ``plots/response.png``: the statistic against each parameter (one parameter: a line with
  its interval band; two: a heat map; more: one panel per parameter through the baseline);
- ``plots/tornado.png`` (unless the tornado was skipped) and, when indices exist,
  ``plots/sobol.png``.

Recommendation (:func:`write_recommend_outputs`): ``recommend.json`` and
``plots/recommend.png`` (each target statistic against the first parameter at the evaluated
points, interval bars, the bound as a line, the chosen value marked).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.montecarlo.dataset import atomic_write, atomic_write_json
from defisim.montecarlo.report import PLOTS_DIR, json_safe, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from defisim.montecarlo.recommend import Recommendation
    from defisim.montecarlo.sweep import SweepResult

__all__ = ["write_recommend_outputs", "write_sweep_outputs"]


def write_sweep_outputs(result: SweepResult, out_dir: str | Path) -> list[Path]:
    """Write the sweep's JSON, CSV and plots; return the files written."""
    out = Path(out_dir)
    written = [out / "sweep.json", out / "points.csv"]
    atomic_write_json(written[0], json_safe(result.as_dict()))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([p.path for p in result.params] + ["value", "lower", "upper"])
    for r in result.points:
        e = r.estimates[result.statistic]
        w.writerow([r.point[p.path] for p in result.params] + [e.value, e.lower, e.upper])
    blob = buf.getvalue().encode()
    atomic_write(written[1], lambda fh: fh.write(blob))
    plots = out / PLOTS_DIR
    plots.mkdir(exist_ok=True)
    written.append(save_figure(plots / "response.png", _response, result))
    if result.tornado:
        written.append(save_figure(plots / "tornado.png", _tornado, result))
    if result.sobol is not None:
        written.append(save_figure(plots / "sobol.png", _sobol, result))
    return written


def _short(path: str) -> str:
    parts = path.split(".")
    return ".".join(parts[-3:]) if len(parts) > 3 else path


def _response(fig: Figure, result: SweepResult) -> None:
    params = result.params
    stat = result.statistic
    if result.design == "grid" and len(params) == 2:
        ax = fig.subplots()
        a, b = params
        y = result.values().reshape(len(a.values), len(b.values))
        mesh = ax.imshow(y, origin="lower", aspect="auto", cmap="viridis",
                         extent=(-0.5, len(b.values) - 0.5, -0.5, len(a.values) - 0.5))
        ax.set_xticks(range(len(b.values)), [f"{v:g}" for v in b.values], rotation=45)
        ax.set_yticks(range(len(a.values)), [f"{v:g}" for v in a.values])
        ax.set_xlabel(_short(b.path))
        ax.set_ylabel(_short(a.path))
        fig.colorbar(mesh, ax=ax, label=stat)
        ax.set_title(f"{stat} over the grid ({result.paths:,} paths per point)")
        return
    axes = fig.subplots(1, len(params), squeeze=False)[0]
    for ax, p in zip(axes, params):
        others = {q.path: result.baseline[q.path] for q in params if q is not p}
        rows = [r for r in result.points
                if all(math.isclose(float(r.point[k]), float(v)) for k, v in others.items())]
        if result.design != "grid" or not rows:  # sampled design: scatter of every point
            rows = list(result.points)
            ax.scatter([r.point[p.path] for r in rows],
                       [r.estimates[stat].value for r in rows], s=12, alpha=0.6)
        else:
            rows.sort(key=lambda r: r.point[p.path])
            x = np.array([r.point[p.path] for r in rows], dtype=float)
            ests = [r.estimates[stat] for r in rows]
            y = np.array([e.value for e in ests])
            ax.plot(x, y, marker="o", color="tab:blue", label=stat)
            if all(e.lower is not None for e in ests):
                ax.fill_between(x, [e.lower for e in ests], [e.upper for e in ests],
                                color="tab:blue", alpha=0.2, label="95 % interval")
            ax.legend(loc="best", fontsize=8)
        ax.set_xlabel(_short(p.path))
        ax.set_ylabel(stat)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{stat}: response to each parameter ({result.paths:,} paths per point, "
                 f"{result.engine})")


def _tornado(fig: Figure, result: SweepResult) -> None:
    ax = fig.subplots()
    bars = list(result.tornado)[::-1]  # largest swing on top
    base = bars[0].y_base if bars else 0.0
    for i, b in enumerate(bars):
        ax.barh(i, b.y_low - base, left=base, color="tab:blue", alpha=0.8,
                label="at low value" if i == 0 else None)
        ax.barh(i, b.y_high - base, left=base, color="tab:orange", alpha=0.8,
                label="at high value" if i == 0 else None)
    ax.set_yticks(range(len(bars)), [f"{_short(b.param)}\n[{b.low:g}, {b.high:g}]" for b in bars])
    ax.axvline(base, color="black", lw=1)
    ax.set_xlabel(result.statistic)
    ax.set_title(f"Tornado: {result.statistic}, one parameter at a time (baseline {base:,.4g})")
    ax.legend(loc="best")
    ax.grid(axis="x", alpha=0.3)


def _sobol(fig: Figure, result: SweepResult) -> None:
    s = result.sobol
    assert s is not None
    ax = fig.subplots()
    x = np.arange(len(s.params))
    kw: dict[str, Any] = {}
    if s.first_ci is not None and s.total_ci is not None:
        kw = {"first": np.array([[v - lo, hi - v] for v, (lo, hi) in zip(s.first, s.first_ci)]).T.clip(0),
              "total": np.array([[v - lo, hi - v] for v, (lo, hi) in zip(s.total, s.total_ci)]).T.clip(0)}
    ax.bar(x - 0.2, s.first, 0.4, yerr=kw.get("first"), label="first order S_i", color="tab:blue")
    ax.bar(x + 0.2, s.total, 0.4, yerr=kw.get("total"), label="total S_Ti", color="tab:orange")
    ax.set_xticks(x, [_short(p) for p in s.params])
    ax.set_ylim(0, max(1.05, max(s.total) * 1.1))
    ax.set_ylabel("share of the variance")
    ax.set_title(f"Sobol indices of {result.statistic} ({s.method}, {s.evaluations} points)")
    ax.legend(loc="best")
    ax.grid(axis="y", alpha=0.3)


def write_recommend_outputs(rec: Recommendation, out_dir: str | Path) -> list[Path]:
    """Write ``recommend.json`` and ``plots/recommend.png``; return the files written."""
    out = Path(out_dir)
    written = [out / "recommend.json"]
    atomic_write_json(written[0], json_safe(rec.as_dict()))
    if rec.evaluated:
        (out / PLOTS_DIR).mkdir(exist_ok=True)
        written.append(save_figure(out / PLOTS_DIR / "recommend.png", _recommend, rec))
    return written


def _recommend(fig: Figure, rec: Recommendation) -> None:
    from defisim.montecarlo.objective import parse_target

    target = parse_target(rec.target)
    clauses = [c for group in target.groups for c in group]
    p = rec.params[0]
    axes = fig.subplots(1, len(clauses), squeeze=False)[0]
    for ax, c in zip(axes, clauses):
        pts = sorted(rec.evaluated, key=lambda e: e.result.point[p.path])
        x = np.array([e.result.point[p.path] for e in pts], dtype=float)
        ests = [e.result.estimates[c.statistic.name] for e in pts]
        y = np.array([e.value for e in ests])
        lo = np.array([e.value - (e.lower if e.lower is not None else e.value) for e in ests])
        hi = np.array([(e.upper if e.upper is not None else e.value) - e.value for e in ests])
        colors = ["tab:green" if e.meets else "tab:red" for e in pts]
        ax.errorbar(x, y, yerr=np.vstack([lo, hi]).clip(0), fmt="none", ecolor="grey", capsize=3)
        ax.scatter(x, y, c=colors, zorder=3, label="evaluated (green: meets the target)")
        ax.axhline(c.bound, color="black", ls="--", label=f"bound {c.op} {c.bound:g}")
        if rec.chosen is not None:
            ax.axvline(float(rec.chosen.result.point[p.path]), color="tab:green", lw=2, alpha=0.5,
                       label="recommended")
        ax.set_xlabel(_short(p.path))
        ax.set_ylabel(c.statistic.name)
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"recommend: {rec.target} ({'interval' if rec.robust else 'estimate'} criterion, "
                 f"{rec.search})")
