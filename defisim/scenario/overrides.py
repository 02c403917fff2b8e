"""Change scenario parameters by dotted path, for scripts and sweeps.

A path names mapping keys and, inside the component sections, components by *name*:
``protocols.aave.reserves.WETH.liquidation_bonus`` or ``chain.blocks``. Numeric list indexes
work too (``markets.0.fee_bps``). The result is validated and cross-checked like a file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from defisim.errors import ScenarioError
from defisim.scenario.loader import scenario_from_dict
from defisim.scenario.models import ScenarioBase


def with_overrides(scenario: ScenarioBase, changes: Mapping[str, Any]) -> ScenarioBase:
    """A new validated scenario with each ``path -> value`` in ``changes`` applied."""
    data = scenario.model_dump(mode="json", exclude_unset=True)
    for path, value in changes.items():
        _set(data, path, value)
    return scenario_from_dict(data, source=f"{scenario.name} (overridden)")


def get_value(scenario: ScenarioBase, path: str) -> Any:
    """The current value at ``path`` (defaults included)."""
    node: Any = scenario.model_dump(mode="json")
    for i, part in enumerate(parts := path.split(".")):
        node = _child(node, part, parts[: i + 1], path)
    return node


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if not all(parts):
        raise ScenarioError([(path, "empty segment in parameter path")])
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        nxt = _child(node, part, parts[: i + 1], path, create=True)
        node = nxt
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, path)] = copy.deepcopy(value)
    elif isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    else:
        raise ScenarioError([(path, f"{'.'.join(parts[:-1])} is a value, not a section")])


def _child(node: Any, part: str, seen: list[str], path: str, create: bool = False) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if isinstance(node, dict):
        if part not in node:
            if create:
                node[part] = {}
                return node[part]
            raise ScenarioError([(path, f"no parameter {'.'.join(seen)!r} in the scenario")])
        return node[part]
    raise ScenarioError([(path, f"{'.'.join(seen[:-1])} is a value, not a section")])


def _index(items: list[Any], part: str, path: str) -> int:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    if part.isdigit() and int(part) < len(items):
        return int(part)
    names = [str(item.get("name")) for item in items if isinstance(item, dict)]
    raise ScenarioError([(path, f"no component named {part!r} here (known: {', '.join(names) or 'none'})")])
