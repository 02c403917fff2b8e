"""Registry of component kinds: a scenario names a kind, the registry knows its spec model.

Each kind is registered once with the section it belongs to (``markets``, ``oracles``,
``protocols``, ``agents``), its pydantic spec model (which has a ``kind: Literal[...]``
field) and a builder ``build(spec, world_builder)`` that adds the engine object to a world.
Third-party plug-ins call :func:`register` before loading scenarios.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

SECTIONS = ("markets", "oracles", "protocols", "agents")


@dataclass(frozen=True, slots=True)
class ComponentKind:
    """One registered kind: its section, spec model and builder."""

    kind: str
    section: str
    spec: type[BaseModel]
    build: Callable[[Any, Any], None]


_KINDS: dict[str, dict[str, ComponentKind]] = {s: {} for s in SECTIONS}
_listeners: list[Callable[[], None]] = []


def register(kind: str, section: str, spec: type[BaseModel], build: Callable[[Any, Any], None]) -> None:
    """Register ``kind`` in ``section``; re-registering the same kind replaces it."""
    if section not in _KINDS:
        raise ValueError(f"unknown section {section!r}; expected one of {', '.join(SECTIONS)}")
    _KINDS[section][kind] = ComponentKind(kind, section, spec, build)
    for listener in _listeners:
        listener()


def unregister(kind: str, section: str) -> None:
    """Remove a registered kind (e.g. a test's plug-in); unknown kinds are ignored."""
    if _KINDS.get(section, {}).pop(kind, None) is not None:
        for listener in _listeners:
            listener()


def kinds(section: str) -> dict[str, ComponentKind]:
    """Registered kinds of ``section`` by name."""
    _ensure_builtins()
    return dict(_KINDS[section])


def lookup(section: str, kind: str) -> ComponentKind:
    """The registered kind, or KeyError with a did-you-mean message."""
    known = kinds(section)
    if kind in known:
        return known[kind]
    raise KeyError(unknown_kind_message(section, kind))


def unknown_kind_message(section: str, kind: object) -> str:
    """``unknown kind 'x'; did you mean 'y'? known: ...``."""
    known = sorted(kinds(section))
    close = difflib.get_close_matches(str(kind), known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {section[:-1]} kind {kind!r}{hint} (known: {', '.join(known)})"


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a kind is registered (used to rebuild the scenario model)."""
    _listeners.append(listener)


_builtins_loaded = False


def _ensure_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        from defisim.scenario import kinds as _builtin_kinds  # noqa: F401  (registers on import)
