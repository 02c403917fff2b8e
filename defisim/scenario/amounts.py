"""Token amounts in scenario files: ``"2.5 WETH"`` or an integer of base units.

Amounts are converted to exact base-unit ints while the scenario is validated, using the
token table passed as pydantic validation context (``context={"decimals": {...}}``).

Context keys read here:

* ``decimals``: ``{SYMBOL: decimals}`` of every usable token;
* ``unchecked_tokens`` (optional): symbols the file names but whose own entry is invalid
  (or ``"*"`` when the whole token table is unusable). Amounts in such a token are not
  converted: they validate as a placeholder of 1 base unit (so "must be > 0" checks stay
  quiet), because validation already fails on the token itself and "unknown token" on
  every amount that uses it would bury the real problem.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

_AMOUNT = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)\s+([A-Za-z][A-Za-z0-9.\-]*)\s*$")
_BASE_UNITS = re.compile(r"^[0-9][0-9_]*$")


AMOUNT_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?(\s+[A-Za-z][A-Za-z0-9.\-]*)?\s*$"},
    ],
    "description": "Base units (integer) or '<number> <TOKEN>', e.g. '2.5 WETH'.",
}
"""JSON Schema of one amount as a file may write it (editors; the loader checks the rest)."""


def parse_amount(
    value: Any,
    decimals: dict[str, int],
    expected: str | None = None,
    unchecked: frozenset[str] = frozenset(),
) -> int:
    """Base units of ``value``: an int of base units, or ``"<number> <SYMBOL>"``.

    ``expected`` is the token the amount must be in, when the field fixes it.
    ``unchecked``: symbols whose decimals are unknown because their own entry is invalid
    (``"*"``: all); an amount in one of them returns a placeholder of 1 without complaint
    (the caller's validation fails on that token anyway).
    Raises ValueError with a message that names the problem.
    """
    if isinstance(value, bool):
        raise ValueError(f"amount {value!r} must be an integer of base units or a string like '2.5 WETH'")
    if isinstance(value, float):
        raise ValueError(
            f"amount {value!r} is a float (not exact): write an integer of base units or a "
            "string like '2.5 WETH'"
        )
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"amount {value} is negative")
        return value
    if not isinstance(value, str):
        raise ValueError(f"amount {value!r} must be an integer or a string like '2.5 WETH'")
    stripped = value.strip()
    if _BASE_UNITS.match(stripped):
        return int(stripped.replace("_", ""))
    if stripped.startswith("-"):
        raise ValueError(f"amount {value!r} is negative")
    match = _AMOUNT.match(value)
    if not match:
        raise ValueError(
            f"amount {value!r} is not '<number> <TOKEN>' (e.g. '2.5 WETH') or an integer "
            "of base units"
        )
    number, symbol = match.group(1).replace("_", ""), match.group(2)
    if symbol not in decimals:
        if symbol in unchecked or "*" in unchecked:
            return 1
        known = f" (tokens: {', '.join(decimals)})" if decimals else ""
        raise ValueError(f"amount {value!r} names unknown token {symbol!r}{known}")
    if expected is not None and symbol != expected:
        raise ValueError(f"amount {value!r} is in the wrong token: {symbol}, but this amount is in {expected}")
    # Fraction, not Decimal: Decimal arithmetic rounds to the context's 28 digits, which
    # silently changed amounts with more significant digits than that.
    exact = Fraction(number) * 10 ** decimals[symbol]
    if exact.denominator != 1:
        raise ValueError(
            f"amount {value!r} is not a whole number of base units ({symbol} has "
            f"{decimals[symbol]} decimals)"
        )
    return exact.numerator


def _context_decimals(info: ValidationInfo) -> dict[str, int]:
    ctx = info.context or {}
    return dict(ctx.get("decimals") or {})


def _context_unchecked(info: ValidationInfo) -> frozenset[str]:
    ctx = info.context or {}
    return frozenset(ctx.get("unchecked_tokens") or ())


def _amount(value: Any, info: ValidationInfo) -> int:
    return parse_amount(value, _context_decimals(info), unchecked=_context_unchecked(info))


Amount = Annotated[int, BeforeValidator(_amount), WithJsonSchema(AMOUNT_JSON_SCHEMA)]
"""Base units of some token; the file may say ``"2.5 WETH"``."""


def amount_in(token_field: str) -> Any:
    """An amount type whose token is named by the earlier field ``token_field`` of the model.

    ``initial: amount_in("asset") = 0`` rejects ``initial: "5 WETH"`` when ``asset: USDC``
    (the field must be declared after ``token_field``; pydantic validates in order).
    """

    def _validate(value: Any, info: ValidationInfo) -> int:
        token = info.data.get(token_field) if info.data else None
        return parse_amount(
            value, _context_decimals(info), expected=token if isinstance(token, str) else None,
            unchecked=_context_unchecked(info),
        )

    return Annotated[int, BeforeValidator(_validate), WithJsonSchema(AMOUNT_JSON_SCHEMA)]


def _line_error(token: Any, raw: Any, message: str) -> Any:
    return {
        "type": PydanticCustomError("amount", "{message}", {"message": message}),
        "loc": (token,),
        "input": raw,
    }


def _token_amounts(value: Any, info: ValidationInfo) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("must be a mapping of TOKEN: amount")
    decimals = _context_decimals(info)
    unchecked = _context_unchecked(info)
    out: dict[str, int] = {}
    errors: list[Any] = []
    for token, raw in value.items():
        if not isinstance(token, str):
            errors.append(_line_error(token, raw, f"token {token!r} must be a symbol string"))
            continue
        if decimals and token not in decimals and token not in unchecked and "*" not in unchecked:
            errors.append(_line_error(
                token, raw, f"unknown token {token!r} (tokens: {', '.join(decimals)})"
            ))
            continue
        try:
            out[token] = parse_amount(raw, decimals, expected=token, unchecked=unchecked)
        except ValueError as exc:
            errors.append(_line_error(token, raw, str(exc)))
    if errors:
        # A ValidationError raised in a validator keeps its line errors' locations, so each
        # problem is reported under its own key (``markets.0.liquidity.WETH``).
        raise ValidationError.from_exception_data("TokenAmounts", errors)
    return out


TokenAmounts = Annotated[
    dict[str, int],
    BeforeValidator(_token_amounts),
    WithJsonSchema({"type": "object", "additionalProperties": AMOUNT_JSON_SCHEMA}),
]
"""Mapping TOKEN -> base units; each value may say ``"2.5 TOKEN"`` (same token)."""
