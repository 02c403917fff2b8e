"""Token amounts in scenario files: ``"2.5 WETH"`` or an integer of base units.

Amounts are converted to exact base-unit ints while the scenario is validated, using the
token table passed as pydantic validation context (``context={"decimals": {...}}``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

_AMOUNT = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)\s+([A-Za-z][A-Za-z0-9.\-]*)\s*$")


def parse_amount(value: Any, decimals: dict[str, int], expected: str | None = None) -> int:
    """Base units of ``value``: an int of base units, or ``"<number> <SYMBOL>"``.

    ``expected`` is the token the amount must be in, when the field fixes it.
    Raises ValueError with a message that names the problem.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(
            f"amount {value!r} must be an integer of base units or a string like '2.5 WETH'"
        )
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"amount {value} is negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"amount {value!r} must be an integer or a string like '2.5 WETH'")
    stripped = value.strip().replace("_", "")
    if stripped.isdigit():
        return int(stripped)
    if stripped.startswith("-"):
        raise ValueError(f"amount {value!r} is negative")
    match = _AMOUNT.match(value)
    if not match:
        raise ValueError(f"amount {value!r} is not '<number> <TOKEN>' or an integer of base units")
    number, symbol = match.group(1).replace("_", ""), match.group(2)
    if symbol not in decimals:
        raise ValueError(f"amount {value!r} names unknown token {symbol!r}")
    if expected is not None and symbol != expected:
        raise ValueError(f"amount {value!r} is in {symbol} but this field holds {expected}")
    try:
        exact = Decimal(number).scaleb(decimals[symbol])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"amount {value!r} is not a number") from exc
    if exact != exact.to_integral_value():
        raise ValueError(
            f"amount {value!r} is not a whole number of base units ({symbol} has "
            f"{decimals[symbol]} decimals)"
        )
    return int(exact)


def _context_decimals(info: ValidationInfo) -> dict[str, int]:
    ctx = info.context or {}
    return dict(ctx.get("decimals", {}))


def _amount(value: Any, info: ValidationInfo) -> int:
    return parse_amount(value, _context_decimals(info))


Amount = Annotated[int, BeforeValidator(_amount)]
"""Base units of some token; the file may say ``"2.5 WETH"``."""


def _token_amounts(value: Any, info: ValidationInfo) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of TOKEN: amount")
    decimals = _context_decimals(info)
    out: dict[str, int] = {}
    for token, raw in value.items():
        if decimals and token not in decimals:
            raise ValueError(f"unknown token {token!r}")
        out[token] = parse_amount(raw, decimals, expected=token)
    return out


TokenAmounts = Annotated[dict[str, int], BeforeValidator(_token_amounts)]
"""Mapping TOKEN -> base units; each value may say ``"2.5 TOKEN"`` (same token)."""
