"""Field-by-field, integer-for-integer comparison of simulator and chain results.

:func:`diff` walks two values of the same shape (frozen dataclasses, tuples, dicts, ints,
strings) and returns one :class:`Mismatch` per differing leaf, with a readable path such
as ``reserves[WETH].liquidity_index`` or ``accounts[alice].scaled_debt[USDC]``. Entries
keyed by name (reserves by asset, accounts by account, ``(asset, amount)`` pairs) are
matched by key, so one missing account does not shift every later comparison.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["Mismatch", "compare", "diff"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One differing leaf: where, the simulator's value, the chain's value."""

    path: str
    simulator: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.path}: simulator {self.simulator!r} != chain {self.chain!r}"


_KEYS = ("asset", "account", "market", "name")


def _key(item: Any) -> str | None:
    if dataclasses.is_dataclass(item):
        if hasattr(item, "market") and hasattr(item, "user"):  # a Morpho position
            return f"{item.market}/{item.user}"
        for k in _KEYS:
            if hasattr(item, k):
                return str(getattr(item, k))
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item[0]
    return None


def _keyed(seq: tuple[Any, ...]) -> dict[str, Any] | None:
    keys = [_key(x) for x in seq]
    if not seq or any(k is None for k in keys) or len(set(keys)) != len(keys):
        return None
    return dict(zip(keys, seq, strict=True))


def _drop_zero_pairs(value: Any) -> Any:
    """``(name, 0)`` pairs mean the same as absent ones (a zero balance)."""
    if isinstance(value, tuple) and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)
                                        and isinstance(x[1], int) for x in value):
        return tuple(x for x in value if x[1] != 0)
    return value


def diff(simulator: Any, chain: Any, path: str = "", *, ignore: frozenset[str] = frozenset()) -> list[Mismatch]:
    """Every leaf where ``simulator`` and ``chain`` differ (empty list: identical).

    ``ignore``: field names to skip anywhere (e.g. ``{"timestamp"}``).
    """
    return [m for m in compare(simulator, chain, path, ignore=ignore) if m.simulator != m.chain]


def compare(simulator: Any, chain: Any, path: str = "", *,
            ignore: frozenset[str] = frozenset()) -> list[Mismatch]:
    """Every compared leaf, equal or not, as (path, simulator, chain) in walk order."""
    out: list[Mismatch] = []
    _walk(simulator, chain, path, ignore, out)
    return out


def _walk(a: Any, b: Any, path: str, ignore: frozenset[str], out: list[Mismatch]) -> None:
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b) and type(a) is type(b):
        for f in dataclasses.fields(a):
            if f.name in ignore:
                continue
            sub = f"{path}.{f.name}" if path else f.name
            _walk(getattr(a, f.name), getattr(b, f.name), sub, ignore, out)
        return
    if isinstance(a, tuple) and isinstance(b, tuple):
        a, b = _drop_zero_pairs(a), _drop_zero_pairs(b)
        ka, kb = _keyed(a), _keyed(b)
        if (ka is not None or not a) and (kb is not None or not b):
            ka, kb = ka or {}, kb or {}
            for k in list(ka) + [k for k in kb if k not in ka]:
                sub = f"{path}[{k}]"
                if k not in kb:
                    out.append(Mismatch(sub, ka[k], None))
                elif k not in ka:
                    out.append(Mismatch(sub, None, kb[k]))
                else:
                    _walk(ka[k], kb[k], sub, ignore, out)
            return
        if len(a) != len(b):
            out.append(Mismatch(f"{path} (length)", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, f"{path}[{i}]", ignore, out)
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _walk(a.get(k), b.get(k), f"{path}[{k}]", ignore, out)
        return
    out.append(Mismatch(path, a, b))
