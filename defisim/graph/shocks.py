"""Shocks: the initial distress ``h(0)`` that DebtRank propagates.

Three shapes (as in graph files), each turned into initial distress of one node:

- asset shock ``{asset: ID, drop: f}``: the asset's price falls by the fraction f, so
  ``h(asset) = f`` (an asset's buffer is its market value: a 30 % fall loses 30 % of it);
- protocol shock ``{protocol: ID, collateral_loss: f}``: the protocol's collateral loses the
  fraction f of its USD value, so ``h(protocol) = min(1, f * C / E)`` with C the USD of its
  ``collateral_held_in`` edges (its ``value_usd`` if it has none) and E its buffer;
- node shock ``{node: ID, distress: f}``: ``h(node) = f`` directly.

On the command line a shock is a file shock's name, or ``ID=-30%`` / ``ID=-0.3`` (an asset:
price drop; a protocol: collateral loss; any other node: distress), or ``ID=100%`` (distress of
any node, also an asset or protocol, written with no minus sign).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from defisim.graph.impact import ImpactMatrix, impact_matrix
from defisim.graph.io import ExposureGraph
from defisim.graph.schema import AssetShock, GraphError, NodeShock, ProtocolShock

__all__ = ["ResolvedShock", "initial_distress", "initial_level", "parse_shock", "resolve_shock",
           "scaled_shock"]

LAYER = "fast"

@dataclass(frozen=True, slots=True)
class ResolvedShock:
    """A shock as initial distress: ``h0`` maps node id -> distress in (0, 1]."""

    name: str
    h0: dict[str, float]
    description: str = ""
    kind: str = "node"
    """``asset`` (fraction = price drop), ``protocol`` (collateral loss) or ``node``."""
    target: str = ""
    fraction: float = 0.0


def resolve_shock(graph: ExposureGraph, shock: object) -> ResolvedShock:
    """Turn a file shock, a shock text (see the module docstring) or ``{id: h}`` into h(0)."""
    if isinstance(shock, ResolvedShock):
        _check_ids(graph, shock.h0)
        return shock
    if isinstance(shock, (AssetShock, ProtocolShock, NodeShock)):
        target, fraction, kind = _fields(shock)
        return scaled_shock(graph, target, fraction, kind=kind, name=shock.name,
                            description=shock.description)
    if isinstance(shock, str):
        return parse_shock(graph, shock)
    if isinstance(shock, dict):
        h0 = {str(k): float(x) for k, x in shock.items()}
        _check_ids(graph, h0)
        for k, x in h0.items():
            if not 0.0 <= x <= 1.0:
                raise GraphError(f"initial distress of {k!r} must be in [0, 1], got {x}")
        return ResolvedShock(name=", ".join(f"{k}={x:g}" for k, x in h0.items()), h0=h0)
    raise TypeError(f"not a shock: {shock!r}")


def _fields(shock: AssetShock | ProtocolShock | NodeShock) -> tuple[str, float, str]:
    if isinstance(shock, AssetShock):
        return shock.asset, shock.drop, "asset"
    if isinstance(shock, ProtocolShock):
        return shock.protocol, shock.collateral_loss, "protocol"
    return shock.node, shock.distress, "node"


def scaled_shock(graph: ExposureGraph, target: str, fraction: float, kind: str | None = None,
                 name: str | None = None, description: str = "") -> ResolvedShock:
    """A shock of size ``fraction`` on ``target`` (kind: asset, protocol, node; default by the
    node's kind: asset -> price drop, protocol -> collateral loss, else distress)."""
    m = impact_matrix(graph)
    _check_ids(graph, {target: fraction})
    node_kind = str(m.kinds[m.index[target]])
    if kind is None:
        kind = node_kind if node_kind in ("asset", "protocol") else "node"
    if not 0.0 < fraction <= 1.0:
        raise GraphError(f"shock size for {target!r} must be in (0, 1], got {fraction}")
    h = float(initial_level(m, target, fraction, kind))
    label = name or _default_name(target, fraction, kind)
    return ResolvedShock(name=label, h0={target: h}, description=description, kind=kind,
                         target=target, fraction=fraction)


def initial_level(m: ImpactMatrix, target: str, fraction: float | np.ndarray, kind: str) -> np.ndarray:
    """Initial distress of ``target`` for a shock of size ``fraction`` (vectorised in it)."""
    f = np.asarray(fraction, dtype=np.float64)
    if kind != "protocol":
        return np.minimum(1.0, f)
    i = m.index[target]
    c = m.collateral[i] if m.collateral[i] > 0 else m.value[i]
    if m.E[i] <= 0:
        return np.where((f > 0) & (c > 0), 1.0, 0.0)
    return np.minimum(1.0, f * (c / m.E[i]))


def _default_name(target: str, fraction: float, kind: str) -> str:
    if kind == "asset":
        return f"{target} -{fraction * 100:g}%"
    if kind == "protocol":
        return f"{target} collateral -{fraction * 100:g}%"
    return f"{target} distress {fraction * 100:g}%"


_SPEC = re.compile(r"^\s*(?P<id>[^=\s]+)\s*=\s*(?P<sign>[-+]?)\s*(?P<num>\d+(\.\d*)?|\.\d+)\s*(?P<pct>%?)\s*$")


def parse_shock(graph: ExposureGraph, text: str) -> ResolvedShock:
    """A file shock by name (case-insensitive) or ``ID=-30%`` / ``ID=-0.3`` / ``ID=100%``."""
    by_name = {s.name.lower(): s for s in graph.file.shocks}
    if text.strip().lower() in by_name:
        return resolve_shock(graph, by_name[text.strip().lower()])
    match = _SPEC.match(text)
    if match is None:
        names = [s.name for s in graph.file.shocks]
        close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = f" (shocks in the file: {', '.join(repr(n) for n in names)})" if names else ""
        raise GraphError(f"unknown shock {text!r}{hint}{known}; or write ID=-30% (asset price "
                         "drop, protocol collateral loss) or ID=100% (distress of any node)")
    node_id = match["id"]
    fraction = float(match["num"]) / (100.0 if match["pct"] else 1.0)
    _check_ids(graph, {node_id: fraction})
    kind = None if match["sign"] == "-" else "node"
    return scaled_shock(graph, node_id, fraction, kind=kind)


def _check_ids(graph: ExposureGraph, ids: dict[str, float]) -> None:
    m = impact_matrix(graph)
    for node_id in ids:
        if node_id not in m.index:
            close = difflib.get_close_matches(node_id, list(m.ids), n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise GraphError(f"unknown node {node_id!r}{hint}")


def initial_distress(graph: ExposureGraph, shock: ResolvedShock) -> np.ndarray:
    """h(0) as an array over ``impact_matrix(graph).ids``."""
    m = impact_matrix(graph)
    h0 = np.zeros(m.n)
    for node_id, h in shock.h0.items():
        h0[m.index[node_id]] = h
    return h0
