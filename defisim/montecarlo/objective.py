"""Output statistics of a path dataset, and targets over them (fast layer, numpy float64).

A **statistic** is written ``[PROTOCOL.]METRIC.STAT``:

- ``METRIC`` is a recorded metric (:data:`~defisim.montecarlo.dataset.METRICS`), with or
  without its unit suffix: ``bad_debt`` = ``bad_debt_usd``, ``liquidation_volume``,
  ``insurance_fund_drawn``, ``socialized``, ``liquidations``...
- ``PROTOCOL`` picks one protocol's column; without it the per-path values of every
  protocol are **summed** (system-wide bad debt).
- ``STAT`` is ``mean``, ``median``, ``std``, ``max``, ``p_positive`` (alias
  ``p_insolvency``: the share of paths with a value above 0), ``varNN`` (value at risk) or
  ``esNN`` (expected shortfall) where ``NN`` are the digits after ``0.``: ``var99`` is the
  99 % VaR, ``es999`` the 99.9 % expected shortfall (conventions of
  :mod:`~defisim.montecarlo.riskstats`).

:func:`estimate` gives the value and a 95 % interval (percentile bootstrap for VaR, ES,
mean, median and std, seeded, so the same dataset gives the same interval, and never outside
the values the paths took — a normal interval for the mean of mostly-zero bad debt would reach
below zero; Wilson for ``p_positive``; none for ``max``). For VaR it also attaches the
peaks-over-threshold tail quantile with its profile-likelihood interval, when the sample
supports a fit (:func:`~defisim.montecarlo.report.tail_summary`).

A **target** is a comparison of statistics with numbers, joined by ``and``/``or`` (``and``
binds first; no parentheses):
``"bad_debt.var99 < 1e6"``, ``"aave.bad_debt.es99 <= 2.5e6 and liquidations.mean < 400"``.
:func:`parse_target` checks the syntax and every name before any path runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.errors import DefisimError
from defisim.montecarlo.dataset import METRICS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Estimate",
    "ObjectiveError",
    "Statistic",
    "Target",
    "estimate",
    "parse_statistic",
    "parse_target",
]

_SIMPLE_STATS = ("mean", "median", "std", "max", "p_positive")
_LEVEL_STAT = re.compile(r"^(var|es)(\d{2,6})$")
_ALIASES = {"p_insolvency": "p_positive"}
CI = 0.95
N_BOOT = 1000


class ObjectiveError(DefisimError, ValueError):
    """A statistic or target expression does not parse, or names something unknown."""

    def __init__(self, text: str, problem: str) -> None:
        self.text, self.problem = text, problem
        super().__init__(f"{text!r}: {problem}")


@dataclass(frozen=True, slots=True)
class Statistic:
    """A parsed ``[PROTOCOL.]METRIC.STAT``: ``protocol`` is ``None`` for the sum over all."""

    protocol: str | None
    metric: str
    stat: str
    level: float | None = None

    @property
    def name(self) -> str:
        head = f"{self.protocol}." if self.protocol else ""
        return f"{head}{self.metric}.{self.stat}"

    def columns(self, df: pd.DataFrame) -> list[str]:
        """The dataset columns this statistic reads (one, or one per protocol)."""
        if self.protocol is not None:
            col = f"{self.protocol}.{self.metric}"
            if col not in df.columns:
                have = sorted({c.split(".", 1)[0] for c in df.columns if "." in c})
                raise ObjectiveError(self.name, f"the dataset has no column {col!r} "
                                     f"(protocols: {', '.join(have) or 'none'})")
            return [col]
        cols = [c for c in df.columns if "." in c and c.split(".", 1)[1] == self.metric]
        if not cols:
            raise ObjectiveError(self.name, f"the dataset records no {self.metric!r} column")
        return cols

    def values(self, df: pd.DataFrame) -> np.ndarray:
        """Per-path values (float64), summed over protocols when no protocol is named."""
        total = np.zeros(len(df), dtype=np.float64)
        for col in self.columns(df):
            total += np.asarray([float(v) for v in df[col]], dtype=np.float64)
        return total


def parse_statistic(text: str, protocols: Sequence[str] | None = None) -> Statistic:
    """Parse ``[PROTOCOL.]METRIC.STAT``; ``protocols`` (the scenario's) checks the prefix."""
    parts = [p.strip() for p in str(text).strip().split(".")]
    if len(parts) not in (2, 3) or not all(parts):
        raise ObjectiveError(text, "expected [PROTOCOL.]METRIC.STAT, e.g. bad_debt.var99 or "
                             "aave.liquidation_volume.mean")
    protocol = parts[0] if len(parts) == 3 else None
    metric, stat = parts[-2], _ALIASES.get(parts[-1], parts[-1])
    if metric not in METRICS and f"{metric}_usd" in METRICS:
        metric = f"{metric}_usd"
    if metric not in METRICS or METRICS[metric].kind == "base_units":
        known = [m.removesuffix("_usd") for m, spec in METRICS.items() if spec.kind != "base_units"]
        raise ObjectiveError(text, f"unknown metric {parts[-2]!r} (known: {', '.join(known)})")
    if protocol is not None and protocols is not None and protocol not in protocols:
        raise ObjectiveError(text, f"no protocol {protocol!r} in the scenario "
                             f"(protocols: {', '.join(protocols) or 'none'})")
    level = None
    if (m := _LEVEL_STAT.match(stat)) is not None:
        digits = m.group(2)
        level = float("0." + digits)
        if (digits.endswith("0") and len(digits) > 2) or not 0.5 <= level < 1.0:
            raise ObjectiveError(text, f"{parts[-1]!r}: the digits after '0.' of a level from 0.5 "
                                 "to below 1, without trailing zeros (var95, var99, es999, var9999)")
    elif stat not in _SIMPLE_STATS:
        raise ObjectiveError(text, f"unknown statistic {parts[-1]!r} (known: "
                             f"{', '.join(_SIMPLE_STATS)}, p_insolvency, varNN, esNN as in var99, es999)")
    return Statistic(protocol, metric, stat, level)


# --- estimates ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Estimate:
    """A statistic's value on one dataset, with its ``ci`` interval (``None`` if none) and,
    for VaR, the GPD tail quantile (``tail``: a dict as in ``summary.json``, or ``None``)."""

    statistic: str
    value: float
    lower: float | None
    upper: float | None
    n: int
    method: str
    tail: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "value": self.value, "lower": self.lower,
                "upper": self.upper, "ci": CI, "n": self.n, "method": self.method,
                "tail": self.tail, "warnings": list(self.warnings)}


def estimate(stat: Statistic, df: pd.DataFrame, *, rng_seed: int = 0) -> Estimate:
    """``stat`` on the dataset ``df`` with a 95 % interval (see the module docstring)."""
    from defisim.montecarlo.report import tail_summary
    from defisim.montecarlo.riskstats import describe

    x = stat.values(df)
    n = int(x.size)
    if n == 0:
        raise ObjectiveError(stat.name, "the dataset has no paths")
    rng = np.random.default_rng(np.random.SeedSequence(int(rng_seed)))
    if stat.level is not None:
        summary = describe(x, (stat.level,), quantiles=(), rng=rng, n_boot=N_BOOT, ci=CI)
        lv = summary.levels[0]
        value, ci = (lv.var, lv.var_ci) if stat.stat.startswith("var") else (lv.es, lv.es_ci)
        tail = None
        if stat.stat.startswith("var"):
            fit = tail_summary(x, (stat.level,))
            tail = fit if not fit.get("available") else {
                "available": True, "threshold": fit["threshold"], "shape": fit["shape"],
                "shape_ci": fit["shape_ci"], "n_exceed": fit["n_exceed"],
                "quantile": fit["quantiles"][0], "warnings": fit["warnings"]}
        lo, hi = ci if ci is not None else (None, None)
        return Estimate(stat.name, float(value), lo, hi, n, "bootstrap", tail, summary.warnings)
    if stat.stat == "p_positive":
        summary = describe(x, (), quantiles=(), ci=CI)
        lo, hi = summary.p_positive_ci
        return Estimate(stat.name, summary.p_positive, lo, hi, n, "wilson")
    if stat.stat == "max":
        return Estimate(stat.name, float(x.max()), None, None, n, "none")
    fn = {"mean": np.mean, "median": np.median,
          "std": lambda a: np.std(a, ddof=1)}[stat.stat]
    value = float(fn(x)) if (stat.stat != "std" or n > 1) else 0.0
    if n < 2:
        return Estimate(stat.name, value, None, None, n, "bootstrap")
    boots = np.empty(N_BOOT)
    for b in range(N_BOOT):
        boots[b] = fn(x[rng.integers(0, n, n)])
    lo, hi = np.quantile(boots, [(1 - CI) / 2, 1 - (1 - CI) / 2])
    return Estimate(stat.name, value, float(lo), float(hi), n, "bootstrap")


# --- targets --------------------------------------------------------------------------------

_OP_RE = r"<=|>=|<|>"


@dataclass(frozen=True, slots=True)
class Clause:
    """``statistic op bound``, e.g. ``bad_debt.var99 < 1e6`` (``op`` in ``< <= > >=``)."""

    statistic: Statistic
    op: str
    bound: float

    def holds(self, value: float) -> bool:
        return {"<": value < self.bound, "<=": value <= self.bound,
                ">": value > self.bound, ">=": value >= self.bound}[self.op]

    def worst(self, est: Estimate) -> float:
        """The end of ``est``'s interval least favourable to this clause (the value if none)."""
        if self.op in ("<", "<="):
            return est.upper if est.upper is not None else est.value
        return est.lower if est.lower is not None else est.value

    @property
    def text(self) -> str:
        return f"{self.statistic.name} {self.op} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target: ``clauses`` joined by ``any_of`` groups (``or`` of ``and``-groups)."""

    text: str
    groups: tuple[tuple[Clause, ...], ...]

    @property
    def statistics(self) -> tuple[Statistic, ...]:
        seen: dict[str, Statistic] = {}
        for group in self.groups:
            for c in group:
                seen.setdefault(c.statistic.name, c.statistic)
        return tuple(seen.values())

    def check(self, estimates: Mapping[str, Estimate], *, robust: bool) -> bool:
        """Whether the target holds for ``estimates`` (by statistic name): on the point
        values, or with ``robust`` on each interval's least favourable end."""
        def value(c: Clause) -> float:
            est = estimates[c.statistic.name]
            return c.worst(est) if robust else est.value
        return any(all(c.holds(value(c)) for c in group) for group in self.groups)


_NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NAME = r"[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*"
_CLAUSE = re.compile(rf"^\s*(?:(?P<stat>{_NAME})\s*(?P<op>{_OP_RE})\s*(?P<num>{_NUMBER})"
                     rf"|(?P<num2>{_NUMBER})\s*(?P<op2>{_OP_RE})\s*(?P<stat2>{_NAME}))\s*$")


def parse_target(text: str, protocols: Sequence[str] | None = None) -> Target:
    """Parse a target (module docstring); :class:`ObjectiveError` names what is wrong.

    Grammar: ``clause (and clause)* (or clause (and clause)*)*`` with ``clause`` =
    ``STATISTIC OP NUMBER`` or ``NUMBER OP STATISTIC``, ``OP`` one of ``< <= > >=``; no
    parentheses (``and`` binds tighter than ``or``). Protocol names may contain ``-``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ObjectiveError(str(text), "empty target; write e.g. 'bad_debt.var99 < 1e6'")
    if any(c in text for c in "()"):
        raise ObjectiveError(text, "no parentheses: write clauses joined by 'and' / 'or' "
                             "('and' binds first)")
    groups = []
    for alternative in re.split(r"\s+or\s+", text.strip()):
        groups.append(tuple(_clause(part, text, protocols)
                            for part in re.split(r"\s+and\s+", alternative)))
    return Target(text.strip(), tuple(groups))


def _clause(part: str, text: str, protocols: Sequence[str] | None) -> Clause:
    m = _CLAUSE.match(part)
    if m is None:
        raise ObjectiveError(text, _clause_problem(part))
    if m.group("stat") is not None:
        name, op, number = m.group("stat"), m.group("op"), m.group("num")
    else:
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        name, op, number = m.group("stat2"), flipped[m.group("op2")], m.group("num2")
    bound = float(number.replace("_", ""))
    if not math.isfinite(bound):
        raise ObjectiveError(text, f"{number!r} is not a finite number")
    return Clause(parse_statistic(name, protocols), op, bound)


def _clause_problem(part: str) -> str:
    """Why ``part`` is not ``STATISTIC OP NUMBER``, as precisely as can be told."""
    part = part.strip()
    if not part:
        return "does not parse: an empty clause next to 'and' / 'or'"
    ops = re.findall(_OP_RE, part)
    if not ops:
        if "=" in part:
            return f"{part!r}: use <, <=, > or >= in a target"
        return f"{part!r} does not parse: expected STATISTIC < NUMBER, e.g. bad_debt.var99 < 1e6"
    if len(ops) > 1:
        return f"{part!r} is not one comparison STATISTIC < NUMBER"
    left, right = (x.strip() for x in re.split(_OP_RE, part, maxsplit=1))
    if not left or not right:
        return f"{part!r} does not parse: a comparison needs a statistic and a number"
    left_num, right_num = (re.fullmatch(_NUMBER, x) is not None for x in (left, right))
    if left_num and right_num:
        return f"{part!r}: {left!r} is not a statistic such as bad_debt.var99"
    if not left_num and not right_num:
        if re.fullmatch(_NAME, left):
            return f"{part!r}: {right!r} is not a number; compare a statistic with a number"
        return f"{part!r}: {left!r} is not a statistic such as bad_debt.var99"
    stat = right if left_num else left
    return f"{part!r}: {stat!r} is not a statistic such as bad_debt.var99"
