"""Times in price-model files: an integer block number or a duration string.

A duration is one or more ``<number><unit>`` parts, e.g. ``"90s"``, ``"30m"``, ``"1h"``,
``"2d"``, ``"1.5h"``, ``"1h30m"``. Units: ``s`` seconds, ``m`` minutes (never months),
``h`` hours, ``d`` days, ``w`` weeks. A duration becomes a block count by dividing by the
block time (seconds per block) and rounding to the nearest block, halves up
(``"30s"`` at 12 s blocks is 2.5 blocks, so block 3). The arithmetic is exact
(``fractions.Fraction``), so the result never depends on float rounding.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["UNIT_SECONDS", "duration_seconds", "to_block", "check_time"]

#: Seconds per duration unit.
UNIT_SECONDS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}

_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[A-Za-z]+)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]+)")
_UNITS_HELP = "use s, m (minutes), h, d or w, e.g. '90s', '30m', '1h', '2d'"


def duration_seconds(text: str) -> Fraction:
    """Parse a duration string into an exact number of seconds.

    Raises ``ValueError`` with a readable message for an unknown unit or bad syntax.
    """
    s = text.strip().replace(" ", "")
    if not s or not _WHOLE.fullmatch(s):
        raise ValueError(
            f"cannot read duration {text!r}: expected an integer block number or a "
            f"duration string; {_UNITS_HELP}"
        )
    total = Fraction(0)
    for number, unit in _PART.findall(s):
        if unit not in UNIT_SECONDS:
            raise ValueError(f"unknown duration unit {unit!r} in {text!r}; {_UNITS_HELP}")
        total += Fraction(number) * UNIT_SECONDS[unit]
    return total


def check_time(value: int | str) -> int | str:
    """Validate a time as written in a model (block number >= 0, or a duration string).

    Returns the value unchanged so the model dumps back to what the user wrote.
    """
    if isinstance(value, bool):  # bool is an int subclass; never a block number
        raise ValueError("a time must be a block number or a duration string, not a bool")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"block number must be >= 0, got {value}")
        return value
    duration_seconds(value)
    return value


def to_block(value: int | str, block_time_s: int) -> int:
    """Convert a time (block number or duration string) to a block number.

    ``block_time_s`` is seconds per block. Durations round to the nearest block, halves up.
    """
    if block_time_s <= 0:
        raise ValueError(f"block_time_s must be a positive number of seconds, got {block_time_s}")
    check_time(value)
    if isinstance(value, int):
        return value
    blocks = duration_seconds(value) / block_time_s
    return math.floor(blocks + Fraction(1, 2))
