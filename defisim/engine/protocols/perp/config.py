"""Scenario-facing numbers of the perpetual exchange, converted once to exact ints.

Fractions (``maintenance_margin: 0.03``, ``fee: 0.015``) are read from their decimal text
exactly (``Fraction(str(x))``), so ``0.03`` is 30,000 ppm, not the nearest binary float; a
value finer than the scale (1e-6 for ppm, 1e-9 for ppb) is rejected. Floats exist only here.
Each checker raises ``ValueError`` whose message names the field (pydantic adds the path).
"""

from __future__ import annotations

from fractions import Fraction

from defisim.engine.protocols.perp.constants import MAX_FEE_PPM, PPM, RATE_SCALE

__all__ = [
    "check_fee",
    "check_margin_fraction",
    "fraction_to_ppb",
    "fraction_to_ppm",
    "usd_to_quote_units",
]


def _exact(value: float, name: str, scale: int, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} ({value!r}) must be a number")
    exact = Fraction(str(value)) * scale
    if exact.denominator != 1:
        raise ValueError(f"{name} ({value}) is finer than 1 {what}: not a whole number of {what}")
    return exact.numerator


def fraction_to_ppm(value: float, name: str) -> int:
    """Exact ppm of a decimal fraction (``0.03 -> 30_000``); ValueError if not whole ppm."""
    return _exact(value, name, PPM, "ppm")


def fraction_to_ppb(value: float, name: str) -> int:
    """Exact ppb of a decimal fraction (``0.0000125 -> 12_500``); ValueError if not whole ppb."""
    return _exact(value, name, RATE_SCALE, "ppb")


def check_margin_fraction(value: float, name: str) -> int:
    """ppm of a margin fraction in (0, 1]."""
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} ({value}) must be in (0, 1], e.g. 0.05 for 20x")
    return fraction_to_ppm(value, name)


def check_fee(value: float, name: str) -> int:
    """ppm of a fee in [0, 5 %]."""
    if not 0.0 <= value <= MAX_FEE_PPM / PPM:
        raise ValueError(f"{name} ({value}) must be in [0, 0.05] (fees are at most 5 %)")
    return fraction_to_ppm(value, name)


def usd_to_quote_units(usd: float, quote_decimals: int, name: str) -> int:
    """Quote base units of a USD figure (the quote token is worth 1 USD), exact."""
    if usd < 0:
        raise ValueError(f"{name} ({usd}) must be >= 0")
    return _exact(usd, name, 10**quote_decimals, f"quote base unit (10^-{quote_decimals})")
