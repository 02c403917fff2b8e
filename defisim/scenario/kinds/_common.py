"""Helpers shared by the built-in kinds: durations in seconds and reference checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from defisim.pricepaths import duration_seconds

if TYPE_CHECKING:
    from defisim.scenario.models import ScenarioBase

Problems = list[tuple[str, str]]


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"duration {value!r} must be whole seconds or a string like '1h'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration {value} must not be negative")
        return value
    if isinstance(value, str):
        seconds = duration_seconds(value)
        if seconds.denominator != 1:
            raise ValueError(f"duration {value!r} is not a whole number of seconds")
        return int(seconds)
    raise ValueError(f"duration {value!r} must be whole seconds or a string like '1h'")


Seconds = Annotated[
    int,
    BeforeValidator(_seconds),
    WithJsonSchema({
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*([0-9]+(\.[0-9]+)?\s*[smhdw]\s*)+$"},
        ],
        "description": "Whole seconds, or a duration such as '90s', '30m', '1h', '2d', '1w'.",
    }),
]
"""Whole seconds; the file may say ``3600`` or ``"1h"``."""


def names(scn: ScenarioBase, section: str) -> dict[str, Any]:
    """Components of ``section`` by name."""
    return {c.name: c for c in getattr(scn, section)}


def need_token(scn: ScenarioBase, token: str, path: str) -> Problems:
    """A problem if ``token`` is not in the scenario's token table."""
    if token in scn.tokens:
        return []
    return [(path, f"unknown token {token!r} (tokens: {', '.join(scn.tokens)})")]


def need_name(scn: ScenarioBase, section: str, name: str, path: str, what: str | None = None) -> Problems:
    """A problem if no component of ``section`` is called ``name``."""
    known = names(scn, section)
    if name in known:
        return []
    label = what or section[:-1]
    return [(path, f"no {label} named {name!r} (known: {', '.join(known) or 'none'})")]
