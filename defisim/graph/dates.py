"""How well a graph's figures match its stated date.

A real-ecosystem graph is assembled from reports of different days. Each figure (a node's
``value_usd`` and ``equity_usd``, an edge's ``value_usd``) is dated by its own ``as_of``, else by
its source's ``as_of``; a figure with neither is undated. Zero figures are not counted (a 0 is a
statement of design, e.g. an isolated market with no reserve, not a measurement of a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from defisim.graph.io import ExposureGraph, as_exposure_graph

__all__ = ["DateCoverage", "FigureDate", "figure_dates"]

NEAR_DAYS = 7
"""Figures at most this many days from ``meta.as_of`` count as near the stated date."""


@dataclass(frozen=True)
class FigureDate:
    """One figure: what it is, its USD value, the day it describes (None: undated)."""

    what: str
    value_usd: float
    day: date | None
    source: str

    def offset_days(self, as_of: date) -> int | None:
        """Days from ``as_of`` (negative: before), None if undated."""
        return None if self.day is None else (self.day - as_of).days


@dataclass(frozen=True)
class DateCoverage:
    """The figures of a graph against its stated date ``as_of``."""

    as_of: date
    figures: tuple[FigureDate, ...]

    def at_date(self) -> list[FigureDate]:
        return [f for f in self.figures if f.day == self.as_of]

    def near(self, days: int = NEAR_DAYS) -> list[FigureDate]:
        """Dated figures 1..``days`` days off."""
        return [f for f in self.figures if f.day is not None and 0 < abs((f.day - self.as_of).days) <= days]

    def far(self, days: int = NEAR_DAYS) -> list[FigureDate]:
        """Dated figures more than ``days`` days off, farthest first."""
        out = [f for f in self.figures if f.day is not None and abs((f.day - self.as_of).days) > days]
        return sorted(out, key=lambda f: -abs((f.day - self.as_of).days))  # type: ignore[operator]

    def undated(self) -> list[FigureDate]:
        return [f for f in self.figures if f.day is None]

    def span(self) -> tuple[date, date] | None:
        """Earliest and latest dated figure, None if none is dated."""
        days = [f.day for f in self.figures if f.day is not None]
        return (min(days), max(days)) if days else None

    def summary(self, days: int = NEAR_DAYS) -> str:
        """One line, e.g. ``43 figures: 18 at 2025-09-01, 9 within 7 days, 12 further (2025-06-20 ..
        2025-09-26), 4 undated``."""
        far = self.far(days)
        parts = [f"{len(self.at_date())} at {self.as_of.isoformat()}", f"{len(self.near(days))} within {days} days"]
        if far:
            first, last = min(f.day for f in far), max(f.day for f in far)  # type: ignore[type-var]
            parts.append(f"{len(far)} further (dated {first.isoformat()} .. {last.isoformat()})")
        else:
            parts.append("0 further")
        parts.append(f"{len(self.undated())} undated")
        return f"{len(self.figures)} figures: " + ", ".join(parts)

    def to_dict(self, days: int = NEAR_DAYS) -> dict[str, Any]:
        """JSON-ready form: counts and every figure with its date and offset."""
        return {
            "as_of": self.as_of.isoformat(), "near_days": days,
            "at_date": len(self.at_date()), "near": len(self.near(days)), "far": len(self.far(days)),
            "undated": len(self.undated()),
            "figures": [{"what": f.what, "value_usd": f.value_usd, "source": f.source,
                         "day": f.day.isoformat() if f.day else None, "offset_days": f.offset_days(self.as_of)}
                        for f in self.figures],
        }


def figure_dates(graph: ExposureGraph | Any) -> DateCoverage:
    """Every non-zero figure of ``graph`` with the day it describes (see the module docstring)."""
    g = as_exposure_graph(graph)
    meta = g.file.meta

    def day(own: date | None, source: str) -> date | None:
        if own is not None:
            return own
        src = meta.sources.get(source)
        return src.as_of if src is not None else None

    figures: list[FigureDate] = []
    for n in g.file.nodes:
        if n.value_usd > 0:
            figures.append(FigureDate(f"{n.id} value", n.value_usd, day(n.as_of, n.source), n.source))
        if n.equity_usd:
            src = n.equity_source or n.source
            figures.append(FigureDate(f"{n.id} equity", n.equity_usd, day(None, src), src))
    for e in g.file.edges:
        if e.value_usd > 0:
            figures.append(FigureDate(f"{e.source} {e.kind} {e.target}", e.value_usd,
                                      day(e.as_of, e.source_ref), e.source_ref))
    return DateCoverage(meta.as_of, tuple(figures))
